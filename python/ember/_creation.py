"""Tensor creation functions: argument parsing in Python, the work in ember._C."""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

from . import _C, _batched, _complex, _graph_capture, _memory_format, _meta, _names, overrides
from ._C import Tensor, dtype

__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "get_default_device",
    "get_default_dtype",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "set_default_device",
    "set_default_dtype",
    "tensor",
    "zeros",
    "zeros_like",
]

float32 = dtype.float32
float64 = dtype.float64
int32 = dtype.int32
int64 = dtype.int64
bool_ = dtype.bool

# Every numpy dtype ember holds as it is (numpy has no bfloat16).
_NUMPY_TO_DTYPE = {
    np.dtype(np.float16): dtype.float16,
    np.dtype(np.float32): float32,
    np.dtype(np.float64): float64,
    np.dtype(np.uint8): dtype.uint8,
    np.dtype(np.uint16): dtype.uint16,
    np.dtype(np.uint32): dtype.uint32,
    np.dtype(np.uint64): dtype.uint64,
    np.dtype(np.int8): dtype.int8,
    np.dtype(np.int16): dtype.int16,
    np.dtype(np.int32): int32,
    np.dtype(np.int64): int64,
    np.dtype(np.bool_): bool_,
}
_NUMPY_COMPLEX_TO_DTYPE = {np.dtype(np.complex64): dtype.complex64, np.dtype(np.complex128): dtype.complex128}


# What Python floats and the creation functions (tensor, zeros, randn, ...) produce when no dtype is given;
# set_default_dtype also tells the C++ core, whose promotions (int tensor / 2, exp(int tensor)) follow it.
_default_dtype = float32


def get_default_dtype() -> _C.dtype:
    """Returns the default floating point dtype (``ember.float32`` unless ``set_default_dtype`` changed it)."""
    return _default_dtype


