"""The rules of ops on complex tensors (Note [Complex tensors]): each runs the op on the tensors'
pairs (real and imaginary parts in a last dim of 2) and returns ComplexTensors.

Three kinds: views (the same view of the pair, so writes through them reach the base), real-linear
ops run on the two parts alike (`per_part`: sums, flips, padding, triangles), and the arithmetic,
written as complex formulas in real ops (`bilinear` covers products: mul, matmul, einsum's
operands, convolutions)."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np

from . import _C, _batched
from ._C import Tensor
from ._complex import ComplexTensor, creation, not_implemented, pair_of, part_dtype, real_of, scalar_type_name
from ._dtype_info import _cpp_type_name, _scalar_name

RULES: dict[str, Callable[..., Any]] = {}


def rule(*names: str) -> Callable[[Callable], Callable]:
    def register(fn: Callable) -> Callable:
        for n in names:
            RULES[n] = fn
        return fn

    return register


def wrap(pair: Any) -> Any:
    """Pair tensors as complex tensors (tuples and lists element-wise); the pair dim keeps stride 1."""
    if isinstance(pair, Tensor):
        return ComplexTensor(pair if pair.stride(-1) == 1 else pair.contiguous())
    if isinstance(pair, (tuple, list)):
        return type(pair)(wrap(p) for p in pair)
    return pair


def parts(x: Any) -> tuple[Any, Any]:
    """(real part, imaginary part or None when x is real): of a complex tensor, a number or a tensor."""
    if type(x) is ComplexTensor:
        return x._pair.select(-1, 0), x._pair.select(-1, 1)
    if isinstance(x, (complex, np.complexfloating)):  # numpy's complex64 is no Python complex
        return float(x.real), float(x.imag)
    return x, None


def join(re: Any, im: Any) -> ComplexTensor:
    """The complex tensor of real and imaginary parts (broadcast together, promoted together)."""
    re_t, im_t = isinstance(re, Tensor), isinstance(im, Tensor)
    if not (re_t and im_t):  # one part a number (a product with a Python number's zero part)
        from ._creation import full_like

        if re_t:
            im = full_like(re, im)
        else:
            re = full_like(im, re)
    if re.shape != im.shape:
        from ._composite_shape import broadcast_tensors

        re, im = broadcast_tensors(re, im)
    return ComplexTensor(_C.stack([re, im], -1))


def _dim(d: int, rank: int, op: str) -> int:
    return _batched._wrap_dim(int(d), rank, op)


def _dims(ds: Any, rank: int, op: str) -> list[int]:
    if isinstance(ds, int):
        return [_dim(ds, rank, op)]
    return [_dim(d, rank, op) for d in ds]


def _shape(args: tuple) -> list[int]:
    """Sizes given as varargs or as one sequence."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return [int(s) for s in args[0]]
    return [int(s) for s in args]


# ---------------------------------------------------------------------------------------- views
@rule("view")
def view(z: ComplexTensor, *shape: Any) -> Any:
    if len(shape) == 1 and isinstance(shape[0], _C.dtype):
        raise NotImplementedError(f"view(dtype): ember cannot view a complex tensor as {shape[0]}")
    return wrap(z._pair.view(*_shape(shape), 2))


@rule("reshape")
def reshape(z: ComplexTensor, *shape: Any) -> Any:
    return wrap(z._pair.reshape(*_shape(shape), 2))


@rule("permute")
def permute(z: ComplexTensor, *dims: Any) -> Any:
    n = z.dim()
    return wrap(z._pair.permute(*_dims(_shape(dims), n, "permute"), n))


