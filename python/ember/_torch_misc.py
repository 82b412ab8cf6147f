"""Small torch names real programs check or call: the exception classes, build facts
(``has_openmp``, ...), ``get_device``, ``set_default_tensor_type``, the deterministic debug
mode, ``frombuffer``/``from_file``, ``empty_permuted``, ``nonzero_static``, ``fill``,
``binomial``, ``cond``, ``get_device_module``; and the Tensor methods ``layout``,
``get_device``, ``new``, ``as_subclass``, ``const_data_ptr``, ``is_xla``, ``is_set_to``,
``new_empty_strided``, ``resize``/``resize_as``, ``nonzero_static``, ``map2_``,
``module_load``, ``nextafter_``, ``prelu``, ``hardshrink`` and the removed methods that
raise PyTorch's error (``solve``, ``lstsq``, ``eig``, ``symeig``, ``reinforce``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _C, _functorch_c, _jit_types, _meta
from ._C import Tensor
from ._composite import _axis_alias
from .autograd.function import Function

__all__ = [
    "_assert",
    "AcceleratorError",
    "FatalError",
    "OutOfMemoryError",
    "binomial",
    "cond",
    "empty_permuted",
    "fill",
    "from_file",
    "frombuffer",
    "get_deterministic_debug_mode",
    "get_device",
    "get_device_module",
    "hash_tensor",
    "has_lapack",
    "has_mkl",
    "has_openmp",
    "has_spectral",
    "i0_",
    "init_num_threads",
    "nonzero_static",
    "set_default_tensor_type",
    "set_deterministic_debug_mode",
    "set_flush_denormal",
    "slice_inverse",
    "thread_safe_generator",
]


OutOfMemoryError = _C.OutOfMemoryError  # torch.OutOfMemoryError: the CUDA caching allocator raises it


class AcceleratorError(RuntimeError):
    """Raised for an error reported by an accelerator's runtime (torch.AcceleratorError)."""


class FatalError(Exception):
    """A fatal error of the runtime (torch.FatalError)."""


# Build facts, as torch's: OpenMP is what ember's kernels use; LAPACK comes through numpy; no MKL, no FFT.
has_openmp = True
has_lapack = True
has_mkl = False
has_spectral = False


def get_device(input: Tensor) -> int:
    """The index of the tensor's device: -1 for a CPU tensor, as PyTorch."""
    index = input.device.index
    return -1 if input.device.type == "cpu" or index is None else index


def get_device_module(device: Any = None) -> Any:
    """The module of a device type (``ember.cpu`` for "cpu", ``ember.cuda`` for "cuda"); the CPU's by default."""
    from . import cpu, cuda

    kind = "cpu" if device is None else (device if isinstance(device, str) else device.type).split(":")[0]
    modules = {"cpu": cpu, "cuda": cuda}
    if kind not in modules:
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered as 'ember.{kind}'.")
    return modules[kind]


