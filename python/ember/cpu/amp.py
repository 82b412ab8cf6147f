"""ember.cpu.amp: PyTorch's deprecated torch.cpu.amp names (FutureWarning, then torch.amp's behaviour)."""

from ..amp._deprecated import CpuAutocast as autocast
from ..amp._deprecated import CpuGradScaler as GradScaler

__all__ = ["GradScaler", "autocast"]
