"""ember.cuda.amp: PyTorch's deprecated torch.cuda.amp names (FutureWarning, then torch.amp's behaviour;
CUDA autocast and GradScaler are disabled with PyTorch's warnings in a build without CUDA)."""

from ..amp._deprecated import CudaAutocast as autocast
from ..amp._deprecated import CudaGradScaler as GradScaler
from ..amp.autocast_mode import custom_bwd, custom_fwd

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]


def amp_definitely_not_available() -> bool:
    """Whether CUDA autocast surely cannot run here: no CUDA GPU (as PyTorch's)."""
    from . import is_available

    return not is_available()