def set_default_tensor_type(t: Any, /) -> None:
    """Deprecated (PyTorch 2.1): sets the default floating dtype from a tensor type or its name
    (``ember.DoubleTensor``, ``"torch.FloatTensor"``); use set_default_dtype."""
    from ._creation import set_default_device, set_default_dtype
    from ._legacy import _target_of_type_arg

    warnings.warn(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use torch.set_default_dtype() and "
        "torch.set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    dtype, device = _target_of_type_arg(t)
    if not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    set_default_dtype(dtype)
    if device == "cuda":  # 'torch.cuda.FloatTensor': new tensors on the GPU, as PyTorch
        set_default_device("cuda")


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    """Deterministic algorithms as a mode: 0/"default" off, 1/"warn" warn only, 2/"error" on."""
    from ._runtime import use_deterministic_algorithms

    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES[debug_mode]
    if not isinstance(debug_mode, int) or debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """The deterministic debug mode: 0 off, 1 warn only, 2 on (see set_deterministic_debug_mode)."""
    from ._runtime import are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled

    if not are_deterministic_algorithms_enabled():
        return 0
    return 1 if is_deterministic_algorithms_warn_only_enabled() else 2


def init_num_threads() -> None:
    """Initialises the thread pool of the calling thread: ember's kernels need no initialisation (a no-op)."""


def set_flush_denormal(mode: bool) -> bool:
    """Flushing denormals to zero is not offered by ember: returns False (PyTorch's answer where unsupported)."""
    return False


def _numpy_dtype(dt: Any, op: str) -> np.dtype:
    """The numpy dtype holding ember dtype dt's bytes (bfloat16 has none)."""
    from ._dtype_info import _NUMPY

    if dt not in _NUMPY:
        raise TypeError(f"{op}: dtype {dt} is not supported (numpy has no such dtype to read the bytes with)")
    return np.dtype(_NUMPY[dt])


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over the memory of an object with the buffer protocol (shared, not copied)."""
    from ._C import from_numpy

    array = np.frombuffer(buffer, dtype=_numpy_dtype(dtype, "frombuffer"), count=count, offset=offset)
    if not array.flags.writeable:  # bytes and other read-only buffers: PyTorch's warning, and a copy here
        warnings.warn(
            "The given buffer is not writable, and PyTorch does not support non-writable tensors. This means you can "
            "write to the underlying (supposedly non-writable) buffer using the tensor. You may want to copy the "
            "buffer to protect its data or make it writable before converting it to a tensor.",
            UserWarning,
            stacklevel=2,
        )
    t = from_numpy(array if array.flags.writeable else array.copy())
    return t.requires_grad_(True) if requires_grad else t


def from_file(
    filename: str,
    shared: bool | None = None,
    size: int = 0,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """A 1-D tensor of ``size`` elements read from a file (``shared=True``: a memory map whose writes reach it)."""
    from ._C import from_numpy
    from ._creation import _check_device, _check_layout_and_pinning, _finish, _pinned, get_default_dtype

    _check_device(device)
    _check_layout_and_pinning(layout, pin_memory, "from_file", device)
    np_dtype = _numpy_dtype(dtype or get_default_dtype(), "from_file")
    if size < 0:
        raise RuntimeError(f"from_file: size must be non-negative, got {size}")
    held = os.path.getsize(filename)
    if held < size * np_dtype.itemsize:
        raise RuntimeError(
            f"from_file: the file {filename!r} holds {held} bytes, fewer than the {size * np_dtype.itemsize} asked for"
        )
    # a memory map, read as it is touched: shared, its writes reach the file; else a private copy-on-write one
    array = (
        np.memmap(filename, dtype=np_dtype, mode="r+" if shared else "c", shape=(size,))
        if size
        else np.empty(0, np_dtype)
    )
    t = from_numpy(np.asarray(array))
    return _pinned(t, pin_memory) if device is None else _finish(t, False, device, pin_memory)  # device=: a copy


def empty_permuted(
    size: Sequence[int],
    physical_layout: Sequence[int],
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """An uninitialised tensor of ``size`` whose dims lie in memory in the order ``physical_layout``
    (outermost first)."""
    from ._tensor_extras import empty_strided

    size, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(
            f"empty_permuted: physical_layout {list(order)} is not a permutation of the dims of size {list(size)}"
        )
    strides = [0] * len(size)
    step = 1
    for d in reversed(order):
        strides[d] = step
        step *= max(size[d], 1)
    return empty_strided(size, strides, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad,
                         pin_memory=pin_memory)  # fmt: skip


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """The indices of input's nonzero elements as nonzero() gives them, cut or padded with fill_value to
    ``size`` rows (a shape known in advance)."""
    if not isinstance(size, int) or size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got size: {size}")
    found = input.nonzero()
    rows = found.shape[0]
    if rows >= size:
        return found[:size].clone()
    from ._C import cat
    from ._creation import _device_of, full

    return cat([found, full((size - rows, input.dim()), fill_value, dtype=found.dtype, device=_device_of(found))])


def fill(input: Tensor, value: float | Tensor) -> Tensor:
    """A new tensor of input's shape and dtype filled with value (the functional form of fill_)."""
    return input.clone().fill_(value)


def i0_(input: Tensor) -> Tensor:
    """In place: input.i0_(), which returns input."""
    return input.i0_()


def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """Samples of Binomial(count, prob), elementwise, of prob's dtype (not differentiable)."""
    from ._composite_shape import broadcast_tensors
    from ._dtype_info import _scalar_name
    from ._householder import _check_tensors
    from ._random import _binomial

    _check_tensors("binomial", count=count, prob=prob)
    for name, t in (("count", count), ("prob", prob)):  # PyTorch's words
        if not t.is_floating_point():
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: {_scalar_name(t.dtype)}")
    if count.dtype != prob.dtype:
        raise RuntimeError(f"Found dtype {_scalar_name(prob.dtype)} but expected {_scalar_name(count.dtype)}")
    count, prob = broadcast_tensors(count, prob)
    if (count.requires_grad or prob.requires_grad) and _C.is_grad_enabled():  # as PyTorch: a node that refuses
        return _Binomial.apply(count, prob, generator)
    return _binomial(count, prob, generator)  # a count of zero or less draws 0 successes, as PyTorch's


class _Binomial(Function):
    """binomial's node when an input requires grad: the samples require grad too, as PyTorch's, and a backward
    through them raises PyTorch's error (the samples have no derivative)."""

    _node_name = "NotImplemented"

    @staticmethod
    def forward(ctx: Any, count: Tensor, prob: Tensor, generator: Any) -> Tensor:
        from ._random import _binomial

        return _binomial(count, prob, generator)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise RuntimeError("derivative for aten::binomial is not implemented")


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any], operands: Any = ()) -> Any:
    """true_fn(*operands) if pred else false_fn(*operands) (pred a bool or a one-element tensor), run eagerly."""
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
        pred = bool(pred.item())
    elif not isinstance(pred, (bool, int)):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expected operands to be a tuple of possibly nested dict/list/tuple but got {operands}")
    return (true_fn if pred else false_fn)(*operands)


