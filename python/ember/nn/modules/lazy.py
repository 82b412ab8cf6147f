"""Lazy modules (PyTorch's torch.nn.modules.lazy and the Lazy* layers): layers whose input size (in_features,
in_channels, num_features) is read from the first input instead of being given to the constructor.

Until the first forward their parameters are UninitializedParameters (no shape); that forward materialises them
in place with the non-lazy layer's initialisation and turns the module into the non-lazy class (cls_to_become),
so `type(m) is nn.Linear` afterwards. Materialising in place keeps optimizers built before the first forward
valid. load_state_dict into a lazy module materialises from the checkpoint's shapes.
"""

from __future__ import annotations

import itertools
from typing import Any

from ... import _C
from ..._C import Tensor
from ..._creation import tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, _ConvNd
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm
from .linear import Linear

__all__ = [
    "LazyModuleMixin",
    "LazyLinear",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]


class LazyModuleMixin:
    """Mixin of modules whose parameters' shapes come from their first input (PyTorch's LazyModuleMixin).

    A forward pre-hook calls `initialize_parameters(*args, **kwargs)` on the first call, checks nothing is left
    uninitialized, removes itself and the load hook, and switches the class to `cls_to_become`. A
    load_state_dict pre-hook materialises uninitialized entries to the checkpoint's shapes so that the normal
    copy can follow.
    """

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """As Module's, but an uninitialized entry is saved as itself (detaching would give a shaped tensor)."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if is_lazy(param) or keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if is_lazy(buf) or keep_vars else buf.detach()

    def _lazy_load_hook(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        """Materialises each uninitialized parameter or buffer that the checkpoint has an initialized value for,
        to that value's shape, so that Module's loading copies into it."""
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and param is not None and is_lazy(param):
                input_param = state_dict[key]
                if isinstance(input_param, Tensor) and not is_lazy(input_param):
                    param.materialize(tuple(input_param.shape))
        self._unwrap_materialized_buffers()

    def _unwrap_materialized_buffers(self) -> None:
        """Replaces materialized UninitializedBuffers by plain tensors sharing their storage (the C++ tensor class
        can't be assigned to a Python object's __class__, unlike Parameter's)."""
        for name, buf in self._buffers.items():
            if isinstance(buf, UninitializedBuffer) and not is_lazy(buf):
                self._buffers[name] = _C.Tensor(buf).requires_grad_(buf.requires_grad)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Infers the shapes from the forward's arguments and initialises the parameters (each lazy layer's)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer of this module (not its children) is still uninitialized."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(), self._buffers.values()))

    def _infer_parameters(self, module: Any, args: tuple, kwargs: dict | None = None) -> None:
        """The forward pre-hook: initialises, then turns the module into its non-lazy class."""
        module.initialize_parameters(*args, **(kwargs or {}))
        module._unwrap_materialized_buffers()
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _apply(self, fn: Any) -> Any:
        """As Module's, but an uninitialized buffer stays uninitialized (to(dtype) before the first forward
        changes the dtype it will be materialized with)."""
        lazy = {k: b for k, b in self._buffers.items() if is_lazy(b)}
        result = super()._apply(fn)
        for key, buf in lazy.items():
            new = self._buffers[key]
            if new is not buf:
                buf.data = new
                self._buffers[key] = buf
        return result

    def _replicate_for_data_parallel(self) -> None:
        raise RuntimeError(
            "Modules with uninitialized parameters can't be used with `DataParallel`. "
            "Run a dummy forward pass to correctly initialize the modules"
        )