def set_default_dtype(d: _C.dtype) -> None:
    """Sets the default floating point dtype (float32 or float64) of creation functions and Python floats.

    It is the dtype of Python floats in ``tensor()`` and of ``zeros``, ``ones``, ``empty``, ``rand``,
    ``randn``, ``full``, ``arange``, ``linspace``, ``eye`` and nn layers' parameters when no dtype is given,
    and of the promotions without a float tensor (``int_tensor / 2``, ``exp(int_tensor)``,
    ``int_tensor * 1.5``), as PyTorch's."""
    global _default_dtype
    if not isinstance(d, _C.dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d
    _C._set_default_float(d)


_default_device = "cpu"
_device_stack: list[str] = []  # `with ember.device(...)` blocks, innermost last


def get_default_device() -> _C.device:
    """Returns the device new tensors are made on: ``cpu`` unless ``set_default_device`` or a
    ``with ember.device(...)`` block says ``meta``."""
    return _C.device(_device_stack[-1] if _device_stack else _default_device)


def _device_of(t: Tensor) -> _C.device | None:
    """The device= argument for a tensor made to go with t: t's device, or None where that is where
    tensors are made anyway (a CPU tensor under the CPU default: None is the faster path)."""
    meta = type(t) is _meta.MetaTensor  # (a meta tensor's new_zeros & co are meta, as PyTorch's)
    return t.device if meta or t.is_cuda or _device_stack or _default_device != "cpu" else None


def set_default_device(device: str | _C.device | None) -> None:
    """Sets the device new tensors are made on: ``cpu`` (or None) or ``meta`` in this build.

    Other devices raise the RuntimeError of a tensor made there."""
    global _default_device
    if device is not None and _C.device(device).type != "meta":
        _check_device(device)
    _default_device = "cpu" if device is None else str(_C.device(device))


def _enter_device(self: Any) -> Any:
    """``with ember.device("meta"):``: creation functions make tensors there inside the block."""
    if self.type != "meta":
        _check_device(self)
    _device_stack.append(str(self))
    return self


def _exit_device(self: Any, *exc: Any) -> None:
    _device_stack.pop()


_C.device.__enter__ = _enter_device
_C.device.__exit__ = _exit_device


def _on_meta(device: str | _C.device | None) -> bool:
    """Whether a creation function called with ``device`` makes a meta tensor (Note [Meta tensors])."""
    if device is None:
        return (_device_stack[-1] if _device_stack else _default_device) == "meta"
    return str(device).split(":")[0] == "meta"  # a str, an ember.device or an index


def _check_device(device: str | _C.device | None, pin_memory: bool = False) -> None:
    if device is not None:
        _C._check_device(_C.device(device) if not isinstance(device, _C.device) else device)
    if pin_memory:
        _check_pinnable(device)


def _check_pinnable(device: Any) -> None:
    """pin_memory=True (Note [Pinned memory]): page-locked memory is for copies to a GPU, and only CPU tensors
    live in it; PyTorch's errors otherwise."""
    if not _C._cuda_device_count():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if _placement(device) is not None:
        raise RuntimeError("Only dense CPU tensors can be pinned")


def _pinned(t: Tensor, pin_memory: bool | None) -> Tensor:
    """``t`` in page-locked memory when ``pin_memory`` (creation functions' pin_memory=True)."""
    return _C._pin_memory(t) if pin_memory else t


def _placement(device: str | int | _C.device | None) -> _C.device | None:
    """The device a creation function called with ``device`` puts its tensor on, when not the CPU (where
    creation functions compute; a CUDA tensor is made there and copied, or made on the device directly
    by zeros/ones/empty/full/rand/randn)."""
    if device is None:
        device = _device_stack[-1] if _device_stack else _default_device
    if device == "cpu":  # the common case, without making a device object
        return None
    d = device if isinstance(device, _C.device) else _C.device(f"cuda:{device}" if isinstance(device, int) else device)
    return None if d.type in ("cpu", "meta") else d


def _finish(
    t: Tensor, requires_grad: bool, device: str | int | _C.device | None = None, pin_memory: bool = False
) -> Tensor:
    target = _placement(device)
    if target is not None and t.device != target:
        t = t._to_device(target, t.dtype)
    t = _pinned(t, pin_memory)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _is_0d_tensor(x: Any) -> bool:
    return isinstance(x, Tensor) and x.dim() == 0


def _size(args: tuple[Any, ...]) -> list[int]:
    """zeros(2, 3), zeros((2, 3)), zeros([2, 3]) and zeros(ember.Size([2, 3])) all mean (2, 3)."""
    if len(args) == 1 and not isinstance(args[0], numbers.Integral) and not _is_0d_tensor(args[0]):
        args = tuple(args[0])
    for a in args:
        if not isinstance(a, numbers.Integral) and not (isinstance(a, Tensor) and a.numel() == 1):
            raise TypeError(f"size must be a tuple of ints, but got element of type {type(a).__name__}")
    return [int(a) for a in args]


def _undetermined_dtype(data: Any) -> Exception:
    """PyTorch's error for data numpy could only hold as objects: the first value that is no number a
    tensor holds names its type (``tensor([None])``: "Could not infer dtype of NoneType"), an int beyond
    int64 is PyTorch's overflow."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:
            return ValueError("Overflow when unpacking long long")
        elif not isinstance(item, (int, float, complex, np.ndarray, np.generic, Tensor)):
            return RuntimeError("Could not infer dtype of " + type(item).__name__)
    return TypeError("Could not infer dtype of " + type(data).__name__)


_TYPED_ELEMENTS = (Tensor, np.ndarray, np.generic)  # elements that carry a dtype of their own


def _holds_typed(data: list | tuple) -> bool:
    """Whether the (nested) list holds a tensor or a numpy array or scalar: elements whose own dtypes decide
    the result's (numpy's inference of the whole list would not say it as PyTorch does)."""
    return any(isinstance(x, _TYPED_ELEMENTS) or (isinstance(x, (list, tuple)) and _holds_typed(x)) for x in data)


def _typed_elements(data: list | tuple, dtypes: list) -> list:
    """A tensor inside a list is one number to PyTorch's tensor(), whatever its shape (``tensor([t, t])`` of
    t of shape (1,) is (2,)); numpy would keep its dims. A one-element tensor becomes a 0-d one (several
    elements stay: PyTorch refuses them, ember stacks them). ``dtypes`` collects what each element says of the
    result's dtype, as PyTorch infers it: a tensor or a numpy array or scalar its dtype (``[np.float64(1.5)]``
    is float64, ``[np.int32(1)]`` int32), a Python float the default dtype, an int int64, ..."""
    out = []
    for x in data:
        if isinstance(x, Tensor):
            dtypes.append(x.dtype)
            x = x.reshape(()) if x.dim() and x.numel() == 1 else x
        elif isinstance(x, (np.ndarray, np.generic)):
            dtypes.append(_NUMPY_TO_DTYPE.get(x.dtype) or _NUMPY_COMPLEX_TO_DTYPE.get(x.dtype))
        elif isinstance(x, (list, tuple)):
            x = _typed_elements(x, dtypes)
        else:
            dtypes.append(_number_dtype(x))
        out.append(x)
    return out


def _number_dtype(x: Any) -> _C.dtype | None:
    """The dtype a Python number stands for in tensor()'s inference; None for a complex one (numpy's rules)."""
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, numbers.Integral):
        return int64
    return _default_dtype if isinstance(x, numbers.Real) else None


def _data_to_numpy(data: Any) -> np.ndarray:
    if isinstance(data, str) or (isinstance(data, (list, tuple)) and any(isinstance(x, str) for x in data)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__ if isinstance(data, str) else 'str'}'")
    arr = np.asarray(data)
    if arr.dtype == object:
        raise _undetermined_dtype(data)
    if arr.dtype == np.float64 and arr.size and not isinstance(data, (np.ndarray, np.generic)):
        if np.abs(arr[~np.isnan(arr)]).max(initial=0.0) >= 2.0**63:  # numpy makes floats of ints >= 2**63
            items = np.asarray(data, dtype=object).reshape(-1)
            if all(isinstance(x, int) and 0 <= x < 2**64 for x in items):
                return np.asarray(data, dtype=np.uint64)  # exact, as PyTorch reads Python ints
    return arr


def _check_values_fit(arr: np.ndarray, dtype: _C.dtype) -> None:
    """Python numbers given for an integer dtype must fit it, as PyTorch's ``tensor()`` checks:
    Note [Scalar overflow]. An unsigned dtype takes negative integers down to -max (they wrap); NaN and inf
    fit no integer dtype. numpy arrays convert as numpy casts them, unchecked, as in PyTorch."""
    dtype = int64 if dtype is int else dtype  # the Python types stand for dtypes, as in PyTorch
    if not isinstance(dtype, _C.dtype) or dtype == bool_ or dtype.is_floating_point or dtype.is_complex or not arr.size:
        return
    name = str(dtype).split(".")[-1]
    if arr.dtype == np.uint64 and name != "uint64":  # ints of 2**63 and more: PyTorch's words
        raise ValueError("Overflow when unpacking long long")
    info = np.iinfo(name)
    low, high = arr.min(), arr.max()
    if arr.dtype.kind == "f":
        fits = np.isfinite(arr).all() and info.min <= low and high <= info.max
    else:
        fits = int(high) <= info.max and (int(low) >= info.min if info.min else -int(low) <= info.max)
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def tensor(
    data: Any,
    dtype: _C.dtype | None = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A new tensor holding a copy of `data` (a number, nested sequence or numpy array)."""
    if overrides._MODES_ENTERED[0] and overrides._is_torch_function_mode_enabled():
        given = dict(dtype=dtype, device=device, requires_grad=requires_grad, pin_memory=pin_memory)
        return overrides._mode_call(tensor, (data,), given)
    if _on_meta(device):
        if isinstance(data, _meta.MetaTensor):
            return _meta.empty(tuple(data.shape), dtype or data.dtype, requires_grad)
        real = tensor(data, dtype=dtype, device="cpu")  # for its shape and dtype
        return _meta.empty(tuple(real.shape), real.dtype, requires_grad)
    _check_device(device, pin_memory)
    if isinstance(data, Tensor):
        t = data.detach().clone()
        t = t if dtype is None else t.to(dtype)
        return _finish(t, requires_grad, device, pin_memory)
    if isinstance(data, (list, tuple)) and _holds_typed(data):
        element_dtypes: list = []
        data = _typed_elements(data, element_dtypes)
        if dtype is None and None not in element_dtypes:  # the elements' dtypes promoted, as PyTorch's
            from ._dtype_info import promote_types

            dtype = functools.reduce(promote_types, element_dtypes)
    arr = _data_to_numpy(data)
    if arr.dtype.kind == "c" or _complex.wanted(dtype):  # Note [Complex tensors]
        if dtype is not None and not _complex.wanted(dtype):  # complex values for a real dtype, as PyTorch refuses
            raise TypeError(f"must be real number, not complex (tensor() of complex values with dtype={dtype})")
        dtype = _complex.wanted(dtype) or _complex.numpy_complex_dtype(arr, data, _default_dtype)
        return _finish(_complex.from_numpy_array(arr, dtype), requires_grad, device, pin_memory)
    if dtype is None:
        if arr.dtype not in _NUMPY_TO_DTYPE and arr.dtype.kind not in "fiub":
            raise TypeError(
                f"can't convert np.ndarray of type {arr.dtype}. The only supported types are: "
                "float64, float32, float16, int64, int32, int16, int8, uint64, uint32, uint16, uint8, and bool."
            )
        if isinstance(data, np.ndarray) or isinstance(data, np.generic):
            dtype = _NUMPY_TO_DTYPE.get(arr.dtype)
            if dtype is None:
                dtype = float32 if arr.dtype.kind == "f" else int64
        elif arr.dtype.kind == "f":
            dtype = _default_dtype  # Python floats give the default dtype
        elif arr.dtype.kind in "iu":
            if arr.dtype == np.uint64:  # Python ints of 2**63 and more: PyTorch's words
                raise ValueError("Overflow when unpacking long long")
            dtype = int64
        elif arr.dtype.kind == "b":
            dtype = bool_
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"can't convert np.ndarray of type {arr.dtype}")
    if arr.dtype not in _NUMPY_TO_DTYPE:
        arr = arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64)
    if not isinstance(data, (np.ndarray, np.generic)):
        _check_values_fit(arr, dtype)
    t = _C._from_numpy_copy(np.asarray(arr, order="C"), dtype)
    return _finish(t, requires_grad, device, pin_memory)


