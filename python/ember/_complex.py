"""Complex tensors: complex64 and complex128 (Note [Complex tensors]). The ops' rules are in
``_complex_rules.py``; the Fourier transforms in ``fft/``."""

# Note [Complex tensors]
# A complex tensor is a ComplexTensor: a Python stand-in for a tensor (a TensorLike, as vmap's
# BatchedTensor and the meta device's MetaTensor are) holding one real tensor, its `pair`: float32
# for complex64, float64 for complex128, of the complex tensor's shape plus a last dim of 2 (real
# part, imaginary part) of stride 1. That is the memory of PyTorch's complex tensors, so
# view_as_real and view_as_complex are views, and numpy() shares memory.
#
# A call reaches the op's rule in _complex_rules.RULES three ways: a compiled op refuses a
# ComplexTensor and hands the call to the stand-ins' hook (Note [Batched dispatch]); a function
# written in Python reaches ComplexTensor.__torch_function__ (Note [Python functions dispatch]);
# a method is looked up by ComplexTensor.__getattr__. A view op is the same view of the pair (the
# pair dim stays last, so a view stays a view); arithmetic is the complex formulas written in real
# ops; an op without a rule raises PyTorch's NotImplementedError ("max" not implemented for
# 'ComplexFloat'), and a Python function without one runs its body, which decomposes into ops that
# have rules. tests/test_parity_complex_torch.py calls every function and method shared with
# PyTorch on complex tensors, so a body that would drop imaginary parts is caught there.
#
# Autograd records the real ops on the pairs, and the pair's gradient is exactly PyTorch's complex
# gradient: for a real loss L, PyTorch's z.grad is dL/dRe(z) + i dL/dIm(z), which is the pair's
# gradient read as a complex number. So backward, autograd.grad, hooks, gradcheck and the
# optimizers (PyTorch's run on view_as_real of a complex parameter) work on the pairs unchanged.
# What differs from PyTorch: grad_fn names are the real ops' (a product's is StackBackward0, not
# MulBackward0), and every op on a complex tensor costs a few microseconds of Python.

from __future__ import annotations

import numbers
import types
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from . import _C, _batched
from ._C import Tensor

_PART_DTYPE = {_C.dtype.complex64: _C.dtype.float32, _C.dtype.complex128: _C.dtype.float64}
_COMPLEX_DTYPE = {v: k for k, v in _PART_DTYPE.items()}
_NUMPY_COMPLEX = {_C.dtype.float32: np.complex64, _C.dtype.float64: np.complex128}


def creation() -> Any:
    """ember._creation, imported when first needed (it imports this module)."""
    from . import _creation as module

    return module


_made = False  # a ComplexTensor exists: the compiled argument checks are on (Note [Batched dispatch])


def wanted(dtype: Any) -> Any:
    """The complex dtype a creation function's ``dtype=`` asks for (Python's complex is complex128), or None."""
    if dtype is complex:
        return _C.dtype.complex128
    return dtype if isinstance(dtype, _C.dtype) and dtype.is_complex else None


def part_dtype(dtype: Any, op: str = "complex") -> Any:
    """The real dtype of a complex dtype's parts; complex32 has no arithmetic in ember."""
    if dtype not in _PART_DTYPE:
        raise NotImplementedError(f"{op}: ember's complex tensors are complex64 and complex128, not {dtype}")
    return _PART_DTYPE[dtype]


def complex_dtype_of(real: Any) -> Any:
    """The complex dtype whose parts are of the real dtype `real` (ints and float16 give complex64)."""
    return _COMPLEX_DTYPE.get(real, _C.dtype.complex64)


