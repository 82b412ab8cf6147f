"""ember.ao.quantization.observer, as ``torch.ao.quantization.observer`` (and ``torch.quantization.observer``):
the observer classes by name, with ``with_args`` to build the factories a ``QConfig`` holds, and PyTorch's
quantization schemes (``ember.per_tensor_affine``, ...). ember has no quantized tensors, so making an observer
raises NotImplementedError (see ember.ao.quantization); libraries that import them for their optional
quantization paths (bayesian-torch) load and run in float."""

from __future__ import annotations

import functools
from typing import Any

from ...nn import Module

__all__ = [
    "FixedQParamsObserver", "HistogramObserver", "MinMaxObserver", "MovingAverageMinMaxObserver",
    "MovingAveragePerChannelMinMaxObserver", "NoopObserver", "ObserverBase", "PerChannelMinMaxObserver",
    "PlaceholderObserver", "RecordingObserver", "UniformQuantizationObserverBase", "qscheme",
]  # fmt: skip


class qscheme:  # noqa: N801  (PyTorch's name)
    """A quantization scheme (``ember.per_tensor_affine``, ...): a named constant, compared by identity."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        from ... import _C

        return f"{str(_C.dtype.float32).split('.')[0]}.{self._name}"  # ember.<name>, or torch.<name> under as_torch

    def __reduce__(self) -> str:
        return self._name


per_tensor_affine = qscheme("per_tensor_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_affine = qscheme("per_channel_affine")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")


class ObserverBase(Module):
    """An observer: it would record the range of the tensors passing through, to choose quantization
    parameters. ember does not quantize, so making one raises NotImplementedError; ``with_args`` works."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"ember.ao.quantization.observer.{type(self).__name__}: ember has no quantized tensors, so it does not "
            "observe ranges to quantize"
        )

    @classmethod
    def with_args(cls, **kwargs: Any) -> Any:
        """A factory that makes the observer with ``kwargs`` (what a QConfig holds)."""
        return functools.partial(cls, **kwargs)


class UniformQuantizationObserverBase(ObserverBase):
    pass


class MinMaxObserver(UniformQuantizationObserverBase):
    pass


class MovingAverageMinMaxObserver(MinMaxObserver):
    pass


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    pass


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    pass


class HistogramObserver(UniformQuantizationObserverBase):
    pass


class FixedQParamsObserver(ObserverBase):
    pass


class PlaceholderObserver(ObserverBase):
    pass


class RecordingObserver(ObserverBase):
    pass


class NoopObserver(ObserverBase):
    pass
