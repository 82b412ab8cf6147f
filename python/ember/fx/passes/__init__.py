"""ember.fx.passes, as ``torch.fx.passes``: ``shape_prop.ShapeProp`` records each node's result shape."""

from . import shape_prop  # noqa: F401
