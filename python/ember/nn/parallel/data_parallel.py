"""DataParallel on one device: a pass-through wrapper, so that scripts written for torch.nn.DataParallel run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import _C
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Runs `module` on the whole batch, on the device the inputs are on.

    PyTorch's DataParallel splits the batch along dim across the GPUs of device_ids, runs a replica of the
    module on each and gathers the outputs on output_device; without a GPU it calls the module directly, and
    so does ember always: ember does not replicate a module across devices. The results are those of the
    module itself (the same as PyTorch's, up to per-replica statistics such as BatchNorm's); only the speed-up
    of several GPUs is missing. The wrapped module is `.module`, so state_dict keys get PyTorch's 'module.'
    prefix; device_ids, output_device and dim are kept for inspection.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Sequence[int | _C.device] | None = None,
        output_device: int | _C.device | None = None,
        dim: int = 0,
    ) -> None:
        super().__init__()
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Returns module(*inputs, **kwargs)."""
        return self.module(*inputs, **kwargs)


def data_parallel(
    module: Module,
    inputs: Any,
    device_ids: Sequence[int | _C.device] | None = None,
    output_device: int | _C.device | None = None,
    dim: int = 0,
    module_kwargs: dict[str, Any] | None = None,
) -> Any:
    """The functional form of DataParallel: module(*inputs, **module_kwargs), on the inputs' device (ember does
    not replicate across devices; see DataParallel)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