def as_tensor(data: Any, dtype: _C.dtype | None = None, device: str | _C.device | None = None) -> Tensor:
    """Converts ``data`` to a tensor, sharing memory with a tensor or numpy array when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    if (
        isinstance(data, np.ndarray)
        and (dtype is None or _NUMPY_TO_DTYPE.get(data.dtype) == dtype)
        and data.dtype in _NUMPY_TO_DTYPE
        and all(s >= 0 for s in data.strides)
    ):
        return _C.from_numpy(data)
    if isinstance(data, np.ndarray) and data.dtype.kind == "c" and dtype in (None, _complex.numpy_complex_dtype(data)):
        return _complex.from_numpy_array(data, _complex.numpy_complex_dtype(data), copy=False)
    return tensor(data, dtype=dtype, device=device)


def _into(out: Tensor | None, t: Tensor, name: str) -> Tensor:
    """``out=``: the result written into ``out`` (resized as needed), as the registry's ops do."""
    return t if out is None else _C._write_out(out, t, name)


def _size_argument(sizes: tuple[Any, ...], size: Sequence[int] | None, name: str) -> tuple[Any, ...]:
    """The sizes given positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as the ``size=`` keyword."""
    if size is None:
        return sizes
    if sizes:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return (size,)


def _make(fn: Callable[..., Tensor], doc: str) -> Callable[..., Tensor]:
    name = fn.__name__.lstrip("_")

    def create(
        *sizes: int | Sequence[int],
        size: Sequence[int] | None = None,
        out: Tensor | None = None,
        dtype: _C.dtype | None = None,
        layout: Any = None,
        device: str | _C.device | None = None,
        requires_grad: bool = False,
        pin_memory: bool = False,
    ) -> Tensor:
        if overrides._MODES_ENTERED[0] and overrides._is_torch_function_mode_enabled():
            given = dict(size=size, out=out, dtype=dtype, layout=layout, device=device)
            return overrides._mode_call(create, sizes, dict(given, requires_grad=requires_grad, pin_memory=pin_memory))
        size = _size_argument(sizes, size, name)
        _check_layout_and_pinning(layout, False, name)
        if _on_meta(device):
            return _meta.empty(_size(size), dtype or _default_dtype, requires_grad)
        _check_device(device, pin_memory)
        dt = dtype or (out.dtype if out is not None else _default_dtype)
        if _complex.wanted(dt):  # Note [Complex tensors]
            return _complex.created(_complex.create(name, _size(size), _complex.wanted(dt), device, requires_grad), out)
        target = _placement(device)
        if target is not None and out is None:  # made on the device, not copied there
            t = _C._empty_on(_size(size), dt, target, None if name == "empty" else float(name == "ones"))
            return _finish(t, requires_grad)
        return _finish(_into(out, fn(_size(size), dt), name), requires_grad, device, pin_memory)

    create.__name__ = fn.__name__.lstrip("_")
    create.__doc__ = doc
    return create


