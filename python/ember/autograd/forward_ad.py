"""ember.autograd.forward_ad: forward-mode AD with PyTorch's API, built on reverse mode.

PyTorch carries a tangent beside every tensor and has a forward formula per op.
ember has neither; it has reverse mode with differentiable backward formulas
(double backward works for every op), and a Jacobian-vector product is linear
algebra away from it (the double-backward trick):

    with u = zeros_like(y) requiring grad, g(u) = u^T J   (one backward, recorded)
    J v = d(g(u) . v)/du                                   (a backward of that backward)

So a dual tensor here is an ordinary tensor that carries a reverse-mode graph back
to a hidden input, and its tangent is computed when asked for:

- ``make_dual(x, v)`` makes a hidden leaf ``h`` (an alias of ``x`` that requires
  grad) and passes it through ``_MakeDual``, a custom Function that is the identity
  and whose node keeps the record of the dual in its ctx: the level and ``v``.
  The dual ``d`` is ``x.detach()`` with that result copied into it in place, so ``d``
  shares ``x``'s memory and version counter, is not a leaf, and is not a view of a
  leaf: in-place ops on it work, and write into ``x`` as PyTorch's do. (The copy
  bumps ``x``'s version counter once.) When ``x`` requires grad (and grad mode is
  on), ``d = x + _MakeDual(h)`` with ``h`` full of -0.0 instead (exactly ``x``'s
  values, with ``x``'s graph kept, so the user's reverse-mode gradients flow to ``x``).
- Every op on a dual records a graph (grad mode must be on: see the deviations),
  so every tensor computed from duals reaches their ``_MakeDual`` nodes.
- ``unpack_dual(y)`` walks ``y``'s graph for the ``_MakeDual`` nodes of the level
  (and for leaves of the user's that require grad), then computes the tangent
  ``J v`` by the trick above, summed over the duals ``y`` depends on. The primal is
  ``y`` without the duals' graph: ``y.detach()`` when no tensor of the user's that
  requires grad is involved; otherwise ``_Cut(y)``, an identity custom Function
  whose backward passes gradients on, except inside the backward passes that
  compute tangents, where it gives none: the primal is then a constant for forward
  mode and still differentiable for reverse mode. A tangent that must keep a graph
  (the user's tensors require grad, or a tangent does) is cut the same way.
- A dual whose history did not change since ``make_dual`` gives back its tangent
  object as-is, as PyTorch does.
- Exiting a level forgets its duals: their records are dropped and ``unpack_dual``
  gives ``tangent=None``. A record lives in the graph (the ctx of its node), so it is
  freed with the last tensor that depends on the dual.

Deviations from PyTorch (all follow from computing tangents from the graph):

- Tangents need grad mode: an op run under ``no_grad``/``inference_mode`` on a dual
  records nothing, so its result has no tangent (PyTorch's forward AD ignores grad
  mode). ``make_dual`` itself works in any mode.
- Tensors computed from duals have ``requires_grad=True`` and a ``grad_fn`` inside a
  level even when no tensor of the user's requires grad (PyTorch: False/None);
  their primals (from ``unpack_dual``) do not.
- The tangent of ``x`` is never updated in place: after ``dual *= 2`` the tangent
  object given to ``make_dual`` keeps its values and ``unpack_dual(dual).tangent`` is
  a new tensor (PyTorch multiplies the stored tangent in place).
- Tangents are computed on demand, costing two backward passes per ``unpack_dual``;
  ops without a (double-)differentiable backward give no (or wrong) tangents
  rather than PyTorch's "Trying to use forward AD with ... that does not support it".
- A dual of a tensor that requires grad does not share its memory (it is
  ``x + (-0.0)``); in-place ops on it do not reach ``x`` (PyTorch: an error for a
  leaf, a write into ``x`` otherwise).
- A tangent is stored as given (any layout; ``unpack_dual`` casts nothing); tangents
  computed by ``unpack_dual`` have the dtype of the tensor unpacked.
- Printing a dual shows no ``tangent=``.

Custom Functions: a Function applied to duals of the current level gets the tangents of its
outputs from its ``jvp`` (PyTorch's checks on what ``jvp`` returns included: None for a
non-differentiable output, the input's tangent changed in place for an input changed in place,
a view of the input's tangent for an output that is a view of an input). Each output then
becomes a dual of its own: ``_Cut(out) + _MakeDual(-0.0)`` carrying ``jvp``'s tangent, so the
tangent is not also computed through the Function's backward; an output that is an input
changed in place is rewritten in place that way (it stays the same object).
"""