# ----------------------------------------------------------------------------------- Tensor methods
@_axis_alias
def hash_tensor(input: Tensor, dim: Any = None, *, keepdim: bool = False, mode: int = 0) -> Tensor:
    """A uint64 hash of input's elements (over ``dim``, one int or several, or all): each element
    upcast to float64 or int64 (bool to 0/1), its 64 bits XOR-reduced, as PyTorch's ``mode=0``."""
    from ._batched import _wrap_dim
    from ._householder import _check_tensors

    _check_tensors("hash_tensor", input=input)
    if mode != 0:
        raise RuntimeError(f"hash_tensor only supports mode=0 (xor reduction), but got mode={mode}")
    bits = _upcast_bits(input)
    named = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(_wrap_dim(d, input.dim(), "hash_tensor") for d in named) or tuple(range(input.dim()))
    if input.dim() == 0:  # a 0-d input is its own hash (dim 0 or -1 names it)
        return _on_device_of(_C.from_numpy(np.array(bits, dtype=np.uint64)), input)
    reduced = np.bitwise_xor.reduce(bits, axis=dims, keepdims=keepdim)
    return _on_device_of(_C.from_numpy(np.array(reduced, dtype=np.uint64, order="C")), input)  # 0-d stays 0-d


def _on_device_of(result: Tensor, input: Tensor) -> Tensor:
    """A result computed on the host, moved to input's device (a 0-d one as one element: the copy of a 0-d
    64-bit integer tensor to CUDA goes through a double and loses the low bits)."""
    if input.device.type != "cuda":
        return result
    return result.reshape(-1).to(input.device).reshape(tuple(result.shape))


def _upcast_bits(input: Tensor) -> np.ndarray:
    """input's values as 64-bit patterns (uint64): floats through float64, integers through int64."""
    t = input.detach()
    wide = t.double() if t.is_floating_point() else t.long()
    return wide.cpu().numpy().view(np.uint64)  # on the host; same item size: any strides, and 0-d stays 0-d


