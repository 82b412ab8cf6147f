"""ember._inductor: ``torch._inductor.config``, the compiler settings scripts set before ``torch.compile``
(litgpt). ember compiles nothing (``ember.compile`` returns the function or module), so they change nothing."""

from . import config  # noqa: F401