from __future__ import annotations

import sys
import weakref
from typing import Any, Callable, NamedTuple, Sequence

from .. import _C, _creation
from .._C import Tensor
from ..grad_mode import enable_grad, no_grad
from . import function as _function
from .function import Function

__all__ = [
    "UnpackedDualTensor",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
    "dual_level",
]

# The current level as PyTorch numbers it: -1 outside any level.
_current_level = -1
_levels: list[_Level] = []

# >0 while a backward pass that computes tangents runs: _Cut nodes then pass no gradient.
_cutting = 0

_DUAL_NODE = "_MakeDualBackward"
_CUT_NODE = "_CutBackward"


class _Level:
    """One entered dual level; ``alive`` until it is exited."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.alive = True
        self.records: list[weakref.ref[_DualRecord]] = []


class _DualRecord:
    """What make_dual registered: the level, the hidden leaf the tangent is taken along, the tangent."""

    def __init__(self, level: _Level, tangent: Tensor) -> None:
        self.level = level
        self.tangent: Tensor | None = tangent
        self.leaf: Tensor | None = None


class _MakeDual(Function):
    """Identity on the hidden leaf; its node's ctx holds the dual's record (see the module docstring)."""

    _forward_ad_internal = True

    @staticmethod
    def forward(ctx: Any, leaf: Tensor, record: _DualRecord) -> Tensor:
        ctx.fwad_record = record
        return leaf.view_as(leaf)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


class _Cut(Function):
    """Identity for reverse mode, a constant for forward mode (no gradient while tangents are computed).

    ``internal`` are leaves made here (the seeds ``u``) that the graph may reach: they
    are not the user's, so they do not make a result require grad."""

    _forward_ad_internal = True

    @staticmethod
    def forward(ctx: Any, tensor: Tensor, internal: tuple[Tensor, ...], clone: bool) -> Tensor:
        ctx.fwad_internal = internal
        return tensor.clone() if clone else tensor.view_as(tensor)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, None]:
        return (None if _cutting else grad), None, None


class UnpackedDualTensor(NamedTuple):
    """The ``(primal, tangent)`` pair returned by :func:`unpack_dual`."""

    primal: Tensor
    tangent: Tensor | None


def _jvp_terms(gs: Sequence[Tensor | None], tangents: Sequence[Tensor | None]) -> tuple[list[Tensor], list[Tensor]]:
    """The double-backward trick's second pass: the gradients g (linear in the seed u) that carry a
    tangent, and those tangents in g's dtype, so that grad(gs, u, tangents) is the JVP."""
    outs, seeds = [], []
    for g, v in zip(gs, tangents):
        if g is None or v is None or not g.requires_grad:
            continue
        outs.append(g)
        seeds.append(v if v.dtype == g.dtype else v.to(g.dtype))
    return outs, seeds


def enter_dual_level() -> int:
    """Enters a new forward-AD level and returns its number (0); only one level at a time, as in PyTorch."""
    global _current_level
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    level = _Level(len(_levels))
    _levels.append(level)
    _current_level = level.number
    return level.number


def exit_dual_level(*, level: int | None = None) -> None:
    """Exits the current level: its duals are forgotten (their tangents released)."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported."
        )
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    lvl = _levels.pop()
    lvl.alive = False
    for ref in lvl.records:
        record = ref()
        if record is not None:
            record.tangent = None
    lvl.records.clear()
    _current_level = level - 1


class dual_level:
    """Context manager (and decorator) entering a forward-AD level for its block.

    Example::

        >>> with dual_level():
        ...     inp = make_dual(x, v)
        ...     out = f(inp)
        ...     y, jvp = unpack_dual(out)
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        import functools

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return func(*args, **kwargs)

        return wrapper