def slice_inverse(
    input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """The inverse of ``src = base[..., start:end:step, ...]`` for functionalization: a view of input's
    memory with src's sizes, strides and offset (as PyTorch's, which reads only src's geometry)."""
    from ._householder import _check_tensors

    _check_tensors("slice_inverse", input=input, src=src)
    return input.as_strided(tuple(src.shape), tuple(src.stride()), src.storage_offset())


def thread_safe_generator() -> Any:
    """The random generator for the current DataLoader thread worker, or None (the global one). ember's
    DataLoader workers are processes, each with its own seeded global generator, so this is always None."""
    return None


def _new(self: Tensor, *args: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Legacy constructor of a tensor of self's dtype: new(*sizes) or new(ember.Size) uninitialised,
    new(sequence or array) of that data, new(tensor) sharing its data, new() empty."""
    from ._creation import _check_device, _device_of, empty, tensor
    from ._tensor import Size

    _check_device(device)
    dtype = dtype or self.dtype
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0] if args[0].dtype == dtype else args[0].to(dtype)
    device = device if device is not None else _device_of(self)  # self's device unless device says
    if len(args) == 1 and isinstance(args[0], Size):
        return empty(*args[0], dtype=dtype, device=device)
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
        return tensor(args[0], dtype=dtype, device=device)
    return empty(*args, dtype=dtype, device=device) if args else empty(0, dtype=dtype, device=device)


def _as_subclass(self: Tensor, cls: type) -> Tensor:
    """self as an instance of the Tensor subclass cls, sharing its data: an alias of self, whose grad_fn is
    AliasBackward0 when self requires grad, as in PyTorch (Note [Torch function dispatch])."""
    if type(self) is _meta.MetaTensor:
        raise NotImplementedError(
            "as_subclass: a meta tensor (a Python object in ember) cannot become an instance of a Tensor subclass"
        )
    return _C._as_subclass(self, cls)


def _to_dense(self: Tensor, dtype: Any = None, *, masked_grad: bool = True) -> Tensor:
    """A strided copy of a sparse tensor; ember's tensors are all strided, so self (converted when ``dtype``
    is given), as PyTorch's ``to_dense`` of a strided tensor."""
    if dtype is not None and not isinstance(dtype, _C.dtype):
        raise TypeError(f"to_dense(): argument 'dtype' (position 1) must be torch.dtype, not {type(dtype).__name__}")
    return self if dtype is None or dtype == self.dtype else self.to(dtype)


def _make_subclass(cls: type, data: Tensor, require_grad: bool = False, **kwargs: Any) -> Tensor:
    """``Tensor._make_subclass(cls, data, require_grad)``: an instance of the Tensor subclass ``cls`` sharing
    ``data``'s memory, a new leaf that requires grad as asked (the dispatch options are PyTorch's and change
    nothing here)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"_make_subclass: expected a subclass of Tensor, got {cls!r}")
    if not isinstance(data, Tensor):  # PyTorch's words
        raise TypeError(f"_make_subclass(): argument 'data' (position 2) must be Tensor, not {type(data).__name__}")
    result = Tensor.__new__(cls)
    Tensor.__init__(result, data.detach())
    result.requires_grad_(require_grad)
    return result


def _is_set_to(self: Tensor, tensor: Tensor) -> bool:
    """Whether self and tensor are the same view: one storage, offset, sizes and strides."""
    return (
        self.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr()
        and self.storage_offset() == tensor.storage_offset()
        and tuple(self.shape) == tuple(tensor.shape)
        and self.stride() == tensor.stride()
    )


def _new_empty_strided(
    self: Tensor,
    size: Sequence[int],
    stride: Sequence[int],
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """ember.empty_strided(size, stride) with self's dtype unless dtype is given."""
    from ._tensor_extras import empty_strided

    return empty_strided(size, stride, dtype=dtype or self.dtype, layout=layout, device=device,
                         requires_grad=requires_grad, pin_memory=pin_memory)  # fmt: skip


def _resize(self: Tensor, *sizes: Any) -> Tensor:
    """Deprecated: self viewed in another shape of as many elements (PyTorch's non-inplace resize)."""
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)) else sizes
    return self.reshape(shape)


def _resize_as(self: Tensor, tensor: Tensor) -> Tensor:
    """Deprecated: self viewed in tensor's shape (PyTorch's non-inplace resize_as)."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return self.reshape(tuple(tensor.shape))


def _map2_(self: Tensor, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]) -> Tensor:
    """Replaces each element s by callable(s, a, b), a and b the matching elements of x and y, in place."""
    from ._creation import _device_of, tensor
    from .grad_mode import no_grad

    if self.requires_grad:
        raise RuntimeError("map2_ is only implemented on CPU tensors that do not require grad")
    xs, ys = (t.expand(self.shape).reshape(-1).tolist() for t in (x, y))
    values = [callable(s, a, b) for s, a, b in zip(self.reshape(-1).tolist(), xs, ys)]
    with no_grad():
        return self.copy_(tensor(values, dtype=self.dtype, device=_device_of(self)).reshape(self.shape))


def _module_load(self: Tensor, other: Tensor, assign: bool = False) -> Tensor:
    """What Module.load_state_dict puts in place of self: other detached (assign=True), else self with
    other's values copied in, detached."""
    if assign:
        return other.detach()
    return self.copy_(other).detach()