@rule("transpose", "swapaxes", "swapdims")
def transpose(z: ComplexTensor, dim0: int, dim1: int) -> Any:
    n = z.dim()
    return wrap(z._pair.transpose(_dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")))


@rule("t")
def t(z: ComplexTensor) -> Any:
    if z.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {z.dim()}D")
    return transpose(z, 0, 1) if z.dim() == 2 else wrap(z._pair.view(z._pair.shape))


@rule("unsqueeze")
def unsqueeze(z: ComplexTensor, dim: int) -> Any:
    return wrap(z._pair.unsqueeze(_dim(dim, z.dim() + 1, "unsqueeze")))


@rule("squeeze")
def squeeze(z: ComplexTensor, dim: Any = None) -> Any:
    n, shape = z.dim(), z.shape
    dims = range(n) if dim is None else _dims(dim, n, "squeeze")
    ones = tuple(d for d in dims if shape[d] == 1)
    return wrap(z._pair.squeeze(ones) if ones else z._pair.view(z._pair.shape))


@rule("flatten")
def flatten(z: ComplexTensor, start_dim: int = 0, end_dim: int = -1) -> Any:
    n = z.dim()
    if n == 0:
        return reshape(z, 1)
    return wrap(z._pair.flatten(_dim(start_dim, n, "flatten"), _dim(end_dim, n, "flatten")))


@rule("unflatten")
def unflatten(z: ComplexTensor, dim: int, sizes: Any) -> Any:
    return wrap(z._pair.unflatten(_dim(dim, z.dim(), "unflatten"), sizes))


@rule("expand")
def expand(z: ComplexTensor, *sizes: Any, implicit: bool = False) -> Any:
    return wrap(z._pair.expand(*_shape(sizes), 2))


def _shaped_as(op: Callable[..., Any]) -> Callable[..., Any]:
    """view_as, reshape_as, expand_as: op to other's shape (a real tensor's own method when z is real)."""

    def run(z: Any, other: Any) -> Any:
        shape = tuple(other.shape)
        return op(z, shape) if type(z) is ComplexTensor else getattr(z, op.__name__)(shape)

    return run


for _op in (view, reshape, expand):
    RULES[_op.__name__ + "_as"] = _shaped_as(_op)
del _op


@rule("broadcast_to")
def broadcast_to(z: ComplexTensor, size: Any) -> Any:
    return expand(z, tuple(size))


@rule("select")
def select(z: ComplexTensor, dim: int, index: int) -> Any:
    return wrap(z._pair.select(_dim(dim, z.dim(), "select"), index))


@rule("narrow")
def narrow(z: ComplexTensor, dim: int, start: Any, length: int) -> Any:
    return wrap(z._pair.narrow(_dim(dim, z.dim(), "narrow"), start, length))


def _pair_index(index: Any) -> tuple:
    """A complex tensor's index, as an index of its pair (which has one more dim, last)."""
    items = _C._index_as_tuple(index)
    return (*items, slice(None))


@rule("__getitem__")
def getitem(z: ComplexTensor, index: Any) -> Any:
    return wrap(z._pair[_pair_index(index)])


@rule("__setitem__")
def setitem(z: Any, index: Any, value: Any) -> None:
    if type(z) is not ComplexTensor:
        _cannot_hold(z, value)
    z._pair[_pair_index(index)] = pair_of(value, z._pair.dtype)


@rule("unbind")
def unbind(z: ComplexTensor, dim: int = 0) -> Any:
    return wrap(z._pair.unbind(_dim(dim, z.dim(), "unbind")))


@rule("split")
def split(z: ComplexTensor, split_size_or_sections: Any, dim: int = 0) -> Any:
    return wrap(z._pair.split(split_size_or_sections, _dim(dim, z.dim(), "split")))


@rule("chunk")
def chunk(z: ComplexTensor, chunks: int, dim: int = 0) -> Any:
    return wrap(z._pair.chunk(chunks, _dim(dim, z.dim(), "chunk")))


@rule("tensor_split")
def tensor_split(z: ComplexTensor, indices_or_sections: Any, dim: int = 0) -> Any:
    return wrap(z._pair.tensor_split(indices_or_sections, _dim(dim, z.dim(), "tensor_split")))


@rule("diagonal")
def diagonal(z: ComplexTensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    n = z.dim()
    d = z._pair.diagonal(offset, _dim(dim1, n, "diagonal"), _dim(dim2, n, "diagonal"))
    return wrap(d.movedim(-1, -2))


@rule("unfold")
def unfold(z: ComplexTensor, dimension: int, size: int, step: int) -> Any:
    windows = z._pair.unfold(_dim(dimension, max(z.dim(), 1), "unfold"), size, step)
    return wrap(windows.movedim(-1, -2))


@rule("movedim", "moveaxis")
def movedim(z: ComplexTensor, source: Any, destination: Any) -> Any:
    n = z.dim()
    return wrap(z._pair.movedim(_dims(source, n, "movedim"), _dims(destination, n, "movedim")))


@rule("contiguous")
def contiguous(z: ComplexTensor, memory_format: Any = None) -> Any:
    return wrap(z._pair.contiguous())


@rule("clone")
def clone(z: ComplexTensor, *, memory_format: Any = None) -> Any:
    return wrap(z._pair.clone())


@rule("detach")
def detach(z: ComplexTensor) -> Any:
    return wrap(z._pair.detach())


@rule("detach_")
def detach_(z: ComplexTensor) -> Any:
    z._pair.detach_()
    return z


@rule("real")
def real(z: Any) -> Any:
    return z.real if type(z) is ComplexTensor else z


@rule("imag")
def imag(z: Any) -> Any:
    return z.imag


@rule("gather")
def gather(z: ComplexTensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Any:
    return wrap(z._pair.gather(_dim(dim, z.dim(), "gather"), _both_parts(index)))


@rule("index_select")
def index_select(z: ComplexTensor, dim: int, index: Tensor) -> Any:
    return wrap(z._pair.index_select(_dim(dim, z.dim(), "index_select"), index))


# ------------------------------------------------------------------------------- indexed writes
def _complex_self(z: Any, source: Any, op: str) -> ComplexTensor:
    """z, which must be complex to take complex values (PyTorch refuses a real self with a complex source)."""
    if type(z) is not ComplexTensor:
        from ._dtype_info import _scalar_name

        raise RuntimeError(  # PyTorch's words
            f"{op}_(): self ({_scalar_name(z.dtype)}) and source ({_scalar_name(source.dtype)}) must have the same "
            "scalar type"
        )
    return z


def _both_parts(index: Tensor) -> Tensor:
    """An index along a dim of z (gather's, scatter's), for z's pair: the same entry for both parts."""
    if not isinstance(index, Tensor):
        raise TypeError(f"expected an index Tensor, got {type(index).__name__}")
    return index.unsqueeze(-1).expand(*index.shape, 2)


@rule("index_add")
def index_add(z: Any, dim: int, index: Tensor, source: Any, *, alpha: Any = 1, out: Any = None) -> Any:
    z = _complex_self(z, source, "index_add")
    if alpha != 1:
        source = source * alpha
    pair = z._pair.index_add(_dim(dim, z.dim(), "index_add"), index, pair_of(source, z._pair.dtype))
    return _out(wrap(pair), out)


@rule("index_copy")
def index_copy(z: Any, dim: int, index: Tensor, source: Any, *, out: Any = None) -> Any:
    z = _complex_self(z, source, "index_copy")
    pair = z._pair.index_copy(_dim(dim, z.dim(), "index_copy"), index, pair_of(source, z._pair.dtype))
    return _out(wrap(pair), out)


@rule("index_fill")
def index_fill(z: Any, dim: int, index: Tensor, value: Any) -> Any:
    if type(z) is not ComplexTensor:  # PyTorch's words
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not supported")
    d = _dim(dim, z.dim(), "index_fill")
    fill = pair_of(value, z._pair.dtype)
    return join(*(part.index_fill(d, index, fill[k]) for k, part in enumerate(parts(z))))


@rule("scatter")
def scatter(z: Any, dim: int, index: Tensor, src: Any = None, *, value: Any = None, reduce: Any = None) -> Any:
    source = value if src is None else src
    if type(z) is not ComplexTensor:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")  # PyTorch's words
    if reduce is not None and reduce != "add":
        raise RuntimeError(f"scatter(): reduce={reduce!r} is not supported for complex tensors (only 'add')")
    d = _dim(dim, z.dim(), "scatter")
    if isinstance(source, Tensor):
        write = z._pair.scatter_add if reduce == "add" else z._pair.scatter
        return wrap(write(d, _both_parts(index), pair_of(source, z._pair.dtype)))
    fill = pair_of(source, z._pair.dtype)
    if reduce == "add":
        return wrap(z._pair.scatter_add(d, _both_parts(index), fill.expand(*index.shape, 2)))
    return join(*(part.scatter(d, index, float(fill[k])) for k, part in enumerate(parts(z))))


@rule("scatter_add")
def scatter_add(z: Any, dim: int, index: Tensor, src: Any) -> Any:
    z = _complex_self(z, src, "scatter_add")
    return wrap(z._pair.scatter_add(_dim(dim, z.dim(), "scatter_add"), _both_parts(index), pair_of(src, z._pair.dtype)))


@rule("index_put")
def index_put(z: Any, indices: Any, values: Any, accumulate: bool = False) -> Any:
    z = _complex_self(z, values if isinstance(values, Tensor) else z, "index_put")
    return wrap(z._pair.index_put(tuple(indices), pair_of(values, z._pair.dtype), accumulate))


@rule("masked_scatter")
def masked_scatter(z: Any, mask: Tensor, source: Any) -> Any:
    z = _complex_self(z, source, "masked_scatter")
    pair_mask = mask.unsqueeze(-1).expand(*mask.shape, 2)
    return wrap(z._pair.masked_scatter(pair_mask, pair_of(source, z._pair.dtype)))


# ---------------------------------------------------------------------------- joining, choosing
def _pairs_of(values: Any) -> list[Tensor]:
    """The pairs of tensors and numbers, in one part dtype: float64 when any holds float64 values."""
    wide = any(isinstance(v, Tensor) and v.dtype in (_C.dtype.complex128, _C.dtype.float64) for v in values)
    part = _C.dtype.float64 if wide else _C.dtype.float32
    return [pair_of(v, part).to(part) for v in values]


@rule("cat", "concat", "concatenate")
def cat(tensors: Any, dim: int = 0, *, out: Any = None) -> Any:
    rank = max(t.dim() for t in tensors)
    result = wrap(_C.cat(_pairs_of(tensors), _dim(dim, rank, "cat")))
    return _out(result, out)


@rule("stack")
def stack(tensors: Any, dim: int = 0, *, out: Any = None) -> Any:
    rank = tensors[0].dim() + 1
    return _out(wrap(_C.stack(_pairs_of(tensors), _dim(dim, rank, "stack"))), out)


@rule("where")
def where(condition: Tensor, input: Any, other: Any, *, out: Any = None) -> Any:
    a, b = _pairs_of([input, other])
    return _out(wrap(_C.where(condition.unsqueeze(-1), a, b)), out)


@rule("masked_fill")
def masked_fill(z: ComplexTensor, mask: Tensor, value: Any) -> Any:
    return wrap(_C.where(mask.unsqueeze(-1), pair_of(value, z._pair.dtype), z._pair))


# ------------------------------------------------------------------ real-linear ops, part by part
def per_part(op: Callable[..., Any]) -> Callable[..., Any]:
    """The rule of a real-linear op that treats real and imaginary parts alike: op on each part."""

    def run(z: Any, *args: Any, **kwargs: Any) -> Any:
        if type(z) is not ComplexTensor:
            raise NotImplementedError(f"{op.__name__}: a complex argument other than the first")
        out = kwargs.pop("out", None)
        if isinstance(kwargs.get("dtype"), _C.dtype):
            kwargs["dtype"] = part_dtype(kwargs["dtype"], op.__name__)
        re, im = parts(z)
        a, b = op(re, *args, **kwargs), op(im, *args, **kwargs)
        if isinstance(a, (tuple, list)):
            return type(a)(join(x, y) for x, y in zip(a, b))
        return _out(join(a, b), out)

    return run


def real_op(name: str) -> Callable[..., Any]:
    """ember's op `name` for real tensors, found when first called: compiled, at ember's top level,
    in nn.functional, or a Tensor method."""

    def run(*args: Any, **kwargs: Any) -> Any:
        import ember
        import ember.nn.functional as F

        if name.startswith("linalg."):
            return getattr(ember.linalg, name[len("linalg.") :])(*args, **kwargs)
        for home in (_C, ember, F):
            fn = getattr(home, name, None)
            if callable(fn):
                return fn(*args, **kwargs)
        return getattr(args[0], name)(*args[1:], **kwargs)

    run.__name__ = name
    return run


for _name in ("sum", "mean", "nansum", "nanmean", "cumsum", "trace", "tril", "triu", "diag", "diag_embed", "flip",
              "fliplr", "flipud", "roll", "rot90", "repeat", "tile", "repeat_interleave", "take", "diff",
              "take_along_dim", "pad", "nan_to_num"):  # fmt: skip
    RULES[_name] = per_part(real_op(_name))
del _name


# ---------------------------------------------------------------------------------- arithmetic
def bilinear(op: Callable[..., Any]) -> Callable[..., Any]:
    """The rule of a real-bilinear op (a product: mul, matmul, convolutions): expanded into parts,
    (a + ib)(c + id) = (ac - bd) + i(ad + bc)."""

    def run(x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        out = kwargs.pop("out", None)
        xr, xi = parts(x)
        yr, yi = parts(y)
        if xi is None:
            return _out(join(op(xr, yr, *args, **kwargs), op(xr, yi, *args, **kwargs)), out)
        if yi is None:
            return _out(join(op(xr, yr, *args, **kwargs), op(xi, yr, *args, **kwargs)), out)
        re = op(xr, yr, *args, **kwargs) - op(xi, yi, *args, **kwargs)
        im = op(xr, yi, *args, **kwargs) + op(xi, yr, *args, **kwargs)
        return _out(join(re, im), out)

    return run


def _number_product(x: Any, y: Any) -> Any:
    return x * y


mul = bilinear(_number_product)
RULES.update({n: mul for n in ("mul", "multiply", "__mul__", "__rmul__")})
# What PyTorch says when a product's operands differ in dtype (a complex with a real, or complex64 with
# complex128): these products take one dtype only, where the elementwise ones (mul, outer, kron) promote.
_MIXED_PRODUCT_ERRORS: dict[str, Callable[[Any, Any], str]] = {
    "matmul": lambda a, b: (
        f"expected m1 and m2 to have the same dtype, but got: {_cpp_type_name(a)} != {_cpp_type_name(b)}"
    ),
    "mv": lambda a, b: (
        f"expected mat and vec to have the same dtype, but got: {_cpp_type_name(a)} != {_cpp_type_name(b)}"
    ),
    "bmm": lambda a, b: f"expected scalar type {_scalar_name(a)} but found {_scalar_name(b)}",
    "dot": lambda a, b: (
        f"dot : expected both vectors to have same dtype, but found {_scalar_name(a)} and {_scalar_name(b)}"
    ),
    "tensordot": lambda a, b: "both inputs should have same dtype",
}
for _name, _like in (("mm", "matmul"), ("linear", "matmul"), ("cross", "bmm"), ("linalg.cross", "bmm"), ("vdot", "dot"),
                      ("inner", "tensordot")):  # fmt: skip
    _MIXED_PRODUCT_ERRORS[_name] = _MIXED_PRODUCT_ERRORS[_like]


def refuse_mixed_dtypes(name: str, *operands: Any) -> None:
    """PyTorch's RuntimeError when a one-dtype product (_MIXED_PRODUCT_ERRORS) gets tensors of two dtypes."""
    dtypes = [x.dtype for x in operands if isinstance(x, (Tensor, ComplexTensor))]
    for other in dtypes[1:]:
        if other != dtypes[0]:
            raise RuntimeError(_MIXED_PRODUCT_ERRORS[name](dtypes[0], other))


def one_dtype_product(name: str, product: Callable[..., Any]) -> Callable[..., Any]:
    """The product's rule, refusing operands of two dtypes first (PyTorch computes these in one dtype)."""

    def run(x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        refuse_mixed_dtypes(name, x, y)
        return product(x, y, *args, **kwargs)

    return run


for _name in ("outer", "ger", "kron"):
    RULES[_name] = bilinear(real_op(_name))
for _name in ("matmul", "mm", "bmm", "mv", "dot", "inner", "tensordot", "cross", "linalg.cross"):
    RULES[_name] = one_dtype_product(_name, bilinear(real_op(_name)))
del _name


@rule("vecdot", "linalg.vecdot")
def vecdot(x: Any, y: Any, *, dim: int = -1, out: Any = None) -> Any:
    """sum(conj(x) * y) over dim, as PyTorch's."""
    return _out(RULES["sum"](mul(conj(x), y), dim), out)


@rule("addcmul")
def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1, out: Any = None) -> Any:
    return add(input, mul(mul(tensor1, tensor2), value), out=out)


@rule("addcdiv")
def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1, out: Any = None) -> Any:
    return add(input, mul(div(tensor1, tensor2), value), out=out)


@rule("lerp")
def lerp(input: Any, end: Any, weight: Any, *, out: Any = None) -> Any:
    return add(input, mul(weight, sub(end, input)), out=out)


def convolution(name: str) -> Callable[..., Any]:
    """A convolution's rule: the bilinear product of input and weight, then the bias (once, not in each
    of the four real products)."""
    product = bilinear(real_op(name))

    def run(input: Any, weight: Any, bias: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(weight, (Tensor, ComplexTensor)) and input.dtype != weight.dtype:  # as a real convolution says
            raise RuntimeError(f"{name}: input type ({input.dtype.name}) and weight type ({weight.dtype.name}) "
                               "should be the same")  # fmt: skip
        result = product(input, weight, None, *args, **kwargs)
        if bias is None:
            return result
        spatial = result.dim() - 2
        per_channel = (
            reshape(bias, -1, *[1] * spatial) if type(bias) is ComplexTensor else bias.reshape(-1, *[1] * spatial)
        )
        return add(result, per_channel)

    return run


for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
    RULES[_name] = convolution(_name)
del _name
RULES["__matmul__"] = RULES["matmul"]
RULES["__rmatmul__"] = lambda x, y: RULES["matmul"](y, x)


@rule("vdot")
def vdot(x: Any, y: Any) -> Any:
    refuse_mixed_dtypes("vdot", x, y)
    return RULES["dot"](conj(x), y)


@rule("linear")
def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    refuse_mixed_dtypes("linear", input, weight)
    result = RULES["matmul"](input, transpose(weight, 0, 1) if type(weight) is ComplexTensor else weight.t())
    return result if bias is None else add(result, bias)


@rule("add", "__add__", "__radd__")
def add(x: Any, y: Any, *, alpha: Any = 1, out: Any = None) -> Any:
    if alpha != 1:
        y = mul(y, alpha)
    xr, xi = parts(x)
    yr, yi = parts(y)
    im = yi if xi is None else xi if yi is None else xi + yi
    return _out(join(xr + yr, im), out)


@rule("sub", "subtract", "__sub__")
def sub(x: Any, y: Any, *, alpha: Any = 1, out: Any = None) -> Any:
    if alpha != 1:
        y = mul(y, alpha)
    xr, xi = parts(x)
    yr, yi = parts(y)
    im = xi if yi is None else 0.0 - yi if xi is None else xi - yi  # 0 - 0 is +0, as a complex x - y gives
    return _out(join(xr - yr, im), out)


@rule("__rsub__")
def rsub_operator(x: Any, y: Any) -> Any:
    return sub(y, x)


@rule("rsub")
def rsub(x: Any, y: Any, alpha: Any = 1) -> Any:
    return sub(y, x, alpha=alpha)


@rule("neg", "negative", "__neg__")
def neg(x: Any) -> Any:
    if type(x) is not ComplexTensor:
        return -x
    return wrap(-x._pair)


@rule("positive", "__pos__")
def positive(z: ComplexTensor) -> Any:
    return z


@rule("resolve_conj", "resolve_neg")
def resolved(x: Any) -> Any:
    """x itself: ember conjugates and negates at once, never lazily."""
    return x


@rule("adjoint")
def adjoint(z: ComplexTensor) -> Any:
    return conj(transpose(z, -2, -1))


@rule("conj", "conj_physical")
def conj(x: Any) -> Any:
    if type(x) is not ComplexTensor:
        return x.conjugate() if isinstance(x, complex) else x
    re, im = parts(x)
    return join(re, -im)


def _abs_squared(x: Any) -> Any:
    re, im = parts(x)
    return re * re + im * im


@rule("div", "divide", "true_divide", "__truediv__")
def div(x: Any, y: Any, *, rounding_mode: Any = None, out: Any = None) -> Any:
    if rounding_mode is not None:
        raise RuntimeError(f"div with rounding_mode={rounding_mode!r} is not supported for complex numbers")
    xr, xi = parts(x)
    yr, yi = parts(y)
    if yi is None:  # a real divisor divides both parts
        return _out(join(xr / yr, xi / yr), out)
    d = _abs_squared(y)
    # x * conj(y) / |y|^2, its imaginary part as xi*yr - xr*yi (so 2 / (1+0j) is 2+0j, as PyTorch's)
    re = xr * yr if xi is None else xr * yr + xi * yi
    im = 0.0 - xr * yi if xi is None else xi * yr - xr * yi
    return _out(join(re / d, im / d), out)


@rule("__rtruediv__")
def rtruediv(x: Any, y: Any) -> Any:
    return div(y, x)


@rule("reciprocal")
def reciprocal(z: ComplexTensor) -> Any:
    return div(1.0, z)


@rule("square")
def square(z: ComplexTensor) -> Any:
    return mul(z, z)


@rule("abs", "absolute", "__abs__")
def abs_(z: ComplexTensor) -> Any:
    from .linalg import vector_norm

    return vector_norm(z._pair, 2, -1)


@rule("angle")
def angle(z: Any) -> Any:
    re, im = parts(z)
    return _C.atan2(im, re)


@rule("sgn")
def sgn(z: ComplexTensor) -> Any:
    magnitude = abs_(z)
    zero = magnitude == 0
    scale = _C.where(
        zero, creation().zeros_like(magnitude), 1.0 / _C.where(zero, creation().ones_like(magnitude), magnitude)
    )
    re, im = parts(z)
    return join(re * scale, im * scale)  # 0 at 0, with a zero gradient there, as PyTorch's


@rule("exp")
def exp(z: ComplexTensor) -> Any:
    re, im = parts(z)
    e = _C.exp(re)
    return join(e * _C.cos(im), e * _C.sin(im))


@rule("log")
def log(z: ComplexTensor) -> Any:
    return join(_C.log(abs_(z)), angle(z))


@rule("expm1")
def expm1(z: ComplexTensor) -> Any:
    return sub(exp(z), 1.0)


@rule("log1p")
def log1p(z: ComplexTensor) -> Any:
    return log(add(z, 1.0))


@rule("sinc")
def sinc(z: ComplexTensor) -> Any:
    """sin(pi z) / (pi z), 1 at 0."""
    scaled = mul(z, math.pi)
    zero = z._pair.eq(0).all(-1)
    safe = where(zero, 1.0, scaled)
    return where(zero, 1.0, div(sin(safe), safe))


@rule("logsumexp")
def logsumexp(z: ComplexTensor, dim: Any, keepdim: bool = False, *, out: Any = None) -> Any:
    """log(sum(exp(z))) over dim, shifted by the largest real part for range."""
    shift = _C.amax(z.real, dim, True).detach()
    total = log(RULES["sum"](exp(sub(z, shift)), dim, True))
    result = add(total, shift)
    return _out(result if keepdim else squeeze(result, dim), out)


@rule("exp2")
def exp2(z: ComplexTensor) -> Any:
    return exp(mul(z, math.log(2.0)))


def _i_times(z: Any) -> Any:
    return mul(z, 1j)


@rule("asin", "arcsin")
def asin(z: ComplexTensor) -> Any:
    """-i log(iz + sqrt(1 - z^2)): the principal value."""
    return mul(log(add(_i_times(z), sqrt(sub(1.0, mul(z, z))))), -1j)


@rule("acos", "arccos")
def acos(z: ComplexTensor) -> Any:
    return sub(math.pi / 2, asin(z))


@rule("atan", "arctan")
def atan(z: ComplexTensor) -> Any:
    """(i/2) (log(1 - iz) - log(1 + iz))."""
    iz = _i_times(z)
    return mul(sub(log(sub(1.0, iz)), log(add(1.0, iz))), 0.5j)


@rule("asinh", "arcsinh")
def asinh(z: ComplexTensor) -> Any:
    return log(add(z, sqrt(add(mul(z, z), 1.0))))


@rule("acosh", "arccosh")
def acosh(z: ComplexTensor) -> Any:
    return log(add(z, mul(sqrt(add(z, 1.0)), sqrt(sub(z, 1.0)))))


@rule("atanh", "arctanh")
def atanh(z: ComplexTensor) -> Any:
    return mul(sub(log(add(1.0, z)), log(sub(1.0, z))), 0.5)


@rule("silu")
def silu(z: ComplexTensor, inplace: bool = False) -> Any:
    result = mul(z, sigmoid(z))
    return _assign(z, result) if inplace else result


@rule("logaddexp")
def logaddexp(x: Any, y: Any) -> Any:
    """m + log1p(exp(other - m)), m the argument of larger real part (its imaginary part kept as it is,
    as PyTorch's)."""
    a, b = broadcast_tensors(_as_complex(x), _as_complex(y))
    first = (a.real >= b.real).detach()
    larger, smaller = where(first, a, b), where(first, b, a)
    return add(larger, log1p(exp(sub(smaller, larger))))


@rule("log10")
def log10(z: ComplexTensor) -> Any:
    return div(log(z), math.log(10.0))


@rule("log2")
def log2(z: ComplexTensor) -> Any:
    return div(log(z), math.log(2.0))


@rule("sqrt")
def sqrt(z: ComplexTensor) -> Any:
    # the principal root: real part >= 0, imaginary part of the sign of z's
    re, im = parts(z)
    r = abs_(z)
    return join(_C.sqrt((r + re) * 0.5), real_op("copysign")(_C.sqrt((r - re).clamp_min(0) * 0.5), im))


@rule("rsqrt")
def rsqrt(z: ComplexTensor) -> Any:
    return reciprocal(sqrt(z))


@rule("float_power")
def float_power(x: Any, exponent: Any, *, out: Any = None) -> Any:
    """pow in complex128, both converted first, as PyTorch's."""

    def wide(v: Any) -> Any:
        return v.to(_C.dtype.complex128) if isinstance(v, (Tensor, ComplexTensor)) else v

    return _out(pow_(wide(x), wide(exponent)), out)


@rule("pow", "__pow__")
def pow_(x: Any, exponent: Any) -> Any:
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if exponent == 2:
            return mul(x, x)
        if exponent == 1:
            return clone(x) if type(x) is ComplexTensor else x
        if exponent == 0:
            return join(creation().ones_like(parts(x)[0]), 0.0)
    if type(x) is not ComplexTensor:  # a real base to a complex power: exp(p log x)
        base = x if isinstance(x, Tensor) else complex(x)
        if isinstance(base, complex):
            return exp(mul(exponent, _log_number(base)))
        return exp(mul(exponent, log(join(base, 0.0))))
    return exp(mul(exponent, log(x)))


def _log_number(c: complex) -> complex:
    return complex(math.log(abs(c)), math.atan2(c.imag, c.real)) if c != 0 else complex(-math.inf, 0.0)


@rule("__rpow__")
def rpow(z: ComplexTensor, base: Any) -> Any:
    return pow_(base, z)


@rule("sin")
def sin(z: ComplexTensor) -> Any:
    re, im = parts(z)
    return join(_C.sin(re) * _C.cosh(im), _C.cos(re) * _C.sinh(im))


@rule("cos")
def cos(z: ComplexTensor) -> Any:
    re, im = parts(z)
    return join(_C.cos(re) * _C.cosh(im), -_C.sin(re) * _C.sinh(im))


@rule("tan")
def tan(z: ComplexTensor) -> Any:
    return div(sin(z), cos(z))


@rule("sinh")
def sinh(z: ComplexTensor) -> Any:
    re, im = parts(z)
    return join(_C.sinh(re) * _C.cos(im), _C.cosh(re) * _C.sin(im))


@rule("cosh")
def cosh(z: ComplexTensor) -> Any:
    re, im = parts(z)
    return join(_C.cosh(re) * _C.cos(im), _C.sinh(re) * _C.sin(im))


@rule("tanh")
def tanh(z: ComplexTensor) -> Any:
    return div(sinh(z), cosh(z))


@rule("sigmoid")
def sigmoid(z: ComplexTensor) -> Any:
    return reciprocal(add(exp(neg(z)), 1.0))


# ---------------------------------------------------------------------------------- comparisons
@rule("eq", "__eq__")
def eq(x: Any, y: Any) -> Any:
    xr, xi = parts(x)
    yr, yi = parts(y)
    return (xr == yr) & ((xi if xi is not None else 0.0) == (yi if yi is not None else 0.0))


@rule("ne", "__ne__")
def ne(x: Any, y: Any) -> Any:
    return ~eq(x, y)


@rule("equal")
def equal(x: Any, y: Any) -> bool:
    return tuple(x.shape) == tuple(y.shape) and bool(eq(x, y).all())


@rule("isfinite")
def isfinite(z: ComplexTensor) -> Any:
    return _C.isfinite(z._pair).all(-1)


@rule("isnan")
def isnan(z: ComplexTensor) -> Any:
    return _C.isnan(z._pair).any(-1)


@rule("isinf")
def isinf(z: ComplexTensor) -> Any:
    return _C.isinf(z._pair).any(-1)


@rule("isreal")
def isreal(z: ComplexTensor) -> Any:
    return z.imag == 0


@rule("isclose")
def isclose(x: Any, y: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    close = abs_(_as_complex(sub(x, y))) <= atol + rtol * abs_(_as_complex(y))
    if equal_nan:
        close = close | (_isnan_any(x) & _isnan_any(y))
    return close | eq(x, y)


@rule("allclose")
def allclose(x: Any, y: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(isclose(x, y, rtol, atol, equal_nan).all())


def _as_complex(x: Any) -> ComplexTensor:
    return x if type(x) is ComplexTensor else join(*(p if p is not None else 0.0 for p in parts(x)))


def _isnan_any(x: Any) -> Any:
    return isnan(x) if type(x) is ComplexTensor else _C.isnan(x)


def _no_order(name: str) -> Callable[..., Any]:
    """Ordering ops (and those built on them) refuse complex tensors, as PyTorch's, before a Python body runs."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise not_implemented(name, args, kwargs)

    return refuse


for _name in ("lt", "le", "gt", "ge", "__lt__", "__le__", "__gt__", "__ge__", "max", "min", "amax", "amin",
              "argmax", "argmin", "sort", "argsort", "topk", "clamp", "clamp_min", "clamp_max", "relu"):  # fmt: skip
    RULES[_name] = _no_order(_name)
del _name


def _nonzero(x: Any) -> Any:
    """Whether each element is nonzero (either part), as a bool tensor; real tensors as they are."""
    return (x._pair != 0).any(-1) if type(x) is ComplexTensor else x


def _on_truth(name: str) -> Callable[..., Any]:
    """A logical op or test of truth (all, any, nonzero, logical_and, ...) on whether elements are nonzero."""

    def run(*args: Any, **kwargs: Any) -> Any:
        return real_op(name)(*(_nonzero(a) for a in args), **kwargs)

    return run


for _name in ("all", "any", "nonzero", "argwhere", "logical_and", "logical_or", "logical_xor", "logical_not"):
    RULES[_name] = _on_truth(_name)
del _name


@rule("is_inference")
def is_inference(z: ComplexTensor) -> bool:
    return z._pair.is_inference()


@rule("result_type")
def result_type(x: Any, y: Any) -> Any:
    """The complex dtype wide enough for both (complex128 when either holds float64 parts)."""
    from ._complex import complex_dtype_of

    def part(v: Any) -> Any:
        if type(v) is ComplexTensor:
            return v._pair.dtype
        return v.dtype if isinstance(v, Tensor) and v.dim() > 0 else None

    wide = _C.dtype.float64 in (part(x), part(y))
    return complex_dtype_of(_C.dtype.float64 if wide else _C.dtype.float32)


# ---------------------------------------------------------------------------------- in place
def _cannot_hold(target: Any, value: Any) -> None:
    from ._dtype_info import _scalar_name

    complex_dtype = value.dtype if type(value) is ComplexTensor else _C.dtype.complex64
    raise RuntimeError(f"result type {scalar_type_name(complex_dtype)} can't be cast to the desired output type "
                       f"{_scalar_name(target.dtype)}")  # fmt: skip


def _assign(target: Any, result: Any) -> Any:
    """An in-place op's end: its result written into `target` (which must be complex)."""
    if type(target) is not ComplexTensor:
        _cannot_hold(target, result)
    target._pair.copy_(pair_of(result, target._pair.dtype).expand_as(target._pair))
    return target


def _out(result: Any, out: Any) -> Any:
    if out is None:
        return result
    from ._complex import copy_into

    return copy_into(out, result)


def _inplace(op: Callable[..., Any]) -> Callable[..., Any]:
    def run(target: Any, *args: Any, **kwargs: Any) -> Any:
        return _assign(target, op(target, *args, **kwargs))

    return run


@rule("copy_")
def copy_(target: Any, source: Any, non_blocking: bool = False) -> Any:
    if type(target) is not ComplexTensor:
        raise NotImplementedError("copy_: copying a complex tensor into a real one; take .real first")
    return _assign(target, source)


@rule("zero_")
def zero_(z: ComplexTensor) -> Any:
    z._pair.zero_()
    return z


@rule("fill_")
def fill_(z: Any, value: Any) -> Any:
    if type(z) is not ComplexTensor:
        _cannot_hold(z, value)
    if not isinstance(value, (Tensor, numbers.Number)):
        raise TypeError(f"fill_(): argument 'value' must be Number, not {type(value).__name__}")
    value = value.item() if isinstance(value, Tensor) else complex(value)
    z._pair[..., 0] = value.real
    z._pair[..., 1] = value.imag
    return z


@rule("uniform_")
def uniform_(z: ComplexTensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Any:
    """Both parts uniform on [a, b), as PyTorch's."""
    z._pair.uniform_(a, b, generator=generator)
    return z


@rule("normal_")
def normal_(z: ComplexTensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Any:
    """Both parts normal around mean with std / sqrt(2), so |z - mean| has variance std^2, as PyTorch's."""
    z._pair.normal_(mean, std / math.sqrt(2.0), generator=generator)
    return z


# ---------------------------------------------------------------------------------- conversions
@rule("to")
def to(z: ComplexTensor, *args: Any, **kwargs: Any) -> Any:
    dtype, device = _batched.to_arguments(args, kwargs)
    pair = z._pair if device is None else z._pair.to(device, non_blocking=kwargs.get("non_blocking", False))
    if dtype is None or dtype == z.dtype:
        if pair is z._pair:
            return clone(z) if kwargs.get("copy") else z
        return wrap(pair)
    if dtype.is_complex:
        return wrap(pair.to(part_dtype(dtype, "to")))
    if dtype == _C.dtype.bool:
        return _nonzero(wrap(pair))
    return real_of(wrap(pair), dtype)


@rule("_to_device")
def to_device(z: ComplexTensor, device: Any, dtype: Any, non_blocking: bool = False) -> Any:
    if not dtype.is_complex:
        return real_of(z, dtype).to(device)
    return wrap(z._pair._to_device(device, part_dtype(dtype, "to"), non_blocking))


@rule("type")
def type_(z: ComplexTensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    if dtype is None:
        return "ember.ComplexDoubleTensor" if z.dtype == _C.dtype.complex128 else "ember.ComplexFloatTensor"
    return to(z, dtype)


@rule("type_as")
def type_as(z: Any, other: Any) -> Any:
    return to(z, other.dtype) if type(z) is ComplexTensor else z.to(other.dtype)


@rule("cpu")
def cpu(z: ComplexTensor, memory_format: Any = None) -> Any:
    return to(z, "cpu")


@rule("cuda")
def cuda(z: ComplexTensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Any:
    return wrap(z._pair.cuda(device))


for _name, _dtype in (("double", _C.dtype.float64), ("float", _C.dtype.float32), ("half", _C.dtype.float16),
                      ("bfloat16", _C.dtype.bfloat16), ("int", _C.dtype.int32), ("long", _C.dtype.int64),
                      ("short", _C.dtype.int16), ("char", _C.dtype.int8), ("byte", _C.dtype.uint8),
                      ("bool", _C.dtype.bool)):  # fmt: skip
    RULES[_name] = (lambda d: lambda z, memory_format=None: to(z, d))(_dtype)
del _name, _dtype


def _new(kind: str) -> Callable[..., Any]:
    def make(z: ComplexTensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
             layout: Any = None, pin_memory: bool = False) -> Any:  # fmt: skip
        from ._complex import create

        dtype = dtype or z.dtype
        device = device or z.device
        if kind == "full":
            shape, value = _shape((size[0],)), size[1]
        else:
            shape, value = _shape(size), None
        if not dtype.is_complex:
            from . import _creation

            made = getattr(_creation, kind)
            return (
                made(shape, value, dtype=dtype, device=device)
                if kind == "full"
                else made(shape, dtype=dtype, device=device)
            )
        return create(kind, shape, dtype, device, requires_grad, fill=value)

    return make


for _name in ("zeros", "ones", "empty", "full"):
    RULES["new_" + _name] = _new(_name)
del _name


@rule("new_tensor")
def new_tensor(z: ComplexTensor, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
    from ._creation import tensor

    return tensor(data, dtype=dtype or z.dtype, device=device or z.device, requires_grad=requires_grad)


@rule("is_complex")
def is_complex(z: Any) -> bool:
    return type(z) is ComplexTensor


@rule("numel")
def numel(z: ComplexTensor) -> int:
    return z.numel()


@rule("broadcast_tensors")
def broadcast_tensors(*tensors: Any) -> Any:
    from ._composite_shape import broadcast_shapes

    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, shape) if type(t) is ComplexTensor else t.expand(shape) for t in tensors)


@rule("norm", "vector_norm")
def norm(z: ComplexTensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Any = None) -> Any:  # fmt: skip
    """torch.norm and linalg.vector_norm: the norm of the moduli."""
    from .linalg import vector_norm

    result = vector_norm(abs_(z), 2 if p in (None, "fro") else p, dim, keepdim)
    result = result if dtype is None else result.to(part_dtype(dtype, "norm") if dtype.is_complex else dtype)
    return result if out is None else out.resize_(result.shape).copy_(result)


@rule("linalg.norm")
def linalg_norm(z: ComplexTensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
                out: Any = None) -> Any:  # fmt: skip
    """linalg.norm: a vector norm, or the Frobenius norm of matrices (the norm of the moduli)."""
    dims = None if dim is None else [dim] if isinstance(dim, int) else list(dim)
    vector = (dims is not None and len(dims) == 1) or (dims is None and z.dim() == 1)
    if not vector and ord not in (None, "fro"):
        raise NotImplementedError(f"linalg.norm: the matrix norm ord={ord!r} of a complex tensor is not there yet")
    return norm(z, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


@rule("count_nonzero")
def count_nonzero(z: ComplexTensor, dim: Any = None) -> Any:
    nonzero = _nonzero(z)
    return nonzero.sum() if dim is None else nonzero.sum(dim)


@rule("var")
def var(z: ComplexTensor, dim: Any = None, *args: Any, **kwargs: Any) -> Any:
    """The variance of the real parts plus that of the imaginary parts, as PyTorch's."""
    re, im = parts(z)
    return _C.var(re, dim, *args, **kwargs) + _C.var(im, dim, *args, **kwargs)


@rule("std")
def std(z: ComplexTensor, dim: Any = None, *args: Any, **kwargs: Any) -> Any:
    return var(z, dim, *args, **kwargs).sqrt()


@rule("cumprod")
def cumprod(z: ComplexTensor, dim: int, *, dtype: Any = None, out: Any = None) -> Any:
    """The running product along dim, as a scan: log2(n) steps, each multiplying by the values 2^j back."""
    x = movedim(z if dtype is None else to(z, dtype), dim, -1)
    n, step = x.shape[-1], 1
    while step < n:
        head, tail = narrow(x, -1, 0, step), mul(narrow(x, -1, step, n - step), narrow(x, -1, 0, n - step))
        x = cat([head, tail], -1)
        step *= 2
    return _out(movedim(x, -1, dim), out)


def _add_product(product: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """addmm and its family: beta * input + alpha * product(first, second)."""

    def run(input: Any, first: Any, second: Any, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Any:
        return add(mul(input, beta), mul(product(first, second), alpha), out=out)

    return run


for _name, _product in (
    ("addmm", lambda a, b: RULES["matmul"](a, b)),
    ("addmv", lambda a, b: RULES["matmul"](a, b)),
    ("baddbmm", lambda a, b: RULES["matmul"](a, b)),
    ("addbmm", lambda a, b: RULES["sum"](_as_complex(RULES["matmul"](a, b)), 0)),
    ("addr", lambda a, b: RULES["outer"](a, b)),
):
    RULES[_name] = _add_product(_product)
del _name, _product


def _with_mean(spread: Callable[..., Any]) -> Callable[..., Any]:
    """std_mean, var_mean: the spread and the mean over the same dims."""

    def run(z: ComplexTensor, dim: Any = None, *args: Any, **kwargs: Any) -> Any:
        mean = RULES["mean"](z) if dim is None else RULES["mean"](z, dim, kwargs.get("keepdim", False))
        return spread(z, dim, *args, **kwargs), mean

    return run


RULES["std_mean"], RULES["var_mean"] = _with_mean(std), _with_mean(var)


@rule("cov")
def cov(input: ComplexTensor, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Any:
    """The covariance of the rows (variables) over the columns (observations), as PyTorch's:
    centred x @ conj(centred x).T / (N - correction)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: weights with a complex input are not there yet")
    x = input if input.dim() == 2 else reshape(input, 1, -1)
    centred = sub(x, RULES["mean"](x, 1, True))
    return div(RULES["matmul"](centred, conj(transpose(centred, 0, 1))), max(x.shape[1] - correction, 0))


@rule("corrcoef")
def corrcoef(input: ComplexTensor) -> Any:
    """cov normalised by the standard deviations, real and imaginary parts clipped to [-1, 1], as PyTorch's."""
    c = cov(input)
    if c.dim() == 0:
        return div(c, c)
    d = _C.sqrt(_C.diagonal(c.real))
    scaled = div(div(c, d.unsqueeze(1)), d.unsqueeze(0))
    return join(scaled.real.clamp(-1, 1), scaled.imag.clamp(-1, 1))


@rule("masked_select")
def masked_select(z: ComplexTensor, mask: Tensor) -> Any:
    from ._composite_shape import broadcast_shapes

    shape = broadcast_shapes(tuple(z.shape), tuple(mask.shape))
    return getitem(expand(z, shape), mask.expand(shape))


@rule("linalg.diagonal")
def linalg_diagonal(z: ComplexTensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
    return diagonal(z, offset, dim1, dim2)


def _real_block(z: Any) -> Tensor:
    """The real 2n x 2n matrix [[A, -B], [B, A]] of the complex matrix A + iB (batched): complex products,
    inverses and solutions are those of these blocks, so real linear algebra (and its gradients) serve."""
    a, b = parts(z)
    if b is None:
        b = creation().zeros_like(a)
    return _C.cat([_C.cat([a, -b], -1), _C.cat([b, a], -1)], -2)


def _from_block_columns(x: Tensor, n: int) -> ComplexTensor:
    """The complex matrix whose real and imaginary parts are the top and bottom n rows of x."""
    return join(x.narrow(-2, 0, n), x.narrow(-2, n, n))


@rule("linalg.inv", "inverse")
def inv(z: ComplexTensor, *, out: Any = None) -> Any:
    """The inverse, from the inverse of the real block matrix (whose first n columns hold it)."""
    from . import linalg

    n = z.shape[-1]
    return _out(_from_block_columns(linalg.inv(_real_block(z)).narrow(-1, 0, n), n), out)


@rule("linalg.solve")
def solve(z: Any, rhs: Any, *, left: bool = True, out: Any = None) -> Any:
    """X with z X = rhs (X z = rhs when not left), through the real block system."""
    from . import linalg

    if not left:  # X z = rhs  <=>  z^T X^T = rhs^T
        return _out(
            transpose(solve(transpose(_as_complex(z), -2, -1), transpose(_as_complex(rhs), -2, -1)), -2, -1), out
        )
    n = z.shape[-1]
    vector = rhs.dim() == 1 or (rhs.dim() == z.dim() - 1 and tuple(rhs.shape) == tuple(z.shape[:-1]))
    if z.dim() < 2 or z.shape[-2] != n or rhs.shape[-1 if vector else -2] != n:  # said in complex shapes
        shapes = " and ".join("x".join(map(str, t.shape[-2:])) for t in (z, rhs))
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({shapes})")
    columns = unsqueeze(_as_complex(rhs), -1) if vector else _as_complex(rhs)
    stacked = _C.cat(list(parts(columns)), -2)  # [real; imaginary] rows
    x = _from_block_columns(linalg.solve(_real_block(z), stacked), n)
    return _out(select(x, -1, 0) if vector else x, out)


@rule("prod")
def prod(z: ComplexTensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    """The product of the elements (along dim), as halves multiplied pairwise: log2(n) complex products."""
    z = z if dtype is None else to(z, dtype)
    x = reshape(z, -1) if dim is None else movedim(z, dim, -1)
    if x.shape[-1] == 0:
        return creation().ones(x.shape[:-1], dtype=z.dtype, device=z.device)
    while x.shape[-1] > 1:
        n = x.shape[-1]
        half = n // 2
        product = mul(narrow(x, -1, 0, half), narrow(x, -1, half, half))
        x = cat([product, narrow(x, -1, 2 * half, 1)], -1) if n % 2 else product
    result = select(x, -1, 0)
    return unsqueeze(result, dim) if keepdim and dim is not None else result


@rule("einsum")
def einsum(equation: str, *operands: Any) -> Any:
    """The complex einsum as real einsums over every choice of real or imaginary part of the operands:
    a choice with k imaginary parts contributes i^k times its einsum."""
    from ._composite_linalg import einsum as real_einsum

    split = [parts(x) for x in operands]  # einsum(eq, [a, b]) arrives unpacked (overrides._dispatch_function)
    sums: list[Any] = [None, None]  # real, imaginary
    for choice in range(1 << len(split)):
        picked = [p[1] if choice >> i & 1 else p[0] for i, p in enumerate(split)]
        if any(x is None for x in picked):
            continue
        term = real_einsum(equation, *picked)
        k = bin(choice).count("1") % 4
        signed = term if k < 2 else -term  # i^k: 1, i, -1, -i
        sums[k % 2] = signed if sums[k % 2] is None else sums[k % 2] + signed
    re, im = sums
    return join(re, im if im is not None else creation().zeros_like(re))


RULES["not_equal"] = RULES["ne"]


def _view_in_place(op: Callable[..., Any]) -> Callable[..., Any]:
    """squeeze_, t_, ...: the tensor itself becomes the view op(z) of its memory."""

    def run(z: ComplexTensor, *args: Any, **kwargs: Any) -> Any:
        z._pair = op(z, *args, **kwargs)._pair
        return z

    return run


for _name in ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims"):
    RULES[_name + "_"] = _view_in_place(RULES[_name])


# The in-place forms of the rules above: the result written into the complex tensor.
for _name in ("add", "sub", "mul", "div", "neg", "conj_physical", "exp", "sqrt", "reciprocal", "pow", "addcmul",
              "addcdiv", "lerp", "log", "log2", "log10", "rsqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh",
              "sigmoid", "square", "negative", "sgn", "expm1", "log1p", "sinc", "nan_to_num", "exp2", "asin", "acos",
              "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
              "cumsum", "cumprod", "tril", "triu", "masked_fill", "conj", "eq", "ne", "not_equal", "logical_and",
              "logical_or", "logical_xor", "logical_not", "index_add", "index_copy", "index_fill", "scatter",
              "scatter_add", "index_put", "masked_scatter"):  # fmt: skip
    RULES[_name + "_"] = _inplace(RULES[_name])
for _name, _alias in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"), ("pow", "pow")):
    RULES[f"__i{_name}__"] = RULES[_alias + "_"]
RULES["subtract_"], RULES["multiply_"], RULES["divide_"] = RULES["sub_"], RULES["mul_"], RULES["div_"]
RULES["true_divide_"] = RULES["div_"]
del _name, _alias


def _install_operators() -> None:
    """ComplexTensor's operators run their rules directly, without the stand-ins' hook (half the cost)."""
    for name in _batched.OPERATORS:
        found = RULES.get(f"__{name}__")
        if found is not None:
            setattr(ComplexTensor, f"__{name}__", found)


_install_operators()