def _level_object(level: int) -> _Level | None:
    return _levels[level] if 0 <= level < len(_levels) else None


def _is_float(t: Tensor) -> bool:
    return t.is_floating_point() or bool(getattr(t.dtype, "is_complex", False))


def _scan(tensors: Sequence[Tensor], level: _Level | None, internal: set[int] = frozenset()) -> tuple[list, bool]:
    """Walks the graphs of ``tensors``.

    Returns the records of the live duals of ``level`` they depend on through no
    ``_Cut`` node, and whether they reach a leaf that requires grad and is neither a
    hidden leaf, nor a seed made here, nor in ``internal`` (ids): a tensor of the user's.
    """
    records: dict[int, _DualRecord] = {}
    leaves: dict[int, Tensor] = {}
    known: set[int] = set(internal)
    seen: dict[tuple[int, bool], Any] = {}  # holds the node objects, so that ids stay unique
    stack: list[tuple[Any, bool]] = []
    for t in tensors:
        if not isinstance(t, Tensor) or not t.requires_grad:
            continue
        if t.grad_fn is None:
            leaves[id(t)] = t
        else:
            stack.append((t.grad_fn, False))
    while stack:
        node, cut = stack.pop()
        key = (id(node), cut)
        if key in seen:
            continue
        seen[key] = node
        name = type(node).__name__
        if name == _DUAL_NODE:
            record = node.fwad_record
            known.add(id(record.leaf))
            if not cut and level is not None and record.level is level and level.alive:
                records[id(record)] = record
            continue
        if name == "AccumulateGrad":
            leaf = node.variable
            leaves[id(leaf)] = leaf
            continue
        if name == _CUT_NODE:
            known.update(id(u) for u in node.fwad_internal)
            cut = True
        for nxt, _ in node.next_functions:
            if nxt is not None:
                stack.append((nxt, cut))
    user = any(i not in known for i in leaves)
    return list(records.values()), user


def _reaches_outside(tensors: Sequence[Tensor], internal: set[int]) -> bool:
    """Whether ``tensors`` depend on a tensor requiring grad that is not in ``internal`` (ids of
    leaves), or on a dual of the current level: for ember.func, whether results keep a graph."""
    records, user = _scan(tensors, _level_object(_current_level), internal)
    return user or bool(records)


def _tangent_map(
    y: Tensor, records: Sequence[_DualRecord], keep_graph: bool
) -> Callable[[Sequence[Tensor | None]], Tensor | None] | None:
    """The linear map v -> J v of ``y`` along the hidden leaves of ``records``.

    One recorded backward pass now (``g = u^T J`` for each leaf); each call of the map
    is one backward pass of ``g`` w.r.t. ``u``. None when ``y`` depends on no leaf.
    ``keep_graph``: record the calls (the results can be differentiated).
    """
    global _cutting
    if not records or not y.requires_grad or not _is_float(y):
        return None
    with enable_grad():
        u = _creation.zeros_like(y, requires_grad=True)
        _cutting += 1
        try:
            gs = _C_grad([y], [r.leaf for r in records], [u], create_graph=True)
        finally:
            _cutting -= 1
    if all(g is None for g in gs):
        return None

    def apply(tangents: Sequence[Tensor | None]) -> Tensor:
        outs, seeds = _jvp_terms(gs, tangents)
        result = None
        if outs:
            with enable_grad():
                result = _C_grad(outs, [u], seeds, create_graph=keep_graph, retain_graph=True)[0]
        if result is None:
            return _creation.zeros_like(y)
        if keep_graph and result.requires_grad:
            return _Cut.apply(result, (u,), True)
        return result.detach()

    return apply


def _C_grad(
    outputs: list[Tensor],
    inputs: list[Tensor],
    grad_outputs: list[Tensor],
    create_graph: bool,
    retain_graph: bool | None = None,
) -> tuple[Tensor | None, ...]:
    from . import grad

    return grad(outputs, inputs, grad_outputs, create_graph=create_graph, retain_graph=retain_graph, allow_unused=True)


