"""vmap's machinery: batch levels, BatchedTensor and the dispatcher (Note [Batched tensors]).

The batching rules themselves live in ``_batch_rules.py``; ``vmap`` itself in ``__init__.py``.
"""

# Note [Batched tensors]
# vmap(f)(x) calls f once, on BatchedTensors. A BatchedTensor stands for one tensor of the
# shape f sees (its logical shape) per batch entry, and holds them all as one tensor, its
# `value`, whose dim 0 is the batch: always dim 0, so a rule never searches for it. It belongs
# to one vmap level; nested vmaps nest BatchedTensors (a level-2 value may be a level-1
# BatchedTensor), so the tensor at the bottom holds the batch dims of the levels it belongs to,
# outermost first, then the logical dims.
#
# An op called with BatchedTensor arguments reaches `dispatch`: from the compiled catch-all
# overload of every registered function and method (Note [Batched dispatch]) or from
# BatchedTensor's own methods and operators. `dispatch` takes the highest level among the
# arguments and runs the op's batching rule on the arguments of that level unwrapped (their
# values) and the others as they are; the rule calls ember ops again (which dispatch for the
# lower levels) and wraps its result. An op without a rule runs once per batch entry and the
# results are stacked (the fallback, which warns once per op, as PyTorch does).
#
# Autograd sees only the tensors at the bottom: the graph is recorded on them, and the
# transforms of ember.func differentiate them per batch entry by summing over the batch, which
# is exact because batch entries never mix (each differentiated input is first made batched at
# every level, see `lift`).

from __future__ import annotations

import inspect
import threading
import types
import warnings
from typing import Any, Callable, Iterator

from . import _C
from ._C import Tensor


class Level:
    """One running vmap: its batch size and randomness mode."""

    __slots__ = ("depth", "size", "randomness", "alive")

    def __init__(self, depth: int, size: int, randomness: str) -> None:
        self.depth, self.size, self.randomness, self.alive = depth, size, randomness, True


class _State(threading.local):
    def __init__(self) -> None:
        self.levels: list[Level] = []


_state = _State()
_active_count = 0  # vmaps running in any thread: the compiled checks are on while it is > 0
_meta_made = False  # or once a meta tensor exists (Note [Meta tensors])
_active_lock = threading.Lock()


def meta_made() -> bool:
    return _meta_made


def keep_checks_on() -> None:
    """Turns the compiled argument checks on for good (a MetaTensor now exists)."""
    global _meta_made
    if not _meta_made:
        _meta_made = True
        _C._set_batching_active(True)


def levels() -> list[Level]:
    """The vmaps running on this thread, outermost first."""
    return _state.levels


def push(size: int, randomness: str) -> Level:
    global _active_count
    level = Level(len(_state.levels) + 1, size, randomness)
    _state.levels.append(level)
    with _active_lock:
        _active_count += 1
        _C._set_batching_active(True)
    return level


def pop(level: Level) -> None:
    global _active_count
    level.alive = False
    _state.levels.remove(level)
    with _active_lock:
        _active_count -= 1
        if _active_count == 0 and not _meta_made:
            _C._set_batching_active(False)


def _vmap_error(what: str) -> RuntimeError:
    return RuntimeError(f"vmap: {what}")