def _philox_device(generator: _C.Generator | None, target: _C.device | None) -> _C.device | None:
    """The GPU whose Philox stream a draw takes (Note [CUDA random numbers]): a Generator(device="cuda")'s
    own, whatever the tensor's device (copied there); else the default CUDA generator's for a CUDA tensor
    without a generator; None: the numbers come from a CPU generator, on the host."""
    if generator is not None:
        return generator.device if generator.device.type == "cuda" else None
    return target


def _make_random(fn: Callable[..., Tensor], doc: str) -> Callable[..., Tensor]:
    name = fn.__name__.lstrip("_")

    def create(
        *sizes: int | Sequence[int],
        size: Sequence[int] | None = None,
        generator: _C.Generator | None = None,
        out: Tensor | None = None,
        dtype: _C.dtype | None = None,
        layout: Any = None,
        device: str | _C.device | None = None,
        requires_grad: bool = False,
        pin_memory: bool = False,
    ) -> Tensor:
        if overrides._MODES_ENTERED[0] and overrides._is_torch_function_mode_enabled():
            given = dict(size=size, generator=generator, out=out, dtype=dtype, layout=layout, device=device)
            return overrides._mode_call(create, sizes, dict(given, requires_grad=requires_grad, pin_memory=pin_memory))
        size = _size_argument(sizes, size, name)
        _check_layout_and_pinning(layout, False, name)
        if _on_meta(device):
            return _meta.empty(_size(size), dtype or _default_dtype, requires_grad)
        _check_device(device, pin_memory)
        dt = dtype or (out.dtype if out is not None else _default_dtype)
        if _complex.wanted(dt):  # Note [Complex tensors]
            made = _complex.create(name, _size(size), _complex.wanted(dt), device, requires_grad, generator)
            return _complex.created(made, out)
        if _batched.levels():  # inside vmap: the level's randomness mode decides (Note [Batched tensors])
            return _batched.random_hook(lambda s: _finish(fn(s, dt, generator), requires_grad, device), _size(size))
        target = _placement(device)
        draw_on = _philox_device(generator, target)
        if draw_on is not None and (out is None or generator is not None) and dt.is_floating_point:
            # the device's Philox stream, or the CUDA generator's own (Note [CUDA random numbers])
            half = dt in (_C.dtype.float16, _C.dtype.bfloat16)
            t = _C._cuda_random_(_C._empty_on(_size(size), _C.dtype.float32 if half else dt, draw_on),
                                 name == "randn", 0.0, 1.0, generator)  # fmt: skip
            if half:  # rand stays below 1 in a half float: a multiple of 2^-digits, as on the CPU
                grid = 2048.0 if dt == _C.dtype.float16 else 256.0
                t = (t if name == "randn" else (t * grid).floor_().div_(grid)).to(dt)
            if out is None and target == draw_on:
                return _finish(t, requires_grad)
            t = t if target is not None else t.cpu()  # a CUDA generator's numbers for a CPU tensor
        else:
            t = fn(_size(size), dt, generator)
        return _finish(_into(out, t, name), requires_grad, device, pin_memory)

    create.__name__ = fn.__name__.lstrip("_")
    create.__doc__ = doc
    return create