def _has_tangent(t: Tensor, level: _Level) -> bool:
    records, _ = _scan([t], level)
    return bool(records)


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """Associates ``tensor`` with ``tangent`` in a dual tensor for forward AD.

    The result has ``tensor``'s values (and, unless ``tensor`` requires grad, its
    memory); :func:`unpack_dual` gives back the tangent of it and of every tensor
    computed from it. See the module docstring for how, and for the deviations.
    """
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
        )
    lvl = _level_object(level)
    if lvl is None:
        raise RuntimeError("Invalid level given to _make_dual")
    if not _is_float(tensor):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not _is_float(tangent):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if _has_tangent(tensor, lvl):
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the same level "
            f"{level} is not supported."
        )
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )
    if _has_tangent(tangent, lvl):
        raise RuntimeError(
            f"Setting a forward grad that itself has a forward gradient at the same level{level} is not supported."
        )

    record = _DualRecord(lvl, tangent)
    keep_user_graph = tensor.requires_grad and _C.is_grad_enabled()
    with enable_grad():
        if keep_user_graph:
            leaf = _creation.full_like(tensor, -0.0).requires_grad_()  # x + (-0.0) == x, bit for bit
            record.leaf = leaf
            dual = tensor + _MakeDual.apply(leaf, record)
        else:
            leaf = tensor.detach().requires_grad_()
            record.leaf = leaf
            marked = _MakeDual.apply(leaf, record)
            dual = tensor.detach()
            try:
                dual.copy_(marked)  # same memory: the values stay; dual takes the node as its history
            except RuntimeError:  # e.g. an expanded tensor, which cannot be written in place
                dual = marked.clone()
    dual._fwad_dual = (record, dual.grad_fn)
    lvl.records.append(weakref.ref(record))
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """Returns ``(primal, tangent)`` of ``tensor`` at ``level``: its value without the duals' graph,
    and J v along the tangents of the duals it was computed from (None if none)."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type(tensor).__name__}")
    lvl = _level_object(level)
    current = _level_object(_current_level)
    records, user = _scan([tensor], current)
    if lvl is None:
        if records:
            raise RuntimeError("Invalid level given to _fw_primal")
        return UnpackedDualTensor(tensor.detach() if not user else tensor.view_as(tensor), None)

    grad_on = _C.is_grad_enabled()
    registered = tensor.__dict__.get("_fwad_dual")
    tangent: Tensor | None = None
    if registered is not None and registered[0].level is lvl and lvl.alive and tensor.grad_fn is registered[1]:
        tangent = registered[0].tangent
    elif records:
        keep = grad_on and (user or any(r.tangent is not None and r.tangent.requires_grad for r in records))
        tmap = _tangent_map(tensor, records, keep)
        if tmap is not None:
            tangent = tmap([r.tangent for r in records])

    if not tensor.requires_grad or not grad_on or not user:
        primal = tensor.detach()
    elif records:
        primal = _Cut.apply(tensor, (), False)
    else:
        primal = tensor.view_as(tensor)
    return UnpackedDualTensor(primal, tangent)


def _tangents_of(
    outputs: Sequence[Tensor], duals: Sequence[Tensor]
) -> list[Callable[[Sequence[Tensor | None]], Tensor] | None]:
    """For each output, the map from tangents of ``duals`` (made by make_dual at the current level,
    None for zero) to its tangent; None for an output that depends on none of them. One recorded
    backward pass per output, one more per call of a map: a Jacobian column by column."""
    records = [d.__dict__["_fwad_dual"][0] for d in duals]
    maps: list[Callable[[Sequence[Tensor | None]], Tensor] | None] = []
    for out in outputs:
        found, user = _scan([out], _level_object(_current_level))
        ids = {id(r) for r in found}
        keep = _C.is_grad_enabled() and user
        tmap = _tangent_map(out, [r for r in records if id(r) in ids], keep) if ids else None
        if tmap is None:
            maps.append(None)
            continue
        picked = [i for i, r in enumerate(records) if id(r) in ids]

        def select(tangents: Sequence[Tensor | None], tmap=tmap, picked=picked) -> Tensor:
            return tmap([tangents[i] for i in picked])

        maps.append(select)
    return maps


# --- custom Functions (ember.autograd.Function.apply calls these inside a dual level) -------


def _input_tangents(cls: type, args: Sequence[Any]) -> list[Tensor | None] | None:
    """The tangents of a Function's arguments at the current level (None for a non-tensor or a
    tensor without one); None when no argument has one (then the Function runs as usual)."""
    tangents = [unpack_dual(a).tangent if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return None
    if cls.jvp is Function.jvp:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )
    return tangents


def _view_source(out: Any, args: Sequence[Any]) -> int | None:
    """Which argument ``out`` (a raw output of forward) is, or is a view of; None if none."""
    if not isinstance(out, Tensor):
        return None
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and (out is a or (out._base is not None and (out._base is a or out._base is a._base))):
            return i
    return None


def _check_view_tangent(tangent: Tensor, given: Tensor) -> None:
    if tangent._base is None:
        raise RuntimeError(
            "A custom Function's forward is returning a view (or an input as-is) but the jvp is not returning a view."
        )
    if given._base is not None:
        if tangent._base is not given._base:
            raise RuntimeError(
                "A custom Function is returning a view but the jvp is not returning a view of the same base as the "
                "given grad input."
            )
    elif tangent._base is not given:
        raise RuntimeError(
            "A custom Function is returning a view but the jvp is not returning a view of the given grad input."
        )


def _mark(out: Tensor, tangent: Tensor | None, in_place: bool) -> Tensor:
    """``out`` as a dual carrying ``tangent`` and nothing computed through its history (see above)."""
    level = _levels[-1]
    with enable_grad():
        cut = _Cut.apply(out, (), in_place)  # in place: a copy, since out is written below
        if tangent is not None:
            record = _DualRecord(level, tangent)
            record.leaf = _creation.full_like(out, -0.0).requires_grad_()
            cut = cut + _MakeDual.apply(record.leaf, record)
            level.records.append(weakref.ref(record))
        if in_place:
            out.copy_(cut)
            cut = out
    if tangent is not None:
        cut._fwad_dual = (record, cut.grad_fn)
    return cut


def _apply_jvp(
    cls: type,
    ctx: Any,
    args: Sequence[Any],
    tangents: list[Tensor | None],
    raw_outs: list[Any],
    outs: list[Any],
    dirty: Sequence[Tensor],
    non_differentiable: Sequence[Tensor],
) -> list[Any]:
    """Runs ``cls.jvp`` on the arguments' tangents and makes ``outs`` duals carrying its results."""
    given = [
        t if t is not None or not isinstance(a, Tensor) else _creation.zeros_like(a) for a, t in zip(args, tangents)
    ]
    versions = [g._version if isinstance(g, Tensor) else None for g in given]
    ctx._in_jvp = True
    try:
        with no_grad():
            result = cls.jvp(ctx, *given)
    finally:
        ctx._in_jvp = False
    result = list(result) if isinstance(result, tuple) else [result]
    if len(result) != len(outs):
        raise RuntimeError(
            f"{cls.__name__}.jvp returned an incorrect number of forward gradients (expected {len(outs)}, got "
            f"{len(result)})"
        )
    marked = list(outs)
    for i, (raw, out, tangent) in enumerate(zip(raw_outs, outs, result)):
        if not isinstance(out, Tensor):
            continue
        if any(raw is t for t in non_differentiable):
            if tangent is not None:
                raise RuntimeError(
                    f"Function {cls.__name__}Backward returned a gradient different than None at position {i + 1}, "
                    "but  the corresponding forward output is not a differentiable Tensor.You should return None at "
                    "that position instead."
                )
            continue
        source = _view_source(raw, args)
        in_place = any(raw is t for t in dirty)
        if tangent is not None and source is not None:
            if in_place:
                if tangent is not given[source] or given[source]._version == versions[source]:
                    raise RuntimeError(
                        "An inplace custom Function is not modifying the forward mode gradients inplace. If the "
                        "forward is modifying an input inplace, then the jvp function must modify the corresponding "
                        "gradient inplace."
                    )
            else:
                _check_view_tangent(tangent, given[source])
        if out.requires_grad:
            marked[i] = _mark(out, tangent, in_place)
    return marked


_function._forward_ad = sys.modules[__name__]
