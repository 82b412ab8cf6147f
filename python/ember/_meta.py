"""Tensors on the meta device: shape, dtype and strides, no data (Note [Meta tensors])."""

# Note [Meta tensors]
# A MetaTensor stands for a tensor on the "meta" device: sizes, strides, dtype, requires_grad
# and, for autograd, the meta tensors it was computed from; no storage. ember's creation
# functions make one for device="meta" (or under `with ember.device("meta")`). An op reaching a
# MetaTensor goes to `dispatch`, as BatchedTensors do (Note [Batched dispatch]), which computes
# the result's metadata without touching data of the meta shape: from a shape rule for ops
# whose result shape depends on their arguments (view, cat, conv2d, indexing, ...), otherwise
# by running the op on proxies: small tensors whose every dim of size s > 1 gets a distinct
# small prime size (equal sizes stay equal, so broadcasting and products still line up); the
# proxy result's sizes map back to the real ones. The proxy runs twice, with two sets of
# primes, and the two answers must agree, so a size the op made itself (a sum, a product) is
# found out instead of mistaken for an input's. backward() gives every leaf that requires grad
# a meta gradient of its own shape.

from __future__ import annotations

import math
from typing import Any, Callable, Iterator

from . import _C, _batched
from ._C import Tensor

_PRIMES = ([5, 11, 17, 23, 31, 41, 47, 59, 67, 73], [7, 13, 19, 29, 37, 43, 53, 61, 71, 79])
_PROXY_LIMIT = 1 << 22  # elements of one proxy tensor


def contiguous_strides(shape: tuple) -> tuple:
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


class _MetaNode:
    """What a meta result's grad_fn shows: the backward node's name and the nodes of its inputs (no
    formula runs on meta)."""

    __slots__ = ("_name", "_inputs")

    def __init__(self, name: str, inputs: list[MetaTensor] | None = None) -> None:
        self._name, self._inputs = name, inputs or []

    def name(self) -> str:
        return self._name

    @property
    def next_functions(self) -> tuple:
        """(node, 0) per input that requires grad, as PyTorch's: a leaf's AccumulateGrad, else its grad_fn."""
        return tuple((t._node or AccumulateGrad(t), 0) for t in self._inputs)

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"


