"""ember.nn.quantized, as ``torch.nn.quantized``: ``FloatFunctional``, the module a quantization-ready model
does its additions and concatenations through (torchvision's quantizable models). It computes in float, as it
does in PyTorch before conversion; ember has no quantized modules (see ember.ao.quantization)."""

from __future__ import annotations

from typing import Any

from .. import _C
from .modules.linear import Identity
from .modules.module import Module

# PyTorch's quantized layers, by name: they compute on quantized tensors, which ember does not have, so making
# one raises NotImplementedError; libraries import them for optional quantized paths (bayesian-torch).
_QUANTIZED_LAYERS = """BatchNorm2d BatchNorm3d Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d
DeQuantize Dropout ELU Embedding EmbeddingBag GroupNorm Hardswish InstanceNorm1d InstanceNorm2d InstanceNorm3d LayerNorm
LeakyReLU Linear MultiheadAttention PReLU QFunctional Quantize ReLU6 Sigmoid Softmax""".split()

__all__ = ["FloatFunctional", *_QUANTIZED_LAYERS]


class FloatFunctional(Module):
    """The float ops a quantized model would replace: ``add``, ``add_scalar``, ``mul``, ``mul_scalar``,
    ``cat``, ``add_relu`` and ``matmul``. ``forward`` is not to be called (PyTorch's error)."""

    def __init__(self) -> None:
        super().__init__()
        self.activation_post_process = Identity()  # where an observer goes once the model is prepared

    def forward(self, x: Any) -> Any:
        raise RuntimeError("FloatFunctional is not intended to use the 'forward'. Please use the underlying operation")

    def add(self, x: Any, y: Any) -> Any:
        """x + y."""
        return self.activation_post_process(_C.add(x, y))

    def add_scalar(self, x: Any, y: float) -> Any:
        """x + a number (not observed, as in PyTorch)."""
        return _C.add(x, y)

    def mul(self, x: Any, y: Any) -> Any:
        """x * y."""
        return self.activation_post_process(_C.mul(x, y))

    def mul_scalar(self, x: Any, y: float) -> Any:
        """x * a number (not observed, as in PyTorch)."""
        return _C.mul(x, y)

    def cat(self, x: list[Any], dim: int = 0) -> Any:
        """The tensors of ``x`` joined along ``dim``."""
        return self.activation_post_process(_C.cat(x, dim=dim))

    def add_relu(self, x: Any, y: Any) -> Any:
        """relu(x + y)."""
        return self.activation_post_process(_C.relu(_C.add(x, y)))

    def matmul(self, x: Any, y: Any) -> Any:
        """x @ y."""
        return self.activation_post_process(_C.matmul(x, y))


def _quantized_layer(name: str) -> type:
    def __init__(self: Module, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"ember.nn.quantized.{name}: a layer over quantized tensors, which ember does not have (see "
            "ember.ao.quantization)"
        )

    doc = f"PyTorch's quantized ``{name}``: only its name (making one raises NotImplementedError)."
    return type(name, (Module,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


globals().update({name: _quantized_layer(name) for name in _QUANTIZED_LAYERS})
