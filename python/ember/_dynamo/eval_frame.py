"""ember._dynamo.eval_frame, as ``torch._dynamo.eval_frame``: where accelerate and transformers look for the
type of a compiled module (``isinstance(m, OptimizedModule)``, never true in ember: ember.compile returns the
module itself)."""

from . import OptimizedModule

__all__ = ["OptimizedModule"]