class ComplexTensor(_batched.HeldTensor):
    """A complex tensor (Note [Complex tensors]): isinstance(z, ember.Tensor) holds."""

    __slots__ = ("_pair", "_parameter", "__dict__", "__weakref__")
    __array_priority__ = 1000  # numpy defers to its operators (np.complex128(1j) * z is a tensor), as to Tensor's

    def __init__(self, pair: Tensor) -> None:
        global _made
        self._pair = pair
        self._parameter = False
        if not _made:
            _made = True
            _batched.keep_checks_on()

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return _batched.stand_in_class(self._parameter)

    def _held(self) -> Tensor:
        return self._pair

    @property
    def _base(self) -> Any:
        """The complex tensor this one views (a new stand-in over the same memory), None when it is no view."""
        base = self._pair._base
        return None if base is None else ComplexTensor(base)

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        """Functions written in Python reach here (compiled ops reach `dispatch` through the hook):
        the function's rule, else its body, which decomposes into ops that have rules."""
        from ._complex_rules import RULES

        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        module = getattr(func, "__module__", "") or ""
        rule = RULES.get(f"linalg.{name}") if module.endswith("linalg") else None
        rule = rule or RULES.get(name)
        if rule is not None:
            return rule(*args, **kwargs)
        body = getattr(func, "__wrapped__", None)
        if body is not None:
            return body(*args, **kwargs)
        return dispatch(name, False, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        """A method with a complex rule runs it (Tensor's methods written in Python included); any other
        Tensor attribute as the stand-ins' (Note [Batched dispatch])."""
        from ._complex_rules import RULES

        rule = RULES.get(name)
        if rule is not None and not name.startswith("__"):
            return types.MethodType(rule, self)
        return _batched.tensor_attribute(self, name)

    # ------------------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Any:
        return self._pair.shape[:-1]

    def stride(self, dim: int | None = None) -> Any:
        strides = tuple(s // 2 for s in self._pair.stride()[:-1])  # in complex elements
        return strides if dim is None else strides[_batched._wrap_dim(dim, len(strides), "stride")]

    def dim(self) -> int:
        return self._pair.dim() - 1

    def numel(self) -> int:
        return self._pair.numel() // 2

    @property
    def dtype(self) -> Any:
        return _COMPLEX_DTYPE[self._pair.dtype]

    @property
    def is_cpu(self) -> bool:
        return self._pair.is_cpu

    @property
    def is_meta(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return False

    def is_complex(self) -> bool:
        return True

    def is_signed(self) -> bool:
        return True

    def is_conj(self) -> bool:
        return False  # ember conjugates eagerly

    def is_neg(self) -> bool:
        return False

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return self._pair.is_contiguous()

    def element_size(self) -> int:
        return 2 * self._pair.element_size()

    @property
    def itemsize(self) -> int:
        return self.element_size()

    @property
    def nbytes(self) -> int:
        return self.numel() * self.element_size()

    def storage_offset(self) -> int:
        return self._pair.storage_offset() // 2

    def data_ptr(self) -> int:
        return self._pair.data_ptr()

    def untyped_storage(self) -> Any:
        return self._pair.untyped_storage()

    # ------------------------------------------------------------------------------ autograd
    @property
    def grad(self) -> ComplexTensor | None:
        g = self._pair.grad
        return None if g is None else ComplexTensor(g)

    @grad.setter
    def grad(self, value: Any) -> None:
        self._pair.grad = None if value is None else pair_of(value, self._pair.dtype)

    @property
    def retains_grad(self) -> bool:
        return self._pair.retains_grad

    def retain_grad(self) -> None:
        self._pair.retain_grad()

    @property
    def data(self) -> ComplexTensor:
        return ComplexTensor(self._pair.data)

    @data.setter
    def data(self, value: Any) -> None:
        self._pair.data = pair_of(value, self._pair.dtype)

    def backward(self, gradient: Any = None, retain_graph: Any = None, create_graph: bool = False,
                 inputs: Any = None) -> None:  # fmt: skip
        """backward() of a complex output needs its gradient, as PyTorch's does."""
        if gradient is None:
            raise RuntimeError("grad can be implicitly created only for real scalar outputs")
        wanted = (
            None if inputs is None else [unwrap(x) for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
        )
        self._pair.backward(pair_of(gradient, self._pair.dtype), retain_graph, create_graph, wanted)

    def register_hook(self, hook: Callable[[Any], Any]) -> Any:
        """A hook that sees and returns complex gradients."""

        def on_pair(g: Tensor) -> Any:
            result = hook(ComplexTensor(g))
            return None if result is None else pair_of(result, g.dtype)

        return self._pair.register_hook(on_pair)

    # ------------------------------------------------------------------------------ values
    def numpy(self, *, force: bool = False) -> np.ndarray:
        pair = self._pair.detach().cpu().resolve_conj() if force else self._pair
        return pair.numpy().view(_NUMPY_COMPLEX[pair.dtype])[..., 0]

    def __dlpack__(self, **kwargs: Any) -> Any:
        """A DLPack capsule of the complex values, through numpy's (host memory only)."""
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        if self.device.type != "cpu":
            raise RuntimeError("__dlpack__: ember exports complex tensors from host (CPU) memory only")
        return self.numpy().__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0) if self.device.type == "cpu" else (2, self.device.index or 0)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.detach().cpu().numpy()
        return a if dtype is None else a.astype(dtype)

    def item(self) -> complex:
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        re, im = self._pair.reshape(2).tolist()
        return complex(re, im)

    def tolist(self) -> Any:
        return self.detach().cpu().numpy().tolist()

    def __complex__(self) -> complex:
        return self.item()

    def _to_real_number(self, kind: str) -> Any:
        value = self.item()
        if value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {kind} without overflow")
        return value.real

    def __float__(self) -> float:
        return float(self._to_real_number("double"))

    def __int__(self) -> int:
        return int(self._to_real_number("int64_t"))

    def __index__(self) -> int:
        raise TypeError("only integer tensors of a single element can be converted to an index")

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return self.item() != 0

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self) -> Iterator[Any]:
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ._tensor_str import tensor_repr

        text = tensor_repr(self)
        return "Parameter containing:\n" + text if self._parameter else text

    def __format__(self, spec: str) -> str:
        return format(self.item(), spec) if self.dim() == 0 else repr(self)

    def __deepcopy__(self, memo: dict) -> Any:
        from copy import deepcopy

        copied = ComplexTensor(deepcopy(self._pair, memo))
        copied._parameter = self._parameter
        memo[id(self)] = copied
        return copied

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild, (self._pair, self._parameter))

    # properties of Tensor that mean something else for a complex tensor
    @property
    def real(self) -> Tensor:
        return self._pair.select(-1, 0)

    @real.setter
    def real(self, value: Any) -> None:
        self.real.copy_(value)

    @property
    def imag(self) -> Tensor:
        return self._pair.select(-1, 1)

    @imag.setter
    def imag(self, value: Any) -> None:
        self.imag.copy_(value)

    @property
    def mH(self) -> Any:
        return self.transpose(-2, -1).conj()

    @property
    def H(self) -> Any:
        return self.T.conj()

    def adjoint(self) -> Any:
        return self.mH


def parameter(data: ComplexTensor, requires_grad: bool) -> ComplexTensor:
    """nn.Parameter(complex data): a leaf sharing data's memory, whose __class__ says Parameter."""
    return _rebuild(data._pair.detach().requires_grad_(requires_grad), True)


def _rebuild(pair: Tensor, parameter: bool) -> ComplexTensor:
    z = ComplexTensor(pair)
    z._parameter = parameter
    return z


def unwrap(x: Any) -> Any:
    """A ComplexTensor's pair; anything else as it is."""
    return x._pair if type(x) is ComplexTensor else x


def pairs(tensors: list) -> list:
    """Complex tensors as their pairs, others as they are: a fused optimizer step runs on these."""
    return [unwrap(t) for t in tensors] if _made else tensors


def like(model: Any, t: Any) -> Any:
    """t (a pair) as a complex tensor when `model` is one."""
    return ComplexTensor(t) if type(model) is ComplexTensor and type(t) is not ComplexTensor else t


def autograd_pairs(outputs: list, grads: list, inputs: list) -> tuple[list, list, list]:
    """backward's and grad's roots, seeds and inputs with complex tensors as their pairs; a complex root
    needs its seed, as in PyTorch."""
    if not any(type(t) is ComplexTensor for t in (*outputs, *grads, *inputs)):
        return outputs, grads, inputs
    for out, g in zip(outputs, grads):
        if type(out) is ComplexTensor and g is None:
            raise RuntimeError("grad can be implicitly created only for real scalar outputs")
    grads = [pair_of(g, out._pair.dtype) if type(out) is ComplexTensor else g for out, g in zip(outputs, grads)]
    return pairs(outputs), grads, pairs(inputs)


def as_complex_grad(g: Any) -> Any:
    """A gradient the engine gives for a pair, as the complex tensor it stands for."""
    if g is None:
        return None
    return ComplexTensor(g if g.stride(-1) == 1 else g.contiguous())


def function_node(backward: Any, args: list, outs: list, marked: list, to_save: list) -> tuple | None:
    """A custom autograd.Function's node over complex tensors (Note [Complex tensors]): the node records their
    pairs, and its backward sees and returns complex gradients, which are the pairs' gradients. None when no
    complex tensor takes part. Returns the backward, the pairs of args, outs, marked (lists of tensors marked
    dirty or non-differentiable) and to_save, and which outputs and saved tensors are complex."""
    if not _made or not any(type(t) is ComplexTensor for t in (*args, *outs, *to_save)):
        return None
    # the part dtype of each complex input (None for the others); not the inputs, which the graph must not keep
    part_dtypes = [a._pair.dtype if type(a) is ComplexTensor else None for a in args]
    complex_out = [type(o) is ComplexTensor for o in outs]

    def complex_backward(ctx: Any, *grads: Any) -> Any:
        grads = tuple(as_complex_grad(g) if c else g for g, c in zip(grads, complex_out))
        results = backward(ctx, *grads)
        single = not isinstance(results, tuple)
        listed = [results] if single else list(results)
        for i, r in enumerate(listed):
            if i < len(part_dtypes) and part_dtypes[i] is not None and r is not None:
                listed[i] = pair_of(r, part_dtypes[i])  # a real gradient: zero imaginary parts
        return listed[0] if single else tuple(listed)

    return (
        complex_backward,
        [unwrap(a) for a in args],
        [unwrap(o) for o in outs],
        [[unwrap(t) for t in group] for group in marked],
        [unwrap(t) for t in to_save],
        complex_out,
        [type(t) is ComplexTensor for t in to_save],
    )


def pair_of(x: Any, part_dtype: Any = None) -> Tensor:
    """x as a pair tensor (real part, imaginary part in a last dim of 2): a complex tensor's own,
    a real tensor's with zero imaginary parts, a Python number's as a tensor of `part_dtype`."""
    if type(x) is ComplexTensor:
        return x._pair
    if isinstance(x, Tensor):
        if x.dtype.is_complex:
            raise TypeError(f"expected a complex tensor, got {type(x).__name__}")
        re = x if x.is_floating_point() else x.to(part_dtype or _C.dtype.float32)
        return _C.stack([re, creation().zeros_like(re)], -1)
    if not isinstance(x, numbers.Number):
        raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")
    value = complex(x)
    return creation().tensor([value.real, value.imag], dtype=part_dtype or _C.dtype.float32)


def involved(args: tuple, kwargs: dict) -> bool:
    """Whether a complex tensor or a Python complex number is among the arguments."""
    for a in (*args, *kwargs.values()):
        for x in a if isinstance(a, (tuple, list)) else (a,):
            if type(x) is ComplexTensor or isinstance(x, (complex, np.complexfloating)):
                return True
    return False


def scalar_type_name(dtype: Any) -> str:
    return "ComplexDouble" if dtype == _C.dtype.complex128 else "ComplexFloat"


def _complex_dtype(args: tuple, kwargs: dict) -> Any:
    """The dtype of the first complex tensor among the arguments; complex64 for a number alone."""
    for a in (*args, *kwargs.values()):
        for x in a if isinstance(a, (tuple, list)) else (a,):
            if type(x) is ComplexTensor:
                return x.dtype
    return _C.dtype.complex64


def not_implemented(name: str, args: tuple, kwargs: dict) -> NotImplementedError:
    """PyTorch's error for an op complex tensors do not have: '"max" not implemented for 'ComplexFloat''."""
    return NotImplementedError(f"\"{name}\" not implemented for '{scalar_type_name(_complex_dtype(args, kwargs))}'")


def dispatch(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    """Runs op `name` on arguments some of which are complex tensors (Note [Complex tensors])."""
    from . import _complex_rules

    rule = _complex_rules.RULES.get(name)
    if rule is None:
        if name.startswith("_") and name.endswith("_step_"):  # a fused optimizer step: on view_as_real
            return _on_pairs(name, method, args, kwargs)
        raise not_implemented(name, args, kwargs)
    return rule(*args, **kwargs)


def _on_pairs(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    def plain(a: Any) -> Any:
        if isinstance(a, list):
            return [unwrap(x) for x in a]
        if isinstance(a, tuple):
            return tuple(unwrap(x) for x in a)
        return unwrap(a)

    return _batched.call(name, method, tuple(plain(a) for a in args), {k: plain(v) for k, v in kwargs.items()})


def view_as_real(input: Tensor) -> Tensor:
    """The real tensor viewing ``input``'s memory with a last dim of 2: real parts, imaginary parts."""
    if not isinstance(input, Tensor):
        raise TypeError(f"view_as_real(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if type(input) is not ComplexTensor:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return input._pair.view(input._pair.shape)


def view_as_real_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """view_as_real, copied."""
    result = view_as_real(input).clone()
    return result if out is None else out.resize_(result.shape).copy_(result)


def view_as_complex_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """view_as_complex, copied."""
    result = view_as_complex(input).clone()
    return result if out is None else copy_into(out, result)


def view_as_complex(input: Tensor) -> Tensor:
    """The complex tensor viewing a real tensor whose last dim (of size 2, stride 1) holds real and
    imaginary parts."""
    if not isinstance(input, Tensor):
        raise TypeError(f"view_as_complex(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if type(input) is ComplexTensor:
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got a "
                           f"tensor of scalar type: {_scalar_name(input)}")  # fmt: skip
    if input.dtype not in _COMPLEX_DTYPE:
        if input.dtype.is_floating_point:
            raise NotImplementedError(f"view_as_complex: ember has no complex32 (parts of {input.dtype})")
        raise RuntimeError(
            "view_as_complex is only supported for half, float and double tensors, but got a tensor of scalar "
            f"type: {_scalar_name(input)}"
        )
    if input.dim() == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if input.stride(-1) != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in input.stride()[:-1]) or input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return ComplexTensor(input.view(input.shape))


def _scalar_name(x: Any) -> str:
    from ._dtype_info import _scalar_name as name_of

    return name_of(x.dtype) if isinstance(x, Tensor) else type(x).__name__


def complex_from(real: Tensor, imag: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complex tensor ``real + i imag`` (both of float16/32/64, the same dtype)."""
    for t in (real, imag):
        if not isinstance(t, Tensor) or type(t) is ComplexTensor or not t.is_floating_point():
            raise RuntimeError(
                "Expected both inputs to be Half, Float or Double tensors but got "
                f"{_scalar_name(real)} and {_scalar_name(imag)}"
            )
    if real.dtype != imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {_scalar_name(real)} but got scalar type "
                           f"{_scalar_name(imag)} for second argument")  # fmt: skip
    from ._composite_shape import broadcast_tensors

    real, imag = broadcast_tensors(real, imag)
    result = ComplexTensor(_C.stack([real, imag], -1))
    return result if out is None else copy_into(out, result)


def polar(abs: Tensor, angle: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complex tensor ``abs * (cos(angle) + i sin(angle))``."""
    return complex_from(abs * _C.cos(angle), abs * _C.sin(angle), out=out)


def copy_into(out: Any, result: Any) -> Any:
    """``out=`` for a complex result: out (a complex tensor) resized and overwritten."""
    if type(out) is not ComplexTensor:
        raise RuntimeError(f"result type {scalar_type_name(result.dtype)} can't be cast to the desired output type "
                           f"{_scalar_name(out)}")  # fmt: skip
    out._pair.resize_(result._pair.shape).copy_(result._pair)
    return out


# ------------------------------------------------------------------------------ creation
def from_numpy_array(arr: np.ndarray, dtype: Any, copy: bool = True) -> ComplexTensor:
    """A complex tensor of a complex numpy array's values, sharing its memory unless `copy` (or a dtype
    conversion) makes a new one."""
    part = part_dtype(dtype, "tensor")
    if copy or arr.dtype != _NUMPY_COMPLEX[part]:
        arr = np.array(arr, dtype=_NUMPY_COMPLEX[part], order="C")
    # the real parts' view has the array's strides; a last axis of 2 steps to the imaginary parts
    pairs = np.lib.stride_tricks.as_strided(arr.real, arr.shape + (2,), arr.strides + (arr.itemsize // 2,))
    return ComplexTensor(_C.from_numpy(pairs))


def create(kind: str, shape: list[int], dtype: Any, device: Any, requires_grad: bool, generator: Any = None,
           fill: Any = None) -> ComplexTensor:  # fmt: skip
    """zeros/ones/empty/full/rand/randn of a complex dtype: randn's parts are normal of variance 1/2 each
    (so |z|^2 has mean 1), rand's uniform on [0, 1) each, as PyTorch's."""
    from . import _creation

    part = part_dtype(dtype, kind)
    pair_shape = [*shape, 2]
    if kind in ("randn", "rand"):
        draw = _creation.randn if kind == "randn" else _creation.rand
        pair = draw(pair_shape, dtype=part, device=device, generator=generator)
        if kind == "randn":
            pair = pair.mul_(0.5**0.5)
    else:
        pair = _creation.zeros(pair_shape, dtype=part, device=device)
        value = {"ones": 1, "zeros": 0, "empty": 0}.get(kind, fill)
        if value is not None and value != 0:
            value = value.item() if isinstance(value, Tensor) else value
            pair[..., 0] = value.real
            pair[..., 1] = value.imag
    return ComplexTensor(pair.requires_grad_(requires_grad))


def created(z: ComplexTensor, out: Any) -> Any:
    """A creation function's complex result, written into ``out=`` when given."""
    return z if out is None else copy_into(out, z)


def default_complex_dtype(default_float: Any) -> Any:
    """The dtype of Python complex numbers: complex128 when the default dtype is float64, else complex64."""
    return _C.dtype.complex128 if default_float == _C.dtype.float64 else _C.dtype.complex64


def numpy_complex_dtype(arr: np.ndarray, data: Any = None, default_float: Any = None) -> Any:
    """The complex dtype of a numpy array's values: its own for a numpy array, the default complex dtype
    for Python numbers (complex64 unless the default dtype is float64)."""
    if data is not None and not isinstance(data, (np.ndarray, np.generic)):
        return default_complex_dtype(default_float)
    return _C.dtype.complex64 if arr.dtype == np.complex64 else _C.dtype.complex128


def real_of(z: ComplexTensor, dtype: Any) -> Tensor:
    """A complex tensor converted to a real dtype: its real parts, with PyTorch's warning."""
    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=3)
    return z.real.to(dtype)


def to_complex(x: Tensor, dtype: Any) -> ComplexTensor:
    """A real tensor converted to a complex dtype (imaginary parts zero)."""
    return ComplexTensor(pair_of(x.to(part_dtype(dtype, "to")), None))


def real(input: Tensor) -> Tensor:
    """The real parts of a complex tensor (a view); a real tensor itself."""
    return input.real


def imag(input: Tensor) -> Tensor:
    """The imaginary parts of a complex tensor (a view); a real tensor has none (RuntimeError)."""
    return input.imag


def _imag_of_real(self: Tensor) -> Tensor:
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def install() -> None:
    """Tensor.real and Tensor.imag of real tensors, as PyTorch's: the tensor itself; an error."""
    Tensor.real = property(lambda self: self, doc="The real parts: a real tensor itself; a complex one's a view.")
    Tensor.imag = property(_imag_of_real, doc="The imaginary parts of a complex tensor (a view).")
    Tensor.cfloat = _converter(_C.dtype.complex64)
    Tensor.cdouble = _converter(_C.dtype.complex128)
    Tensor.chalf = _converter(_C.dtype.complex32)


def _converter(dtype: Any) -> Callable[..., Any]:
    def convert(self: Tensor, memory_format: Any = None) -> Tensor:
        return self.to(dtype)

    convert.__doc__ = f"``self.to({dtype})``."
    return convert