zeros = _make(_C._zeros, "Returns a tensor filled with 0, of the shape given by ``size`` (of the default dtype).")
ones = _make(_C._ones, "Returns a tensor filled with 1, of the shape given by ``size`` (of the default dtype).")
_empty_row_major = _make(_C._empty, "")


def empty(
    *sizes: int | Sequence[int],
    size: Sequence[int] | None = None,
    out: Tensor | None = None,
    dtype: _C.dtype | None = None,
    layout: Any = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Returns an uninitialized tensor of the shape given by ``size`` (of the default dtype), row-major unless
    ``memory_format`` is ``channels_last``/``channels_last_3d``."""
    size = _size_argument(sizes, size, "empty")
    _check_layout_and_pinning(layout, False, "empty")
    if memory_format is not None and not _on_meta(device):
        _check_device(device, pin_memory)
        laid_out = _memory_format.empty_in_format(_size(size), dtype or _default_dtype, memory_format, device)
        if laid_out is not None:
            return _finish(_into(out, laid_out, "empty"), requires_grad, device, pin_memory)
    return _empty_row_major(*size, out=out, dtype=dtype, device=device, requires_grad=requires_grad,
                            pin_memory=pin_memory)  # fmt: skip


rand = _make_random(_C._rand, "Returns a tensor of random numbers uniform on [0, 1), of the shape given by ``size``.")
randn = _make_random(
    _C._randn,
    "Returns a tensor of random numbers from the standard normal distribution, of the shape given by ``size``.",
)


def _infer_scalar_dtype(*values: Any) -> _C.dtype:
    if any(isinstance(v, bool) for v in values) and all(isinstance(v, bool) for v in values):
        return bool_
    if all(isinstance(v, numbers.Integral) or (isinstance(v, Tensor) and not v.is_floating_point()) for v in values):
        return int64
    return _default_dtype


def full(
    size: int | Sequence[int],
    fill_value: float | Tensor,
    dtype: _C.dtype | None = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
    *,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """Returns a tensor of shape ``size`` filled with ``fill_value``; the dtype (bool, int64 or the default
    dtype) follows ``fill_value`` unless given."""
    if _on_meta(device):
        shape = _size((size,) if isinstance(size, numbers.Integral) else tuple(size))
        return _meta.empty(shape, dtype or _infer_scalar_dtype(fill_value), requires_grad)
    _check_device(device)
    _check_layout_and_pinning(layout, pin_memory, "full", device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    shape = _size((size,) if isinstance(size, numbers.Integral) else tuple(size))
    if isinstance(fill_value, complex) or _complex.wanted(dtype):  # Note [Complex tensors]
        dt = _complex.wanted(dtype) or _complex.default_complex_dtype(_default_dtype)
        return _complex.created(_complex.create("full", shape, dt, device, requires_grad, fill=fill_value), out)
    t = _C._full(
        _size((size,) if isinstance(size, numbers.Integral) else tuple(size)),
        fill_value,
        dtype or (out.dtype if out is not None else _infer_scalar_dtype(fill_value)),
    )
    return _finish(_into(out, t, "full"), requires_grad, device, pin_memory)


def _number_arg(value: Any, op: str, name: str) -> Any:
    """A Number argument's value: a Python or numpy number, or a one-element tensor's item; anything
    else is PyTorch's TypeError naming the argument."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise TypeError(f"{op}(): argument '{name}' must be Number, not Tensor of {value.numel()} elements")
        return value.item()
    if not isinstance(value, numbers.Number):
        raise TypeError(f"{op}(): argument '{name}' must be Number, not {type(value).__name__}")
    return value


def arange(
    start: float | Tensor | None = None,
    end: float | Tensor | None = None,
    step: float | Tensor = 1,
    dtype: _C.dtype | None = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """Returns a 1-D tensor of the values from ``start`` up to ``end`` (excluded), ``step`` apart;
    ``arange(end)`` (also ``arange(end=...)``) starts at 0.  The dtype is int64 when all arguments are
    integers, else the default dtype (float32 unless ``set_default_dtype`` changed it)."""
    _check_layout_and_pinning(layout, pin_memory, "arange", device)
    if not _on_meta(device):
        _check_device(device)
    if start is None and end is None:
        raise TypeError('arange() missing 1 required positional arguments: "end"')
    if end is None:
        start, end = 0, start
    elif start is None:  # arange(end=5)
        start = 0
    vals = [_number_arg(v, "arange", k) for k, v in (("start", start), ("end", end), ("step", step))]
    dtype = dtype or (out.dtype if out is not None else _infer_scalar_dtype(*vals))
    if _on_meta(device):
        return _meta.empty((max(0, math.ceil((vals[1] - vals[0]) / vals[2])),), dtype, requires_grad)
    if _integer_dtype(dtype) and any(isinstance(v, float) for v in vals):
        t = _integer_arange(*vals, int64 if dtype is int else dtype)
    else:
        t = _C._arange(float(vals[0]), float(vals[1]), float(vals[2]), dtype)
    return _finish(_into(out, t, "arange"), requires_grad, device)


def _integer_dtype(dtype: Any) -> bool:
    if not isinstance(dtype, _C.dtype):  # a Python type standing for a dtype, as in PyTorch
        return dtype is int
    return not (dtype.is_floating_point or dtype.is_complex or dtype == _C.dtype.bool)


def _integer_arange(start: float, end: float, step: float, dtype: _C.dtype) -> Tensor:
    """arange of float bounds into an integer dtype, as PyTorch computes it: the values are the truncated start
    plus multiples of the truncated step; their count comes from the truncated bounds for int64 and from the
    float bounds for the other integer dtypes (so ``arange(0, 5, 0.5, dtype=int32)`` is ten zeros)."""
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    s, e, st = (int(v) for v in (start, end, step))  # C++'s casts truncate toward zero
    if dtype == _C.dtype.int64:
        if st == 0:
            raise ValueError("step must be nonzero")
        if not ((st > 0 and e >= s) or (st < 0 and e <= s)):
            raise RuntimeError("upper bound and lower bound inconsistent with step sign")
        span = e - s + st - (1 if st > 0 else -1)
        count = abs(span) // abs(st)  # C++'s integer division (the signs agree here)
    else:
        if step == 0:
            raise RuntimeError("arange: step must be nonzero")
        if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
            raise RuntimeError("upper bound and lower bound inconsistent with step sign")
        count = math.ceil((end - start) / step)
    values = np.arange(count, dtype=np.int64) * st + s
    return _C._from_numpy_copy(values, None).to(dtype)  # wrapping into narrower dtypes, as a C++ cast does


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: _C.dtype | None = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """Returns a 1-D tensor of ``steps`` values evenly spaced from ``start`` to ``end``, both included."""
    _check_layout_and_pinning(layout, pin_memory, "linspace", device)
    if _on_meta(device):
        return _meta.empty((int(steps),), dtype or _default_dtype, requires_grad)
    _check_device(device)
    start, end = _number_arg(start, "linspace", "start"), _number_arg(end, "linspace", "end")
    t = _C._linspace(float(start), float(end), int(steps), dtype or (out.dtype if out is not None else _default_dtype))
    return _finish(_into(out, t, "linspace"), requires_grad, device)


def eye(
    n: int,
    m: int | None = None,
    *,
    out: Tensor | None = None,
    dtype: _C.dtype | None = None,
    layout: Any = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """Returns an ``n`` x ``m`` (default ``n`` x ``n``) tensor with ones on the diagonal and zeros elsewhere
    (written into ``out``, resized and of its dtype, when given)."""
    _check_layout_and_pinning(layout, pin_memory, "eye", device)
    dt = dtype or (out.dtype if out is not None else _default_dtype)
    if _on_meta(device):
        return _meta.empty((int(n), int(n if m is None else m)), dt, requires_grad)
    _check_device(device)
    t = _C._eye(int(n), int(n if m is None else m), dt)
    if out is not None:
        out.resize_(t.shape)  # as PyTorch's eye: out takes the shape, without the resize warning
    return _finish(_into(out, t, "eye"), requires_grad, device)


def randint(
    low: int = 0,
    high: int | Sequence[int] | None = None,
    size: Sequence[int] | None = None,
    generator: _C.Generator | None = None,
    dtype: _C.dtype | None = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """Returns a tensor of random integers uniform in [low, high) (int64 by default), of shape ``size``.

    Called as ``randint(high, size)`` or ``randint(low, high, size)``, as PyTorch.
    """
    _check_layout_and_pinning(layout, pin_memory, "randint", device)
    if out is not None:  # drawn in out's dtype, then written into it (resized to size)
        drawn = randint(low, high, size, generator=generator, dtype=dtype or out.dtype, device=device)
        out.resize_(drawn.shape)  # a factory's out takes its shape without the resize warning, as eye's
        return _finish(_into(out, drawn, "randint"), requires_grad)
    if not _on_meta(device):
        _check_device(device)
    if size is None:
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...): the one positional bound is the upper one
        low, high = 0, low
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if _on_meta(device):
        return _meta.empty(_size(tuple(size)), dtype or int64, requires_grad)
    target = _placement(device)
    draw_on = _philox_device(generator, target)
    if draw_on is not None and not _batched.levels():
        # the device's Philox stream, as rand/randn (Note [CUDA random numbers])
        t = _C._cuda_randint_(_C._empty_on(_size(tuple(size)), dtype or int64, draw_on), int(low), int(high), generator)
        return _finish(t if target is not None else t.cpu(), requires_grad, device)
    make = lambda s: _finish(_C._randint(int(low), int(high), s, dtype or int64, generator), requires_grad, device)  # noqa: E731
    return _drawn(_batched.random_hook(make, _size(tuple(size))) if _batched.levels() else make(_size(tuple(size))))


def _drawn(t: Tensor) -> Tensor:
    """Random numbers made on the host (a CPU generator=) and copied to a GPU: refused there while a CUDA graph is
    captured (a replay would copy the same numbers again; Note [CUDA graph pools])."""
    if _graph_capture.depth and t.is_cuda:
        _C._cuda_refuse_draw_in_capture(t.get_device())
    return t


def randperm(
    n: int,
    generator: _C.Generator | None = None,
    dtype: _C.dtype | None = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    out: Tensor | None = None,
    pin_memory: bool = False,
    layout: Any = None,
) -> Tensor:
    """Returns a random permutation of the integers 0 .. n - 1 (int64 by default)."""
    if _on_meta(device):
        return _meta.empty((int(n),), dtype or int64, requires_grad)
    _check_device(device)
    _check_layout_and_pinning(layout, pin_memory, "randperm", device)
    dt = dtype or (out.dtype if out is not None else int64)
    if _batched.levels() and out is None:  # inside vmap: a permutation per entry where randomness="different"

        def permutations(lead: tuple) -> Tensor:
            count = math.prod(lead)
            rows = [_C._randperm(int(n), dt, generator) for _ in range(count)]
            return _finish(
                _C.stack(rows, 0).reshape(*lead, int(n)) if count else _C._empty((*lead, int(n)), dt), requires_grad
            )

        return _batched.random_hook(permutations, ())
    target = _placement(device)
    draw_on = _philox_device(generator, target)
    if draw_on is not None:
        if int(n) < 0:
            raise RuntimeError(f"randperm: n must be non-negative, got {int(n)}")  # the CPU's words (ops/create.cpp)
        # argsort of float64 uniform numbers on the device (ties among 2**53 values: negligible)
        keys = _C._cuda_random_(_C._empty_on([int(n)], _C.dtype.float64, draw_on), False, 0.0, 1.0, generator)
        perm = keys.argsort().to(dt)
        return _finish(_into(out, perm if target is not None else perm.cpu(), "randperm"), requires_grad, device,
                       pin_memory)  # fmt: skip
    t = _C._randperm(int(n), dt, generator)
    return _drawn(_finish(_into(out, t, "randperm"), requires_grad, device, pin_memory))


class layout:
    """A memory layout, as torch.layout. ember's tensors are all ``ember.strided``; the sparse
    layouts exist as names, for code that compares with them or keys tables by them (PyTorch
    Geometric's typing module aliases them at import), and asking a factory for one raises."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return _names.qualified(self._name)


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
_mkldnn = layout("_mkldnn")


def _check_layout_and_pinning(layout: Any, pin_memory: bool, op: str, device: Any = None) -> None:
    """PyTorch's layout= and pin_memory= keywords: ember has strided tensors only; pinning needs a GPU."""
    if layout is not None and layout is not strided:
        raise RuntimeError(f"{op}(): ember supports only the strided layout, got {layout}")
    if pin_memory:
        _check_pinnable(device)


def _like(fn: Callable[..., Tensor], random: bool) -> Callable[..., Tensor]:
    def create(
        input: Tensor,
        *,
        dtype: _C.dtype | None = None,
        layout: Any = None,
        device: str | _C.device | None = None,
        requires_grad: bool = False,
        memory_format: Any = None,
        pin_memory: bool = False,
        generator: _C.Generator | None = None,
    ) -> Tensor:
        _check_layout_and_pinning(layout, pin_memory, create.__name__, device)
        if getattr(input, "is_sparse", False):
            from ._sparse_ops import like

            return like(create.__name__, input, dtype, device, requires_grad)
        extra = {"generator": generator} if random else {}
        if device is None and isinstance(input, _meta.MetaTensor):
            device = "meta"  # *_like of a meta tensor is a meta tensor unless a device is given
        elif device is None and isinstance(input, Tensor):
            device = _device_of(input)  # on the input's device, as PyTorch
        if not random and isinstance(input, _batched.BatchedTensor):  # inside vmap: one result per entry
            return input._map_value(lambda v: create(v, dtype=dtype, device=device, requires_grad=requires_grad))
        if generator is not None and not random:
            raise TypeError(f"{create.__name__}() got an unexpected keyword argument 'generator'")
        result = fn(*input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad, **extra)
        if (
            isinstance(input, (_meta.MetaTensor, _batched.BatchedTensor, _complex.ComplexTensor))
            or str(result.device) == "meta"
            or type(result) is _complex.ComplexTensor
        ):
            return result
        return _pinned(_memory_format.laid_out_like(result, input, memory_format, create.__name__), pin_memory)

    create.__name__ = fn.__name__ + "_like"
    create.__doc__ = f"Returns ``{fn.__name__}`` of the shape of ``input``, and of its dtype unless ``dtype`` is given."
    return create


zeros_like = _like(zeros, random=False)
ones_like = _like(ones, random=False)
empty_like = _like(empty, random=False)
rand_like = _like(rand, random=True)
randn_like = _like(randn, random=True)


def full_like(
    input: Tensor,
    fill_value: float | Tensor,
    dtype: _C.dtype | None = None,
    device: str | _C.device | None = None,
    requires_grad: bool = False,
    layout: Any = None,
    pin_memory: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Returns a tensor of the shape of ``input`` filled with ``fill_value``, of ``input``'s dtype unless given,
    laid out as ``memory_format`` says (input's layout by default), as the other ``*_like`` factories."""
    _check_layout_and_pinning(layout, pin_memory, "full_like", device)
    if getattr(input, "is_sparse", False):
        from ._sparse_ops import like

        return like("full_like", input, dtype)
    if device is None and isinstance(input, _meta.MetaTensor):
        device = "meta"
    elif device is None and isinstance(input, Tensor):
        device = _device_of(input)
    dt = dtype or input.dtype
    result = full(tuple(input.shape), fill_value, dtype=dt, device=device, requires_grad=requires_grad)
    if isinstance(input, (_meta.MetaTensor, _complex.ComplexTensor)) or type(result) is _complex.ComplexTensor:
        return result
    return _pinned(_memory_format.laid_out_like(result, input, memory_format, "full_like"), pin_memory)