class TensorLike:
    """The Python objects that stand for tensors without being ember.Tensor: vmap's BatchedTensor, the
    meta device's MetaTensor and the complex tensors' ComplexTensor. The compiled catch-all overloads
    hand calls with them to `hook` (Note [Batched dispatch]); so do the operators and methods they
    share, below."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return tensor_attribute(self, name)

    def __iter__(self) -> Iterator[Any]:
        if self.dim() == 0:  # type: ignore[attr-defined]
            raise TypeError("iteration over a 0-d tensor")
        return iter(hook("unbind", True, (self, 0), {}))

    def __getitem__(self, index: Any) -> Any:
        return hook("__getitem__", True, (self, index), {})

    def __setitem__(self, index: Any, value: Any) -> None:
        hook("__setitem__", True, (self, index, value), {})

    @property
    def T(self) -> Any:
        return hook("permute", True, (self, *reversed(range(self.dim()))), {})  # type: ignore[attr-defined]

    @property
    def mT(self) -> Any:
        return hook("transpose", True, (self, -2, -1), {})

    mH = mT

    @property
    def H(self) -> Any:
        return self.T


class _TensorMeta(type(Tensor)):  # type: ignore[misc]
    """Tensor's metaclass: ``issubclass(type(x), Tensor)`` holds for a stand-in as ``isinstance(x, Tensor)``
    does, since libraries test a value's type so (tensordict stores a vmapped function's BatchedTensor
    outputs only if their type is a Tensor subclass)."""

    def __subclasscheck__(cls, subclass: type) -> bool:
        return _is_subtype(cls, subclass) or (cls is Tensor and _is_subtype(TensorLike, subclass))


_is_subtype = type.__subclasscheck__  # the plain check (a real subclass; raises for a non-class as issubclass)
Tensor.__class__ = _TensorMeta  # the compiled class's metaclass, extended (same layout: no new slots)


def stand_in_class(parameter: bool) -> type:
    """What a stand-in's __class__ says: Parameter for a parameter, else Tensor, so that isinstance
    checks accept it (isinstance consults __class__; type(x) stays the stand-in's own class)."""
    if parameter:
        from .nn.parameter import Parameter

        return Parameter
    return Tensor


def to_arguments(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """(dtype, device) of a to() call: positional dtype, device (a str, device or index) or tensor, or keywords."""
    dtype, device = kwargs.get("dtype"), kwargs.get("device")
    for a in args:
        if isinstance(a, _C.dtype):
            dtype = a
        elif isinstance(a, (str, _C.device)) or (isinstance(a, int) and not isinstance(a, bool)):
            device = a
        elif is_tensor(a):
            dtype, device = a.dtype, a.device
    return dtype, device


def _held_attribute(name: str) -> property:
    """A read-only attribute of a stand-in that is its held tensor's."""
    return property(lambda self: getattr(self._held(), name), doc=f"The held tensor's {name}.")


class HeldTensor(TensorLike):
    """A stand-in holding one tensor (``_held()``: a vmap batch's values, a complex tensor's parts),
    whose device and autograd state are that tensor's."""

    __slots__ = ()

    def _held(self) -> Tensor:
        raise NotImplementedError

    def size(self, dim: int | None = None) -> Any:
        shape = self.shape  # type: ignore[attr-defined]
        return shape if dim is None else shape[_wrap_dim(dim, len(shape), "size")]

    @property
    def ndim(self) -> int:
        return self.dim()  # type: ignore[attr-defined]

    def ndimension(self) -> int:
        return self.dim()  # type: ignore[attr-defined]

    def nelement(self) -> int:
        return self.numel()  # type: ignore[attr-defined]

    def __len__(self) -> int:
        if self.dim() == 0:  # type: ignore[attr-defined]
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]  # type: ignore[attr-defined]

    # the held tensor's own: where it lives and its autograd state
    device = _held_attribute("device")
    is_cuda = _held_attribute("is_cuda")
    layout = _held_attribute("layout")
    grad_fn = _held_attribute("grad_fn")
    is_leaf = _held_attribute("is_leaf")
    _version = _held_attribute("_version")
    output_nr = _held_attribute("output_nr")

    def get_device(self) -> int:
        return self._held().get_device()

    @property
    def requires_grad(self) -> bool:
        return self._held().requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self._held().requires_grad = flag

    def requires_grad_(self, requires_grad: bool = True) -> Any:
        self._held().requires_grad_(requires_grad)
        return self


class BatchedTensor(HeldTensor):
    """A tensor per batch entry of one vmap level, as ``func`` inside ``vmap`` sees them: shape,
    methods and operators are those of one entry (Note [Batched tensors])."""

    __slots__ = ("_value", "_level", "__weakref__")

    def _held(self) -> Tensor:
        return self._value

    def __init__(self, value: Any, level: Level) -> None:
        self._value = value
        self._level = level

    # isinstance(x, ember.Tensor) holds, as for PyTorch's BatchedTensor, so code that checks its
    # arguments accepts it (isinstance consults __class__); type(x) stays BatchedTensor.
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return Tensor

    # ----------------------------------------------------------------------------- metadata
    @property
    def shape(self) -> Any:
        return self._value.shape[1:]

    def dim(self) -> int:
        return self._value.dim() - 1

    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def dtype(self) -> Any:
        return self._value.dtype

    def is_floating_point(self) -> bool:
        return self._value.is_floating_point()

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        return self._value.element_size()

    # ----------------------------------------------------------------------------- autograd
    def _map_value(self, fn: Callable[[Any], Any]) -> BatchedTensor:
        """fn applied to the batched value (batch at dim 0), as a BatchedTensor of the same level."""
        return BatchedTensor(fn(self._value), self._level)

    @property
    def data(self) -> BatchedTensor:
        return BatchedTensor(self._value.data, self._level)

    def backward(self, *args: Any, **kwargs: Any) -> None:
        raise _vmap_error(
            "backward() is not supported on a tensor inside vmap; use ember.func.grad or vjp inside the "
            "vmapped function instead"
        )

    # ------------------------------------------------------------------ values it cannot give
    def item(self) -> Any:
        raise _vmap_error(
            "It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on a "
            "Tensor, please try to rewrite what you're doing with other operations. If error is occurring "
            "somewhere inside PyTorch internals, please file a bug report."
        )

    def _data_dependent(self, *args: Any) -> Any:
        raise _vmap_error(
            "It looks like you're attempting to use a Tensor in some data-dependent control flow. We don't "
            "support that yet, please shout over at https://github.com/pytorch/functorch/issues/257 ."
        )

    __bool__ = __float__ = __int__ = __index__ = __complex__ = _data_dependent
    tolist = numpy = __array__ = _data_dependent

    def data_ptr(self) -> int:
        raise _vmap_error("data_ptr() of a BatchedTensor: a batched tensor has no storage of its own")

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        inner = repr(self._value).replace("\n", "\n    ")
        return f"BatchedTensor(lvl={self._level.depth}, bdim=0, value=\n    {inner}\n)"

    def __format__(self, spec: str) -> str:
        return repr(self) if not spec else self._data_dependent()


def tensor_attribute(obj: TensorLike, name: str) -> Any:
    """`obj.name` for a Tensor attribute a TensorLike does not define itself: Tensor's methods and
    properties written in Python run on obj (they decompose into ops that reach `hook`); compiled
    methods go to `hook` directly."""
    attr = inspect.getattr_static(Tensor, name, None)
    if attr is None or name.startswith(("__", "_pybind11")):
        raise AttributeError(f"'Tensor' object has no attribute '{name}'")
    if isinstance(attr, property):
        return attr.fget(obj)  # type: ignore[misc]
    if isinstance(attr, types.FunctionType):
        return types.MethodType(attr, obj)

    def method(*args: Any, **kwargs: Any) -> Any:
        return hook(name, True, (obj, *args), kwargs)

    method.__name__ = name
    return method


# The operators of Tensor (the registry's "operators" family) that a TensorLike forwards.
OPERATORS = (
    "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift "
    "radd rsub rmul rtruediv rfloordiv rmod rpow rmatmul rand ror rxor rlshift rrshift "
    "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor ilshift irshift "
    "eq ne lt le gt ge neg pos abs invert"
).split()


def add_operators(cls: type, make: Callable[[str], Callable[..., Any]]) -> None:
    for name in OPERATORS:
        op = make(f"__{name}__")
        op.__name__ = f"__{name}__"
        setattr(cls, f"__{name}__", op)


add_operators(TensorLike, lambda name: lambda self, *args: hook(name, True, (self, *args), {}))


def registrar(table: dict, *names: str) -> Callable[[Callable], Callable]:
    """A decorator putting a rule into `table` under each of `names`."""

    def register(fn: Callable) -> Callable:
        for n in names:
            table[n] = fn
        return fn

    return register


def _wrap_dim(dim: int, rank: int, op: str) -> int:
    """``dim`` as a non-negative index into ``rank`` dims, PyTorch's IndexError otherwise."""
    top = max(rank, 1)
    if not -top <= dim < top:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-top}, {top - 1}], but got {dim})"
        )
    return dim % top