def _factory(device: Any, dtype: _C.dtype | None) -> dict[str, Any]:
    """The keyword arguments of UninitializedParameter/UninitializedBuffer."""
    return {"device": device, "dtype": dtype}


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is inferred from input.shape[-1] on the first forward, after which it is a
    Linear (weight and bias initialised as Linear's)."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: _C.dtype | None = None):
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(**_factory(device, dtype))
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(**_factory(device, dtype))

    def reset_parameters(self) -> None:
        """Linear's initialisation, once the shapes are known (a no-op before)."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """Sets in_features to input.shape[-1], materialises weight and bias and initialises them."""
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        if self.in_features == 0:  # materialized by load_state_dict: in_features is the loaded weight's
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} is not equal to in_features from "
                    f"self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]


class _LazyConvXdMixin(LazyModuleMixin):
    """The inference shared by the lazy convolutions: in_channels from dim 1 (dim 0 for unbatched inputs)."""

    def _init_lazy(self, out_channels: int, bias: bool, device: Any, dtype: _C.dtype | None) -> None:
        """Replaces the placeholder parameters of the 0-channel parent by uninitialized ones."""
        self.weight = UninitializedParameter(**_factory(device, dtype))
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(**_factory(device, dtype))

    def reset_parameters(self) -> None:
        """The convolution's initialisation, once the shapes are known (a no-op before)."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """Sets in_channels from the input, materialises weight and bias and initialises them."""
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()
        elif self.in_channels == 0:  # materialized by load_state_dict (PyTorch leaves in_channels at 0 there)
            w = self.weight.shape
            self.in_channels = w[0] if self.transposed else w[1] * self.groups

    def _get_in_channels(self, input: Tensor) -> int:
        nd = self._dims
        if input.dim() not in (nd + 1, nd + 2):
            raise RuntimeError(
                f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {self.__class__.__name__}, "
                f"but got input of size: {input.shape}"
            )
        return input.shape[1] if input.dim() == nd + 2 else input.shape[0]


def _lazy_conv(name: str, parent: type[_ConvNd]) -> type:
    """A lazy forward convolution class over `parent` (Conv1d/2d/3d)."""

    def __init__(
        self,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: str | int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        # LazyModuleMixin.__init__ registers the hooks, then runs parent's with 0 channels and no bias.
        LazyModuleMixin.__init__(
            self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype
        )
        self._init_lazy(out_channels, bias, device, dtype)

    doc = f"""A {parent.__name__} whose in_channels is inferred from the first input (dim 1, or dim 0 unbatched),
    after which it is a {parent.__name__}."""
    return _make_lazy(name, parent, __init__, doc)


def _lazy_conv_transpose(name: str, parent: type[_ConvNd]) -> type:
    """A lazy transposed convolution class over `parent` (ConvTranspose1d/2d/3d)."""

    def __init__(
        self,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        output_padding: int | tuple[int, ...] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, ...] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        LazyModuleMixin.__init__(
            self,
            0,
            0,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            False,
            dilation,
            padding_mode,
            device,
            dtype,
        )
        self._init_lazy(out_channels, bias, device, dtype)

    doc = f"""A {parent.__name__} whose in_channels is inferred from the first input (dim 1, or dim 0 unbatched),
    after which it is a {parent.__name__}."""
    return _make_lazy(name, parent, __init__, doc)


def _make_lazy(name: str, parent: type, init: Any, doc: str) -> type:
    """The class `name`(_LazyConvXdMixin, parent) with the given __init__; one factory for the six convs."""
    init.__qualname__ = f"{name}.__init__"
    namespace = {"cls_to_become": parent, "__init__": init, "__doc__": doc, "__module__": __name__}
    return type(name, (_LazyConvXdMixin, parent), namespace)


LazyConv1d = _lazy_conv("LazyConv1d", Conv1d)
LazyConv2d = _lazy_conv("LazyConv2d", Conv2d)
LazyConv3d = _lazy_conv("LazyConv3d", Conv3d)
LazyConvTranspose1d = _lazy_conv_transpose("LazyConvTranspose1d", ConvTranspose1d)
LazyConvTranspose2d = _lazy_conv_transpose("LazyConvTranspose2d", ConvTranspose2d)
LazyConvTranspose3d = _lazy_conv_transpose("LazyConvTranspose3d", ConvTranspose3d)


class _LazyNormBase(LazyModuleMixin):
    """The lazy batch and instance norms: num_features from dim 1 of the first input (dim 0 for an unbatched
    instance-norm input). Defaults are PyTorch's _LazyNormBase's (affine and running statistics on, also for the
    lazy instance norms)."""

    def __init__(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: _C.dtype | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        kw = _factory(device, dtype)
        if affine:
            self.weight = UninitializedParameter(**kw)
            if bias:
                self.bias = UninitializedParameter(**kw)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**kw)
            self.running_var = UninitializedBuffer(**kw)
            self.num_batches_tracked = tensor(0, dtype=_C.dtype.int64, device=device)

    def reset_parameters(self) -> None:
        """The norm's initialisation (ones, zeros, reset statistics) once the shapes are known."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _num_features_of(self, input: Tensor) -> int:
        return input.shape[1]

    def initialize_parameters(self, input: Tensor) -> None:
        """Sets num_features from the input, materialises weight, bias and the running statistics."""
        if self.has_uninitialized_params():
            self.num_features = self._num_features_of(input)
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(self, name)
                if t is not None and is_lazy(t):
                    t.materialize((self.num_features,))
            self._unwrap_materialized_buffers()
            self.reset_parameters()
        elif self.num_features == 0:  # materialized by load_state_dict
            self.num_features = self._num_features_of(input)


def _lazy_norm(name: str, parent: type[_BatchNorm]) -> type:
    """A lazy norm class over `parent` (BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d)."""
    base = _LazyInstanceNormBase if issubclass(parent, _InstanceNorm) else _LazyNormBase
    doc = f"""A {parent.__name__} whose num_features is inferred from the first input, after which it is a
    {parent.__name__}."""
    return type(name, (base, parent), {"cls_to_become": parent, "__doc__": doc, "__module__": __name__})


class _LazyInstanceNormBase(_LazyNormBase):
    """Instance norms also take unbatched (C, *) inputs, whose channels are dim 0 (PyTorch reads dim 1 there,
    which is a spatial size)."""

    def _num_features_of(self, input: Tensor) -> int:
        return input.shape[0] if input.dim() == self._spatial_dims + 1 else input.shape[1]


LazyBatchNorm1d = _lazy_norm("LazyBatchNorm1d", BatchNorm1d)
LazyBatchNorm2d = _lazy_norm("LazyBatchNorm2d", BatchNorm2d)
LazyBatchNorm3d = _lazy_norm("LazyBatchNorm3d", BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm("LazyInstanceNorm1d", InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm("LazyInstanceNorm2d", InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm("LazyInstanceNorm3d", InstanceNorm3d)