def _removed(message: str) -> Callable[..., Any]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(message)

    method.__doc__ = "Removed from PyTorch: raises its RuntimeError, which says what replaced it."
    return method


_REMOVED_1_9 = "This function was deprecated since version 1.9 and is now removed. "
_REMOVED = {
    "solve": _REMOVED_1_9 + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has "
    "its arguments reversed and does not return the LU factorization.\n\nTo get the LU factorization see `torch.lu`, "
    "which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be "
    "replaced with:\nX = torch.linalg.solve(A, B)",
    "lstsq": _REMOVED_1_9 + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has "
    "reversed arguments and does not return the QR decomposition in the returned tuple (although it returns other "
    "information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`.",
    "eig": _REMOVED_1_9 + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real "
    "tensors mimicking complex tensors.",
    "symeig": _REMOVED_1_9 + "The default behavior has changed from using the upper triangular portion of the matrix "
    "by default to using the lower triangular portion.\n\nL, V = torch.symeig(A, eigenvectors=True) should be "
    "replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "reinforce": "reinforce() was removed.\nUse torch.distributions instead.\n"
    "See https://pytorch.org/docs/main/distributions.html",
}


def _nextafter_(self: Tensor, other: Tensor) -> Tensor:
    """In place: the next representable value after each element toward other's."""
    from ._tensor_extras import nextafter
    from .grad_mode import no_grad

    with no_grad():
        return self.copy_(nextafter(self, other))


def _prelu(self: Tensor, weight: Tensor) -> Tensor:
    """F.prelu(self, weight)."""
    from .nn import functional as F

    return F.prelu(self, weight)


def _hardshrink(self: Tensor, lambd: float = 0.5) -> Tensor:
    """F.hardshrink(self, lambd)."""
    from .nn import functional as F

    return F.hardshrink(self, lambd)


def _as_strided_scatter(self: Tensor, src: Tensor, size: Any, stride: Any, storage_offset: Any = None) -> Tensor:
    """ember.as_strided_scatter(self, src, size, stride, storage_offset)."""
    from ._composite_shape import as_strided_scatter

    return as_strided_scatter(self, src, size, stride, storage_offset)


def _geqrf(self: Tensor) -> Any:
    """ember.geqrf(self): (a, tau), the QR decomposition in LAPACK's compact form."""
    from ._householder import geqrf

    return geqrf(self)


def _orgqr(self: Tensor, input2: Tensor) -> Tensor:
    """ember.orgqr(self, input2): the Q of geqrf's compact QR (self, tau)."""
    from ._householder import orgqr

    return orgqr(self, input2)


def _ormqr(self: Tensor, input2: Tensor, input3: Tensor, left: bool = True, transpose: bool = False) -> Tensor:
    """ember.ormqr(self, input2, input3, left, transpose): Q (or Q^T) times input3, Q from (self, input2)."""
    from ._householder import ormqr

    return ormqr(self, input2, input3, left, transpose)


