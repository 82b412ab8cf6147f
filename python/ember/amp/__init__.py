"""ember.amp: automatic mixed precision, as torch.amp: ``autocast`` (real on the CPU: products and
convolutions in bfloat16 or float16, Note [Autocast]) and ``GradScaler``."""

from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