# ------------------------------------------------------------------------------- dispatching
Rule = Callable[["Op", tuple, dict], Any]
RULES: dict[str, Rule] = {}


class Op:
    """The call a rule handles: the op's name, whether it was called as a method, its level."""

    __slots__ = ("name", "method", "level")

    def __init__(self, name: str, method: bool, level: Level) -> None:
        self.name, self.method, self.level = name, method, level

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the op itself (on unwrapped or lower-level arguments)."""
        return call(self.name, self.method, args, kwargs)

    @property
    def size(self) -> int:
        return self.level.size

    def unwrap(self, x: Any) -> tuple[Any, bool]:
        """(x's value, True) for a BatchedTensor of this level; (x, False) for anything else."""
        if type(x) is BatchedTensor and x._level is self.level:
            return x._value, True
        return x, False

    def wrap(self, result: Any) -> Any:
        """Results of the op on values, as BatchedTensors of this level (tuples element-wise)."""
        if is_tensor(result):
            return BatchedTensor(result, self.level)
        if isinstance(result, tuple):
            items = [self.wrap(r) for r in result]
            return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
        if isinstance(result, list):
            return [self.wrap(r) for r in result]
        return result

    def batched(self, x: Any) -> Any:
        """x's value as a batched value of this level: an unbatched tensor expanded along a new dim 0."""
        v, is_batched = self.unwrap(x)
        if is_batched:
            return v
        return v.unsqueeze(0).expand(self.size, *v.shape)


def is_tensor(x: Any) -> bool:
    return isinstance(x, (Tensor, BatchedTensor))


def call(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    """Calls ember's op `name` (a Tensor method when `method`) as the user would."""
    if method:
        return getattr(args[0], name)(*args[1:], **kwargs)
    return getattr(_C, name)(*args, **kwargs)


def _top_level(args: tuple, kwargs: dict) -> Level | None:
    top: Level | None = None
    for a in (*args, *kwargs.values()):
        items = a if isinstance(a, (tuple, list)) else (a,)
        for x in items:
            if type(x) is BatchedTensor and (top is None or x._level.depth > top.depth):
                top = x._level
    return top


def dispatch(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    """Runs op `name` on arguments some of which are BatchedTensors (Note [Batched tensors]);
    NotImplemented when none is."""
    level = _top_level(args, kwargs)
    if level is None:
        return NotImplemented
    if not level.alive:
        raise _vmap_error(
            f"{name}: a BatchedTensor was used after the vmap that made it returned. Return it from the vmapped "
            "function instead of keeping it elsewhere."
        )
    rule = RULES.get(name, fallback)
    return rule(Op(name, method, level), args, kwargs)


_warned: set[str] = set()


def fallback(op: Op, args: tuple, kwargs: dict) -> Any:
    """The op once per batch entry, results stacked: correct for any op, and slow."""
    if op.name not in _warned:
        _warned.add(op.name)
        warnings.warn(
            f"There is a performance drop because we have not yet implemented the batching rule for "
            f"{op.name}. Please file us an issue on GitHub so that we can prioritize its implementation.",
            UserWarning,
            stacklevel=3,
        )
    return per_entry(op, args, kwargs)


def per_entry(op: Op, args: tuple, kwargs: dict) -> Any:
    """The op once per batch entry, results stacked, without the fallback's warning: what a rule
    calls for arguments it does not handle itself, e.g. to raise the op's own error for bad ones."""
    if op.method and op.name.endswith("_") and not op.name.startswith("__"):
        if not op.unwrap(args[0])[1]:
            raise_inplace_error(op.name)

    def entry(x: Any, b: int) -> Any:
        v, is_batched = op.unwrap(x)
        if is_batched:
            return v.select(0, b)
        if isinstance(x, (tuple, list)):
            return type(x)(entry(e, b) for e in x)
        return x

    results = [op(*(entry(a, b) for a in args), **{k: entry(v, b) for k, v in kwargs.items()}) for b in range(op.size)]
    return _stack_results(op, results)


def _stack_results(op: Op, results: list) -> Any:
    first = results[0]
    if is_tensor(first):
        return op.wrap(_C.stack(results, 0))
    if isinstance(first, (tuple, list)) and first and all(is_tensor(r) for r in first):
        stacked = [_C.stack([r[i] for r in results], 0) for i in range(len(first))]
        if hasattr(first, "_fields"):
            return op.wrap(type(first)(*stacked))
        return op.wrap(type(first)(stacked))
    raise _vmap_error(
        f"{op.name} returned {type(first).__name__}, which cannot be batched; ember has no batching rule for it"
    )


def raise_inplace_error(name: str) -> None:
    raise _vmap_error(
        f"inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor `other` in "
        f"extra_args that has more elements than `self`. This happened due to `other` being vmapped over but "
        f"`self` not being vmapped over in a vmap ({name}). Please try to use out-of-place operators instead of "
        "inplace arithmetic. If said operator is being called inside the PyTorch framework, please file a bug "
        "report instead."
    )


# ------------------------------------------------------------------------------- randomness
def random_hook(make: Callable[[tuple], Any], size: tuple) -> Any:
    """A random creation function (rand, randn, randint, ...) of `size` called inside vmap:
    PyTorch's error for randomness="error", one draw for all entries for "same", a draw per
    entry of every level for "different"."""
    levels = _state.levels
    if not levels:
        return make(size)
    different = []
    for level in levels:
        if level.randomness == "error":
            raise _vmap_error(
                "called random operation while in randomness error mode. Please either use the 'same' or "
                "'different' randomness flags on vmap or perform the randomness operation out of vmap"
            )
        if level.randomness == "different":
            different.append(level)
    result = make(tuple(lv.size for lv in different) + tuple(size))
    for level in different:
        result = BatchedTensor(result, level)
    return result


# ---------------------------------------------------------------------------- transforms' view
def lift(x: Any, to: list[Level] | None = None) -> Any:
    """x as a BatchedTensor of every level running on this thread (or of `to`), expanded along the
    levels it is not batched at, nested outermost first: the form in which gradients w.r.t. x are
    per batch entry. x's own levels are among them."""
    to = _state.levels if to is None else to
    if not to:
        return x
    *outer, last = to
    if type(x) is BatchedTensor and x._level is last:
        return BatchedTensor(lift(x._value, outer), last)
    inner = lift(x, outer)
    return BatchedTensor(inner.unsqueeze(0).expand(last.size, *inner.shape), last)


def physical(x: Any) -> Tensor:
    """The tensor at the bottom of a lifted x."""
    while type(x) is BatchedTensor:
        x = x._value
    return x


def rewrap(t: Tensor, like: Any) -> Any:
    """`t` (shaped like physical(like)) wrapped in the levels of `like`."""
    chain = []
    while type(like) is BatchedTensor:
        chain.append(like._level)
        like = like._value
    for level in reversed(chain):
        t = BatchedTensor(t, level)
    return t


def hook(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    """Where the compiled catch-all overloads send calls with TensorLike arguments: vmap's
    dispatcher for BatchedTensors, the meta device's for MetaTensors, the complex rules for
    ComplexTensors and Python complex numbers, the sparse ops for SparseCooTensors; NotImplemented
    otherwise."""
    result = dispatch(name, method, args, kwargs)
    if result is NotImplemented and _meta_made:
        from . import _complex, _meta

        if _meta.holds_meta(args, kwargs):
            return _meta.dispatch(name, method, args, kwargs)
        if _complex.involved(args, kwargs):
            return _complex.dispatch(name, method, args, kwargs)
        from . import _sparse

        if _sparse.involved(args, kwargs):
            return _sparse.dispatch(name, method, args, kwargs)
    elif result is NotImplemented:  # a Python complex number, before any complex tensor exists
        from . import _complex

        if _complex.involved(args, kwargs):
            return _complex.dispatch(name, method, args, kwargs)
    return result


def install() -> None:
    """Hands the dispatcher to the compiled module (Note [Batched dispatch])."""
    from . import _batch_rules, _meta  # noqa: F401  (fills RULES)

    _meta.install()
    _C._set_batching_hook(hook, TensorLike)
    _C._add_catch_all_overloads(_batch_rules.UNREGISTERED)


# ------------------------------------------------------------------------------------ autograd
class _VmapInfo:
    __slots__ = ("batch_size", "randomness")

    def __init__(self, level: Level) -> None:
        self.batch_size, self.randomness = level.size, level.randomness


def apply_function(cls: Any, default_vmap: Any, args: tuple, kwargs: dict) -> Any:
    """A custom autograd.Function applied to BatchedTensors: its own vmap staticmethod, or with
    generate_vmap_rule=True, the Function applied once per batch entry (so its backward gives
    per-entry gradients); PyTorch's error otherwise."""
    level = _top_level(args, kwargs)
    assert level is not None
    op = Op(cls.__name__, False, level)
    if cls.vmap is not default_vmap:
        unwrapped = [op.unwrap(a) for a in args]
        in_dims = tuple(0 if is_batched else None for _, is_batched in unwrapped)
        outputs, out_dims = cls.vmap(_VmapInfo(level), in_dims, *(v for v, _ in unwrapped), **kwargs)
        many = isinstance(outputs, tuple)
        outs = outputs if many else (outputs,)
        dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(outs)
        wrapped = tuple(o if d is None else BatchedTensor(o.movedim(d, 0), level) for o, d in zip(outs, dims))
        return wrapped if many else wrapped[0]
    if not cls.generate_vmap_rule:
        raise RuntimeError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod or set "
            "generate_vmap_rule=True."
        )

    def entry(x: Any, b: int) -> Any:
        v, is_batched = op.unwrap(x)
        return v.select(0, b) if is_batched else x

    results = [cls.apply(*(entry(a, b) for a in args), **kwargs) for b in range(level.size)]
    return _stack_results(op, results)


def levels_of(x: Any) -> list[Level]:
    """The levels x is batched at, outermost first."""
    chain = []
    while type(x) is BatchedTensor:
        chain.append(x._level)
        x = x._value
    return chain[::-1]


def holds_batched(*groups: list) -> bool:
    return any(type(x) is BatchedTensor for group in groups for x in group)


def batched_grad(
    grad: Callable[..., Any],
    outputs: list,
    inputs: list,
    grad_outputs: list,
    retain_graph: bool | None,
    create_graph: bool,
    allow_unused: bool | None,
    materialize_grads: bool,
) -> tuple:
    """autograd.grad inside vmap: on the tensors at the bottom, each output summed over its batch
    entries, which gives each input's gradient per entry when the input is batched at every level
    of the outputs (Note [Batched tensors])."""
    seed_level = _seeds_only_level(outputs, inputs, grad_outputs)
    if seed_level is not None:
        return _grad_per_seed(
            seed_level, grad, outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads
        )
    for x in inputs:
        missing = [lv for o in outputs for lv in levels_of(o) if lv not in levels_of(x)]
        if missing:
            raise _vmap_error(
                "autograd.grad inside vmap w.r.t. a tensor that is not batched at the vmap level of the outputs would "
                "sum the gradients of all batch entries; differentiate inside the vmapped function with "
                "ember.func.grad or vjp instead"
            )
    grad_outputs = list(grad_outputs) + [None] * (len(outputs) - len(grad_outputs))
    seeds = []
    for o, g in zip(outputs, grad_outputs):
        if g is None:
            if o.dim() != 0:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            seeds.append(physical(o).new_ones(tuple(physical(o).shape)))
        else:
            seeds.append(physical(lift(g, levels_of(o))) if is_tensor(g) else g)
    result = grad(
        [physical(o) for o in outputs],
        [physical(x) for x in inputs],
        seeds,
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=allow_unused,
        materialize_grads=materialize_grads,
    )
    return tuple(None if r is None else rewrap(r, x) for r, x in zip(result, inputs))


def fresh_input(x: Any) -> tuple[Any, Tensor | None]:
    """An ember.func transform's fresh input inside vmap: x lifted to every level with a new leaf
    (or, when x requires grad, a differentiable alias) at the bottom; and that leaf, if new."""
    lifted = lift(x)
    bottom = physical(lifted)
    if bottom.requires_grad:
        return rewrap(bottom.view_as(bottom), lifted), None
    leaf = bottom.detach().requires_grad_()
    return rewrap(leaf, lifted), leaf


def _seeds_only_level(outputs: list, inputs: list, grad_outputs: list) -> Level | None:
    """The newest level at which only the grad_outputs are batched, newer than every level of the outputs and
    inputs: ``vmap(lambda v: autograd.grad(y, x, v))(V)``, the rows of a Jacobian from a graph built outside the
    vmap (torchjd, PyTorch's is_grads_batched). None if there is none."""
    seed_levels = [g._level for g in grad_outputs if type(g) is BatchedTensor]
    if not seed_levels:
        return None
    newest = max(seed_levels, key=lambda lv: lv.depth)
    graph_levels = [lv for t in (*outputs, *inputs) for lv in levels_of(t)]
    return newest if all(lv.depth < newest.depth for lv in graph_levels) else None


def _grad_per_seed(level: Level, grad: Callable[..., Any], outputs: list, inputs: list, grad_outputs: list,
                   retain_graph: bool | None, create_graph: bool, allow_unused: bool | None,
                   materialize_grads: bool) -> tuple:  # fmt: skip
    """autograd.grad once per batch entry of `level`, which batches only the seeds: the graph is kept until the
    last entry (then as retain_graph says), and each input's gradients are stacked into a tensor batched there."""
    keep = create_graph if retain_graph is None else retain_graph
    per_entry_results = []
    for b in range(level.size):
        seeds = [g._value.select(0, b) if type(g) is BatchedTensor and g._level is level else g for g in grad_outputs]
        per_entry_results.append(
            grad(
                outputs,
                inputs,
                seeds,
                retain_graph=keep or b < level.size - 1,
                create_graph=create_graph,
                allow_unused=allow_unused,
                materialize_grads=materialize_grads,
            )  # fmt: skip
        )
    return tuple(
        None if results[0] is None else BatchedTensor(_C.stack(list(results), 0), level)
        for results in zip(*per_entry_results)
    )
