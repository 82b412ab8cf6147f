"""ember.ao.quantization, as ``torch.ao.quantization``: what a float model's definition uses. ember has no
quantized tensors, so ``QuantStub``/``DeQuantStub`` are what they are before conversion in PyTorch (they
pass their input through), and the steps that would quantize a model (``prepare``, ``convert``,
``fuse_modules``, the observers) raise NotImplementedError. A quantization-ready model (torchvision's
quantizable ResNet) builds and runs in float."""

from __future__ import annotations

from typing import Any, NamedTuple

from ...nn import Module

__all__ = [
    "DeQuantStub", "QConfig", "QuantStub", "convert", "default_observer", "default_per_channel_weight_observer",
    "default_weight_observer", "fuse_modules", "fuse_modules_qat", "get_default_qat_qconfig", "get_default_qconfig",
    "prepare", "prepare_qat",
]  # fmt: skip


class QuantStub(Module):
    """Where a quantized model would quantize its input; before conversion (always, in ember) the identity."""

    def __init__(self, qconfig: Any = None) -> None:
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x: Any) -> Any:
        return x


class DeQuantStub(QuantStub):
    """Where a quantized model would return to float; before conversion (always, in ember) the identity."""


class QConfig(NamedTuple):
    """A quantization configuration: the observer factories for activations and weights."""

    activation: Any
    weight: Any


def _no_quantization(what: str) -> NotImplementedError:
    return NotImplementedError(f"ember.ao.quantization.{what}: ember has no quantized tensors, so it cannot quantize")


def prepare(model: Any, inplace: bool = False, **kwargs: Any) -> Any:
    """Would insert observers into ``model``: raises NotImplementedError (ember does not quantize)."""
    raise _no_quantization("prepare")


def prepare_qat(model: Any, mapping: Any = None, inplace: bool = False) -> Any:
    """Would prepare ``model`` for quantization-aware training: raises NotImplementedError."""
    raise _no_quantization("prepare_qat")


def convert(module: Any, mapping: Any = None, inplace: bool = False, **kwargs: Any) -> Any:
    """Would swap ``module``'s layers for quantized ones: raises NotImplementedError."""
    raise _no_quantization("convert")


def fuse_modules(model: Any, modules_to_fuse: Any, inplace: bool = False, **kwargs: Any) -> Any:
    """Would fuse conv/bn/relu runs into quantizable modules: raises NotImplementedError."""
    raise _no_quantization("fuse_modules")


def fuse_modules_qat(model: Any, modules_to_fuse: Any, inplace: bool = False, **kwargs: Any) -> Any:
    """As fuse_modules, for quantization-aware training: raises NotImplementedError."""
    raise _no_quantization("fuse_modules_qat")


def get_default_qconfig(backend: str = "x86", version: int = 0) -> QConfig:
    """Would give the backend's post-training configuration: raises NotImplementedError."""
    raise _no_quantization("get_default_qconfig")


def get_default_qat_qconfig(backend: str = "x86", version: int = 1) -> QConfig:
    """Would give the backend's quantization-aware training configuration: raises NotImplementedError."""
    raise _no_quantization("get_default_qat_qconfig")


def default_observer(**kwargs: Any) -> Any:
    """Would make an activation observer: raises NotImplementedError."""
    raise _no_quantization("default_observer")


def default_weight_observer(**kwargs: Any) -> Any:
    """Would make a weight observer: raises NotImplementedError."""
    raise _no_quantization("default_weight_observer")


def default_per_channel_weight_observer(**kwargs: Any) -> Any:
    """Would make a per-channel weight observer: raises NotImplementedError."""
    raise _no_quantization("default_per_channel_weight_observer")