def _absent_device(exception: type, message: str) -> Callable[..., Any]:
    def move(self: Tensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
        raise exception(message)

    move.__doc__ = f"Raises {exception.__name__}: {message} (as PyTorch built without that device)."
    return move


def _record_stream(self: Tensor, stream: Any) -> None:
    """Marks the tensor as used by stream, so that the caching allocator does not reuse its memory before the
    stream's work ends. A device's work all runs on one stream in ember, so there is nothing to wait for."""
    from .cuda.streams import Stream

    if not isinstance(stream, Stream):
        raise TypeError(f"record_stream(): argument 'stream' must be a Stream, not {type(stream).__name__}")
    if self.device.type != "cuda":
        raise RuntimeError(f"record_stream(): expected a CUDA tensor, got one on {self.device}")


_METHODS: dict[str, Any] = {
    "layout": property(lambda self: _strided(), doc="The memory layout: ember.strided (ember's only one)."),
    "get_device": get_device,
    "new": _new,
    "as_subclass": _as_subclass,
    "_make_subclass": staticmethod(_make_subclass),
    "to_dense": _to_dense,
    "const_data_ptr": lambda self: self.data_ptr(),
    "is_xla": property(lambda self: False, doc="Whether the tensor is on an XLA device: never in ember."),
    "is_set_to": _is_set_to,
    "new_empty_strided": _new_empty_strided,
    "resize": _resize,
    "resize_as": _resize_as,
    "nonzero_static": nonzero_static,
    "map2_": _map2_,
    "module_load": _module_load,
    "nextafter_": _nextafter_,
    "prelu": _prelu,
    "hardshrink": _hardshrink,
    "as_strided_scatter": _as_strided_scatter,
    "geqrf": _geqrf,
    "orgqr": _orgqr,
    "ormqr": _ormqr,
    "hash_tensor": hash_tensor,
    "slice_inverse": slice_inverse,
    "name": property(lambda self: None, doc="PyTorch's unnamed tensor's name: always None."),
    "xpu": _absent_device(AssertionError, "ember not compiled with XPU enabled"),
    "mtia": _absent_device(AssertionError, "ember not compiled with MTIA enabled"),
    "ipu": _absent_device(RuntimeError, "ember is not linked with support for ipu devices"),
    "record_stream": _record_stream,
    **{name: _removed(message) for name, message in _REMOVED.items()},
}


def _strided() -> Any:
    from ._creation import strided

    return strided


def install() -> None:
    """Attaches the methods above to ember.Tensor."""
    _METHODS["const_data_ptr"].__doc__ = "The address of the first element (read-only use): data_ptr()."
    _METHODS["const_data_ptr"].__name__ = "const_data_ptr"
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    # torch._C's entry points that libraries call on import (torchmetrics, Lightning, torchvision): usage logging
    _C._log_api_usage_once = _log_api_usage_once
    _C._log_api_usage_metadata = _log_api_usage_once
    _C._TensorMeta = type(Tensor)  # torch._C._TensorMeta: the Tensor class's metaclass
    _C.TensorBase = _C._TensorBase = Tensor  # torch.Tensor's compiled base class: ember's Tensor is its own base
    _C._get_tracing_state = _get_tracing_state
    _C._is_tracing = _is_tracing
    _C._jit_set_profiling_executor = _jit_set_profiling_executor  # speechbrain turns them off on import
    _C._jit_set_profiling_mode = _jit_set_profiling_mode
    _functorch_c.install()  # torch._C._functorch and torch._C._nn
    _jit_types.install(_C)  # torch._C.TensorType, ..., torch._C.Value


_JIT_PROFILING = {"executor": True, "mode": True}


def _jit_profiling_switch(which: str, enabled: bool) -> bool:
    """TorchScript's profiling switches: ember has no TorchScript, so a switch is only remembered. Returns
    the former setting, as PyTorch's."""
    former, _JIT_PROFILING[which] = _JIT_PROFILING[which], bool(enabled)
    return former


def _jit_set_profiling_executor(enabled: bool) -> bool:
    """``torch._C._jit_set_profiling_executor``: remembered only (speechbrain turns it off on import)."""
    return _jit_profiling_switch("executor", enabled)


def _jit_set_profiling_mode(enabled: bool) -> bool:
    """``torch._C._jit_set_profiling_mode``: remembered only."""
    return _jit_profiling_switch("mode", enabled)


def _get_tracing_state() -> None:
    """``torch._C._get_tracing_state``: the TorchScript tracer's state, None when not tracing: always so in
    ember, which has no tracer (pyro asks before drawing)."""
    return None


def _is_tracing() -> bool:
    """``torch._C._is_tracing``: whether the TorchScript tracer runs: never in ember (asteroid asks)."""
    return False


def _log_api_usage_once(*args: Any, **kwargs: Any) -> None:
    """``torch._C._log_api_usage_once``: PyTorch's internal usage logging; ember logs nothing."""


def _assert(condition: Any, message: str) -> None:
    """``torch._assert``: ``assert condition, message`` that a traced program would keep (an AssertionError);
    a traced condition (an fx Proxy) records the call, as PyTorch's (e3nn traces one)."""
    from . import overrides

    if type(condition) is not bool and overrides.has_torch_function((condition,)):
        return overrides.handle_torch_function(_assert, (condition,), condition, message)
    if isinstance(condition, _C.Tensor):
        condition = bool(condition)
    assert condition, message