class AccumulateGrad:
    """A meta leaf's node in next_functions (the graph walks of ember.func look for this name)."""

    __slots__ = ("variable",)

    def __init__(self, variable: MetaTensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _node_name(op: str) -> str:
    base = op.strip("_").rstrip("_")
    return "".join(part.capitalize() for part in base.split("_")) + "Backward0"


class MetaTensor(_batched.TensorLike):
    """A tensor on the meta device: metadata without data (Note [Meta tensors])."""

    # __dict__: attributes code sets on a tensor (nn.Buffer's mark, a library's tags), as on any tensor
    __slots__ = ("_shape", "_strides", "_dtype", "_requires_grad", "grad", "_inputs", "_node", "_parameter", "_base",
                 "__dict__")  # fmt: skip

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # A meta parameter's class is MetaTensor to type() (its __class__ says Parameter), and code that remakes a
        # parameter as type(p)(data, requires_grad=...) (accelerate loading weights into a meta model) means
        # PyTorch's Parameter(data): so it is, for data of any device.
        if args and isinstance(args[0], (Tensor, MetaTensor)):
            from .nn.parameter import Parameter

            return Parameter(*args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        shape: tuple,
        dtype: Any = None,  # given always, but type(p)(meta data) reaches here with the data alone
        requires_grad: bool = False,
        strides: tuple | None = None,
        base: MetaTensor | None = None,
    ) -> None:
        if isinstance(shape, MetaTensor):  # type(p)(meta data): __new__ made the parameter already
            return
        self._shape = tuple(int(s) for s in shape)
        self._strides = tuple(strides) if strides is not None else contiguous_strides(self._shape)
        self._dtype = dtype
        self._requires_grad = requires_grad
        self.grad: MetaTensor | None = None
        self._inputs: list[MetaTensor] = []
        self._node: _MetaNode | None = None
        self._parameter = False
        self._base = base
        _batched.keep_checks_on()

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return _batched.stand_in_class(self._parameter)

    # ------------------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Any:
        from ._tensor import Size

        return Size(self._shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        return self._shape[_batched._wrap_dim(dim, len(self._shape), "size")]

    def stride(self, dim: int | None = None) -> Any:
        if dim is None:
            return self._strides
        return self._strides[_batched._wrap_dim(dim, len(self._shape), "stride")]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return all(s <= 1 or st == c for s, st, c in zip(self._shape, self._strides, contiguous_strides(self._shape)))

    def dim(self) -> int:
        return len(self._shape)

    ndim = property(dim)

    def ndimension(self) -> int:
        return self.dim()

    def numel(self) -> int:
        return math.prod(self._shape)

    nelement = numel

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    @property
    def dtype(self) -> Any:
        return self._dtype

    @property
    def device(self) -> Any:
        return _C.device("meta")

    is_meta = True
    is_cuda = is_cpu = False

    @property
    def layout(self) -> Any:
        from ._creation import strided

        return strided

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self._dtype.itemsize

    def storage_offset(self) -> int:
        return 0  # no storage: views of meta tensors start where their storage would

    def get_device(self) -> int:
        return -1

    def data_ptr(self) -> int:
        return 0

    # ------------------------------------------------------------------------------ autograd
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> MetaTensor:
        if not self.is_leaf and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in "
                "a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if requires_grad and not (self._dtype.is_floating_point):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> _MetaNode | None:
        return self._node

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def detach(self) -> MetaTensor:
        return MetaTensor(self._shape, self._dtype, strides=self._strides)

    def detach_(self) -> MetaTensor:
        self._node, self._inputs, self._requires_grad = None, [], False
        return self

    @property
    def data(self) -> MetaTensor:
        return self.detach()

    def retain_grad(self) -> None:
        return None

    def backward(
        self, gradient: Any = None, retain_graph: Any = None, create_graph: bool = False, inputs: Any = None
    ) -> None:
        """Gives every leaf that requires grad and that this tensor depends on a meta .grad."""
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None and self.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        wanted = None if inputs is None else {id(t) for t in ([inputs] if _batched.is_tensor(inputs) else inputs)}
        for leaf in self._leaves():
            if (wanted is None or id(leaf) in wanted) and leaf.grad is None:
                leaf.grad = MetaTensor(leaf._shape, leaf._dtype)

    def _leaves(self) -> Iterator[MetaTensor]:
        seen: set[int] = set()
        stack = [self]
        while stack:
            t = stack.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            if t.is_leaf:
                if t._requires_grad:
                    yield t
            else:
                stack.extend(t._inputs)

    # ------------------------------------------------------------------------ no data to give
    def item(self) -> Any:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def _no_data(self, *args: Any) -> Any:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    __bool__ = __float__ = __int__ = __index__ = __complex__ = _no_data

    def tolist(self) -> Any:
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def numpy(self, *, force: bool = False) -> Any:
        raise TypeError(
            "can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
        )

    __array__ = numpy

    def cpu(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def to(self, *args: Any, **kwargs: Any) -> Any:
        dtype, device = _batched.to_arguments(args, kwargs)
        if device is not None and str(device) != "meta":
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")
        if dtype is None or dtype == self._dtype:
            return self
        return _record("_to_copy", [self], MetaTensor(self._shape, dtype))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        parts = ["device='meta'", f"size={self._shape}"]
        from ._creation import get_default_dtype

        if self._dtype != get_default_dtype():
            parts.append(f"dtype={self._dtype}")
        if self._node is not None:
            parts.append(f"grad_fn=<{self._node.name()}>")
        elif self._requires_grad:
            parts.append("requires_grad=True")
        text = "tensor(..., " + ", ".join(parts) + ")"
        return ("Parameter containing:\n" + text) if self._parameter else text

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __deepcopy__(self, memo: dict) -> MetaTensor:
        copy = MetaTensor(self._shape, self._dtype, self._requires_grad and self.is_leaf, self._strides)
        copy._parameter = self._parameter
        memo[id(self)] = copy
        return copy

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild, (self._shape, self._dtype, self._requires_grad, self._parameter))

    # ------------------------------------------------------------------------ everything else
    def __getattr__(self, name: str) -> Any:
        if name in _INPLACE_FILLS:  # nn.init's fills: nothing to write (and no data to draw for)
            return lambda *args, **kwargs: self
        return _batched.tensor_attribute(self, name)


def _rebuild(shape: tuple, dtype: Any, requires_grad: bool, parameter: bool) -> MetaTensor:
    t = MetaTensor(shape, dtype, requires_grad)
    t._parameter = parameter
    return t


def empty(shape: Any, dtype: Any, requires_grad: bool = False) -> MetaTensor:
    """A meta tensor made by a creation function, with its checks of size and dtype."""
    if not isinstance(dtype, _C.dtype):
        raise TypeError(f"dtype must be an ember.dtype, not {type(dtype).__name__}")
    negative = [s for s in shape if s < 0]
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: {list(shape)}")
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return MetaTensor(tuple(shape), dtype, requires_grad)


def copied(t: Tensor, dtype: Any) -> MetaTensor:
    """t.to("meta"): t's shape in `dtype`, without the data. As in PyTorch, a non-leaf (ToCopyBackward0)
    when t requires grad and grad mode is on; a backward through it stops there (no meta gradient
    reaches a tensor with data)."""
    from .grad_mode import is_grad_enabled

    out = empty(tuple(t.shape), dtype)
    if t.requires_grad and is_grad_enabled() and dtype.is_floating_point:
        out._requires_grad, out._node = True, _MetaNode("ToCopyBackward0")
    return out


def parameter(data: MetaTensor, requires_grad: bool) -> MetaTensor:
    """nn.Parameter(meta tensor): a meta leaf that Modules take as a Parameter."""
    p = MetaTensor(data._shape, data._dtype, requires_grad, data._strides)
    p._parameter = True
    return p


# ------------------------------------------------------------------------------- dispatching
def _metas(args: tuple, kwargs: dict) -> list[MetaTensor]:
    found = []
    for a in (*args, *kwargs.values()):
        for x in a if isinstance(a, (tuple, list)) else (a,):
            if type(x) is MetaTensor:
                found.append(x)
    return found


def holds_meta(args: tuple, kwargs: dict) -> bool:
    return bool(_metas(args, kwargs))


_INPLACE_FILLS = {
    "uniform_", "normal_", "zero_", "fill_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_",
    "bernoulli_", "copy_", "fill_diagonal_", "clamp_", "clamp_min_", "clamp_max_",
}  # fmt: skip


def dispatch(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    """Runs op `name` on arguments some of which are meta tensors: the result's metadata only."""
    metas = _metas(args, kwargs)
    for a in (*args, *kwargs.values()):
        for x in a if isinstance(a, (tuple, list)) else (a,):
            if type(x) is not MetaTensor and isinstance(x, Tensor) and x.dim() > 0:
                raise RuntimeError(f"Tensor on device {x.device} is not on the expected device meta!")
    if name in _DYNAMIC:
        raise NotImplementedError(
            f"Could not run '{name}' with arguments from the 'Meta' backend: its result's shape depends on the values"
        )
    inplace = method and (
        (name.endswith("_") and not name.startswith("__")) or (name.startswith("__i") and name != "__invert__")
    )
    if inplace:
        self = args[0]
        if type(self) is not MetaTensor:
            raise RuntimeError(f"Tensor on device {self.device} is not on the expected device meta!")
        if name not in _INPLACE_FILLS:
            result = _compute(name.rstrip("_") if not name.startswith("__") else "__" + name[3:], method, args, kwargs)
            first = result[0] if isinstance(result, tuple) else result
            if tuple(first._shape) != self._shape:
                raise RuntimeError(
                    f"output with shape {list(self._shape)} doesn't match the broadcast shape {list(first._shape)}"
                )
        return self
    result = _compute(name, method, args, kwargs)
    return _record(name, metas, result)


def _compute(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    rule = RULES.get(name)
    if rule is not None:
        return rule(args, kwargs)
    return _by_proxy(name, method, args, kwargs)


def _record(name: str, metas: list[MetaTensor], result: Any) -> Any:
    from .grad_mode import is_grad_enabled

    needs = [m for m in metas if m._requires_grad]
    outs = result if isinstance(result, (tuple, list)) else (result,)
    if needs and is_grad_enabled():
        node = _MetaNode(_node_name(name), needs)
        for o in outs:
            if type(o) is MetaTensor and o._dtype.is_floating_point and name not in _NO_GRAD:
                o._requires_grad, o._inputs, o._node = True, needs, node
    return result


_DYNAMIC = {"nonzero", "masked_select", "unique", "unique_consecutive", "argwhere", "bincount", "histc"}
_NO_GRAD = {"argmax", "argmin", "argsort", "eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf", "isfinite", "sign"}


# --------------------------------------------------------------------------------- the proxy
def _by_proxy(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    """The op's result metadata from running it on proxies of the meta arguments (see the Note)."""
    answers = []
    from .grad_mode import no_grad

    for primes in _PRIMES:
        sizes = _ProxySizes(primes, name)
        with no_grad(), _C.device("cpu"):  # the proxies and whatever the op makes on the way are real
            out = _batched.call(name, method, sizes.of(args), {k: sizes.of(v) for k, v in kwargs.items()})
        to_proxy = sizes.to_proxy
        back = {q: s for s, q in to_proxy.items()}
        answers.append(_map_back(out, back, name))
    if _signature(answers[0]) != _signature(answers[1]):
        raise NotImplementedError(f"ember: {name} has no shape rule for meta tensors (its result's sizes are its own)")
    return answers[0]


class _ProxySizes:
    """One proxy run's map from real sizes (> 1) to distinct small primes."""

    def __init__(self, primes: list[int], name: str) -> None:
        self.to_proxy: dict[int, int] = {}
        self.fresh = iter(primes)
        self.name = name

    def of(self, x: Any) -> Any:
        """x with every meta tensor replaced by its proxy (a real tensor of ones)."""
        if isinstance(x, (tuple, list)):
            return type(x)(self.of(e) for e in x)
        if type(x) is not MetaTensor:
            return x
        shape = []
        for s in x._shape:
            if s > 1 and s not in self.to_proxy:
                prime = next(self.fresh, None)
                if prime is None:
                    raise NotImplementedError(f"ember: {self.name} on meta tensors with this many distinct sizes")
                self.to_proxy[s] = prime
            shape.append(self.to_proxy.get(s, s))
        if math.prod(shape) > _PROXY_LIMIT:
            raise NotImplementedError(f"ember: {self.name} on meta tensors of {x.dim()} dims has no shape rule")
        from ._creation import ones

        return ones(*shape, dtype=x._dtype, device="cpu")


def _map_back(out: Any, back: dict[int, int], name: str) -> Any:
    if isinstance(out, Tensor):
        return MetaTensor(tuple(back.get(q, q) for q in out.shape), out.dtype)
    if isinstance(out, tuple):
        items = [_map_back(o, back, name) for o in out]
        return type(out)(*items) if hasattr(out, "_fields") else tuple(items)
    if isinstance(out, list):
        return [_map_back(o, back, name) for o in out]
    raise NotImplementedError(f"ember: {name} on meta tensors returns {type(out).__name__}, which has no meta form")


def _signature(x: Any) -> Any:
    if type(x) is MetaTensor:
        return (x._shape, x._dtype)
    if isinstance(x, (tuple, list)):
        return tuple(_signature(e) for e in x)
    return x


RULES: dict[str, Callable[[tuple, dict], Any]] = {}


def grad(outputs: list, inputs: list, allow_unused: bool | None, materialize_grads: bool) -> tuple:
    """autograd.grad on meta tensors: a meta gradient of its shape for every input the outputs
    depend on."""
    for o in outputs:
        if not o.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        t = stack.pop()
        if id(t) not in seen and type(t) is MetaTensor:
            seen.add(id(t))
            stack.extend(t._inputs)
    result = []
    for index, x in enumerate(inputs):
        if id(x) in seen or materialize_grads:
            result.append(MetaTensor(tuple(x.shape), x.dtype))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(
                f"The differentiated Tensor at index {index} appears to not have been used in the graph. Set "
                "allow_unused=True if this is the desired behavior."
            )
    return tuple(result)


def install() -> None:
    from . import _meta_rules  # noqa: F401  (fills RULES)
