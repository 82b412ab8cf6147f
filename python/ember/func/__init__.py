"""ember.func: PyTorch's ``torch.func`` function transforms, on ember's reverse-mode autograd.

``vmap``, ``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``,
``linearize``, ``functional_call`` and ``stack_module_state`` as in PyTorch. ``vmap`` runs ``func``
once on BatchedTensors (Note [Batched tensors] in ember/_batched.py). Each other transform calls
``func`` on fresh tensors (new leaves that require grad,
or, for a tensor of the caller's that requires grad, a differentiable alias of it) and
differentiates w.r.t. them:

- reverse mode (``grad``, ``vjp``, ``jacrev``): ``ember.autograd.grad``, one backward pass
  per vector (``jacrev``: one vmapped pass over the output elements);
- forward mode (``jvp``, ``jacfwd``): the double-backward trick: with seeds ``u`` that
  require grad, ``g = u^T J`` is recorded once, and ``J v`` is the gradient of ``g . v``
  w.r.t. ``u`` (one backward pass per tangent; ``jacfwd``: one vmapped pass over the input
  elements).

Transforms nest (``hessian`` is ``jacfwd(jacrev(f))``) because a result keeps its graph
exactly when it depends on a tensor from outside the transform that requires grad (an
argument or a captured tensor of the caller's, the fresh inputs of an enclosing
transform, or a dual of ``ember.autograd.forward_ad``); otherwise results are plain
tensors that do not require grad, as in PyTorch. Arguments and outputs may be pytrees of
tuples, lists and dicts of tensors.

Deviations from PyTorch: ``jacrev``/``jacfwd`` batch func's forward pass with the backward
(Note [Vectorized Jacobians]); ``jvp``'s tangents have the dtype of the outputs (PyTorch keeps a tangent's
own dtype); the outer ``no_grad`` is obeyed for the results (they never keep a graph
under it), and a ``func`` that reads ``torch.is_grad_enabled()`` sees True.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .. import _C, _batched, _creation
from .. import autograd as _autograd
from .._C import Tensor
from .._functorch_c import _maybe_remove_batch_dim
from ..autograd import forward_ad as _fwad
from ..autograd import functional as _functional
from ..grad_mode import enable_grad

__all__ = [
    "grad",
    "grad_and_value",
    "vjp",
    "jvp",
    "jacrev",
    "jacfwd",
    "hessian",
    "functional_call",
    "functionalize",
    "linearize",
    "replace_all_batch_norm_modules_",
    "stack_module_state",
    "vmap",
    "debug_unwrap",
    "rearrange",
]


def debug_unwrap(tensor: Any, *, recurse: bool = True) -> Any:
    """The tensor under vmap's batching wrappers (the whole batch), for printing in a debugger; every level
    when ``recurse``, else one. Other values come back as they are."""
    from .._batched import BatchedTensor

    while type(tensor) is BatchedTensor:
        tensor = tensor._value
        if not recurse:
            break
    return tensor


_argnums_t = Any  # int | tuple[int, ...]


# ----------------------------------------------------------------------------------------- pytrees
class _Spec:
    """The structure of a pytree: a leaf (``kind`` None) or a tuple/list/dict node of child specs."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind: type | None, context: Any, children: list[_Spec]) -> None:
        self.kind = kind
        self.context = context
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Spec)
            and self.kind is other.kind
            and self.context == other.context
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, len(self.children)))

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        return f"TreeSpec({self.kind.__name__}, {self.context}, [{', '.join(map(repr, self.children))}])"

    def pprint(self) -> str:
        if self.kind is None:
            return "*"
        parts = [c.pprint() for c in self.children]
        if issubclass(self.kind, dict):
            return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(self.context, parts)) + "}"
        if issubclass(self.kind, list):
            return "[" + ", ".join(parts) + "]"
        return "(" + "".join(p + ", " for p in parts).rstrip(" ") + ")"


def _flatten(tree: Any) -> tuple[list[Any], _Spec]:
    """Leaves (left to right) and structure of a pytree of tuples, lists and dicts."""
    if isinstance(tree, (tuple, list)):
        leaves: list[Any] = []
        children = []
        for item in tree:
            sub, spec = _flatten(item)
            leaves.extend(sub)
            children.append(spec)
        return leaves, _Spec(type(tree), None, children)
    if isinstance(tree, dict):
        leaves, children = [], []
        keys = list(tree.keys())
        for key in keys:
            sub, spec = _flatten(tree[key])
            leaves.extend(sub)
            children.append(spec)
        return leaves, _Spec(type(tree), keys, children)
    return [tree], _Spec(None, None, [])


def _unflatten(leaves: Sequence[Any], spec: _Spec) -> Any:
    it = iter(leaves)

    def build(s: _Spec) -> Any:
        if s.kind is None:
            return next(it)
        items = [build(c) for c in s.children]
        if issubclass(s.kind, dict):
            return s.kind(zip(s.context, items)) if s.kind is not dict else dict(zip(s.context, items))
        if issubclass(s.kind, tuple) and s.kind is not tuple:  # a namedtuple
            return s.kind(*items)
        return s.kind(items)

    return build(spec)


def _tree_map_tensors(fn: Callable[[Tensor], Any], tree: Any) -> Any:
    leaves, spec = _flatten(tree)
    return _unflatten([fn(x) if _batched.is_tensor(x) else x for x in leaves], spec)


# ---------------------------------------------------------------------------------------- argnums
def _validate_argnum(argnum: Any, num_args: int) -> int:
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _wrap_argnums(argnums: _argnums_t, num_args: int) -> _argnums_t:
    if isinstance(argnums, int):
        return _validate_argnum(argnums, num_args)
    if isinstance(argnums, tuple):
        wrapped = tuple(_validate_argnum(a, num_args) for a in argnums)
        if len(wrapped) == 0:
            raise RuntimeError("argnums must be non-empty")
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return wrapped
    raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


def _slice_argnums(args: tuple[Any, ...], argnums: _argnums_t) -> tuple[Any, _argnums_t]:
    """The differentiated argument (int argnums) or tuple of them, and the argnums made non-negative."""
    argnums = _wrap_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return args[argnums], argnums
    return tuple(args[i] for i in argnums), argnums


def _replace_args(args: tuple[Any, ...], new: Any, argnums: _argnums_t) -> tuple[Any, ...]:
    if isinstance(argnums, int):
        return tuple(new if i == argnums else a for i, a in enumerate(args))
    return tuple(new[argnums.index(i)] if i in argnums else a for i, a in enumerate(args))


# ------------------------------------------------------------------------------------------ helpers
class _Call:
    """The state of one transform call: its fresh inputs and the leaves it made."""

    def __init__(self) -> None:
        self.grad_enabled = _C.is_grad_enabled()
        self.internal: set[int] = set()
        self._keep_alive: list[Tensor] = []  # ids in ``internal`` must stay unique

    def fresh(self, x: Any) -> Tensor:
        """A new tensor for an input: a leaf requiring grad, or a differentiable alias of a tensor
        of the caller's that requires grad (so results can keep a graph to it). Inside vmap, x is
        first batched at every level, so gradients are per batch entry (Note [Batched tensors])."""
        if not _batched.is_tensor(x):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if _batched.levels():
            new, leaf = _batched.fresh_input(x)
            if leaf is not None:
                self.own(leaf)
            return new
        if x.requires_grad:
            return x.view_as(x)
        t = x.detach().requires_grad_()
        self.own(t)
        return t

    def own(self, t: Tensor) -> Tensor:
        self.internal.add(id(t))
        self._keep_alive.append(t)
        return t

    def outside(self, tensors: Sequence[Any], check_mode: bool = True) -> bool:
        """Whether ``tensors`` depend on a tensor from outside this call that requires grad (never
        when the caller had grad mode off, unless ``check_mode`` is False)."""
        if check_mode and not self.grad_enabled:
            return False
        bottoms = [_batched.physical(t) for t in tensors if _batched.is_tensor(t)]
        return _fwad._reaches_outside(bottoms, self.internal)

    def finish(self, tree: Any, check_mode: bool = True) -> Any:
        """Detaches each tensor of ``tree`` that requires grad unless it depends on a tensor from
        outside the call (one that does not require grad has no graph to drop)."""
        return _tree_map_tensors(
            lambda t: t if not t.requires_grad or self.outside([t], check_mode) else t.detach(), tree
        )


def _grad_or_zeros(
    outputs: Sequence[Tensor],
    inputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor] | None,
    create_graph: bool,
    retain_graph: bool,
) -> list[Tensor]:
    """``autograd.grad`` over the outputs that require grad; zeros for an input none depends on."""
    grads = _functional._grad(outputs, inputs, grad_outputs, create_graph=create_graph, retain_graph=retain_graph)
    return [g if g is not None else _creation.zeros_like(x) for g, x in zip(grads, inputs)]


def _split_aux(output: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output[0], output[1]


def _check_outputs(flat: list[Any], api: str, what: str) -> None:
    if (len(flat) == 1 and flat[0] is None) or len(flat) < 1:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {flat})")
    for o in flat:
        if not _batched.is_tensor(o):
            raise RuntimeError(f"{api}: expected {what} to return only tensors, got unsupported type {type(o)}")


def _one_hot(like: Tensor, k: int) -> Tensor:
    e = _creation.zeros(like.numel(), dtype=like.dtype, device=_creation._device_of(like))
    e[k] = 1
    return e.view(tuple(like.shape))


# ------------------------------------------------------------------------------------ transforms
def grad_and_value(func: Callable[..., Any], argnums: _argnums_t = 0, has_aux: bool = False) -> Callable[..., Any]:
    """Returns a function computing ``(gradient, value)`` of the scalar function ``func`` w.r.t. the
    argument(s) ``argnums`` (``(gradient, (value, aux))`` with ``has_aux``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _Call()
        with enable_grad():
            diff, wrapped = _slice_argnums(args, argnums)
            leaves, spec = _flatten(diff)
            fresh = [call.fresh(x) for x in leaves]
            output = func(*_replace_args(args, _unflatten(fresh, spec), wrapped), **kwargs)
            output, aux = _split_aux(output, has_aux, "grad_and_value(f)(*args)")
            if not _batched.is_tensor(output):
                raise RuntimeError(
                    f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(output)}"
                )
            if output.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
                    f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
                )
            keep = call.outside([output])
            grads = _grad_or_zeros([output], fresh, None, create_graph=keep, retain_graph=keep)
        result = call.finish(_unflatten(grads, spec))
        value = output if keep else output.detach()  # call.finish(output), whose walk `keep` already made
        if has_aux:
            return result, (value, call.finish(aux))
        return result, value

    return wrapper


def grad(func: Callable[..., Any], argnums: _argnums_t = 0, has_aux: bool = False) -> Callable[..., Any]:
    """Returns a function computing the gradient of the scalar function ``func`` w.r.t. the
    argument(s) ``argnums`` (``(gradient, aux)`` with ``has_aux``)."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = inner(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Returns ``(func(*primals), vjp_fn)`` (and ``aux``); ``vjp_fn(cotangents)`` gives the tuple of
    the products of ``cotangents`` with the Jacobian w.r.t. each primal. It may be called many times."""
    call = _Call()
    with enable_grad():
        flat_primals, primals_spec = _flatten(primals)
        fresh = [call.fresh(x) for x in flat_primals]
        output = func(*_unflatten(fresh, primals_spec))
        output, aux = _split_aux(output, has_aux, "vjp(f, *primals)")
        flat_out, out_spec = _flatten(output)
        _check_outputs(flat_out, "vjp(f, *primals)", "f(*primals)")
        for o in flat_out:
            if not o.is_floating_point():
                raise RuntimeError(
                    f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor with dtype "
                    f"{o.dtype}"
                )
        outside = call.outside(flat_out)

    def vjp_fn(cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None) -> Any:
        if create_graph is None:
            create_graph = _C.is_grad_enabled()
        flat_ct, ct_spec = _flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of outputs to the "
                f"function. cotangents: {ct_spec.pprint()}, primal output: {out_spec.pprint()}"
            )
        keep = create_graph and (outside or any(isinstance(c, Tensor) and c.requires_grad for c in flat_ct))
        with enable_grad():
            grads = _grad_or_zeros(flat_out, fresh, flat_ct, create_graph=keep, retain_graph=retain_graph or keep)
        grads = [call.finish(g, check_mode=False) if keep else g.detach() for g in grads]
        return _unflatten(grads, primals_spec)

    results = call.finish(output)
    if has_aux:
        return results, vjp_fn, call.finish(aux)
    return results, vjp_fn


def _jvp_columns(
    call: _Call, flat_out: list[Tensor], fresh: list[Tensor], keep: bool
) -> Callable[[Sequence[Tensor | None]], list[Tensor | None]]:
    """The map from tangents of ``fresh`` (None: zero) to the JVPs of ``flat_out`` (None for an output
    that depends on no input), by the double-backward trick."""
    diff = [i for i, o in enumerate(flat_out) if o.requires_grad and o.is_floating_point()]
    seeds = [call.own(_creation.zeros_like(flat_out[i], requires_grad=True)) for i in diff]
    if diff:
        gs = _autograd.grad(
            [flat_out[i] for i in diff], list(fresh), seeds, create_graph=True, retain_graph=True, allow_unused=True
        )
    else:
        gs = (None,) * len(fresh)

    def apply(tangents: Sequence[Tensor | None]) -> list[Tensor | None]:
        outs, vs = _fwad._jvp_terms(gs, tangents)
        result: list[Tensor | None] = [None] * len(flat_out)
        depends = any(g is not None for g, v in zip(gs, tangents) if v is not None)
        if outs:
            ts = _autograd.grad(outs, seeds, vs, create_graph=keep, retain_graph=True, allow_unused=True)
        else:
            ts = (None,) * len(seeds)
        for i, t in zip(diff, ts):
            if t is not None:
                result[i] = t
            elif depends:
                result[i] = _creation.zeros_like(flat_out[i])
        return result

    return apply


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> Any:
    """Returns ``(func(*primals), J v)`` (and ``aux``): the Jacobian of ``func`` at ``primals``
    times ``tangents``, which has the structure of ``primals``."""
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_primals, primals_spec = _flatten(primals)
    flat_tangents, tangents_spec = _flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(
            f"{api}: Expected primals and tangents to have the same python structure. For example, if primals is a "
            f"tuple of 3 tensors, tangents also must be. Got primals with structure {primals_spec} and tangents "
            f"with structure {tangents_spec}"
        )
    for name, flat in (("primals", flat_primals), ("tangents", flat_tangents)):
        if len(flat) == 0:
            raise RuntimeError(f"{api}: Expected {name} to contain at least one Tensor.")
        for x in flat:
            if not _batched.is_tensor(x):
                raise RuntimeError(f"{api}: Expected {name} to only contain Tensors, got {type(x)}")
    for p, t in zip(flat_primals, flat_tangents):
        if not p.is_floating_point():
            raise ValueError(f"Expected primal to be floating point or complex, but got: {p.dtype}")
        if not t.is_floating_point():
            raise ValueError(f"Expected tangent to be floating point or complex, but got: {t.dtype}")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the original Tensor, "
                f"this is not supported. Tensor is of size {list(p.shape)} while the given forward gradient is of "
                f"size {list(t.shape)}."
            )
    call = _Call()
    with enable_grad():
        fresh = [call.fresh(x) for x in flat_primals]
        output = func(*_unflatten(fresh, primals_spec))
        output, aux = _split_aux(output, has_aux, api)
        flat_out, out_spec = _flatten(output)
        _check_outputs(flat_out, api, "f(*args)")
        keep = call.outside(flat_out) or (call.grad_enabled and any(t.requires_grad for t in flat_tangents))
        tangents_out = _jvp_columns(call, flat_out, fresh, keep)(flat_tangents)
    for i, t in enumerate(tangents_out):
        if t is None:
            if strict:
                raise RuntimeError(
                    "jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. "
                    "This is not allowed with strict=True."
                )
            tangents_out[i] = _creation.zeros_like(flat_out[i])
    results = call.finish(output)
    tangents_out = call.finish(_unflatten(tangents_out, out_spec))
    if has_aux:
        return results, tangents_out, call.finish(aux)
    return results, tangents_out


def jacrev(
    func: Callable[..., Any],
    argnums: _argnums_t = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable[..., Any]:
    """Returns a function computing the Jacobian of ``func`` w.r.t. the argument(s) ``argnums`` by
    reverse mode: for each output ``o`` and input ``x``, a tensor shaped ``o.shape + x.shape``, in the
    structure of the output (then of ``argnums``). ``chunk_size``: the vmap over the output elements
    runs that many at a time (Note [Vectorized Jacobians])."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper_fn(*args: Any) -> Any:
        call = _Call()
        with enable_grad():
            diff, wrapped = _slice_argnums(args, argnums)
            leaves, spec = _flatten(diff)
            fresh = [call.fresh(x) for x in leaves]
            output = func(*_replace_args(args, _unflatten(fresh, spec), wrapped))
            output, aux = _split_aux(output, has_aux, "vjp(f, *primals)")
            flat_out, out_spec = _flatten(output)
            _check_outputs(flat_out, "vjp(f, *primals)", "f(*primals)")
            keep = call.outside(flat_out)
            vectorized = _vectorized(lambda: _jacrev_rows(func, args, argnums, has_aux, flat_out, chunk_size))
            if vectorized is not None:
                jac = _unflatten([call.finish(_unflatten(blocks, spec)) for blocks in vectorized], out_spec)
                return (jac, call.finish(aux)) if has_aux else jac
            per_output = []
            for o in flat_out:
                rows: list[list[Tensor]] = [[] for _ in fresh]
                if o.requires_grad:
                    for k in range(o.numel()):
                        grads = _grad_or_zeros([o], fresh, [_one_hot(o, k)], create_graph=keep, retain_graph=True)
                        for j, g in enumerate(grads):
                            rows[j].append(g)
                blocks = []
                for x, row in zip(fresh, rows):
                    shape = tuple(o.shape) + tuple(x.shape)
                    blocks.append(_C.stack(row, 0).reshape(shape) if row else x.new_zeros(shape))
                per_output.append(call.finish(_unflatten(blocks, spec)))
        jac = _unflatten(per_output, out_spec)
        if has_aux:
            return jac, call.finish(aux)
        return jac

    return wrapper_fn


def jacfwd(
    func: Callable[..., Any], argnums: _argnums_t = 0, has_aux: bool = False, *, randomness: str = "error"
) -> Callable[..., Any]:
    """Returns a function computing the Jacobian of ``func`` w.r.t. the argument(s) ``argnums`` by
    forward mode (a JVP per input element); the result as for :func:`jacrev`. ``randomness`` is
    the mode of the vmap over the input elements (Note [Vectorized Jacobians])."""

    @functools.wraps(func)
    def wrapper_fn(*args: Any) -> Any:
        call = _Call()
        api = "jvp(f, primals, tangents)"
        with enable_grad():
            diff, wrapped = _slice_argnums(args, argnums)
            leaves, spec = _flatten(diff)
            fresh = [call.fresh(x) for x in leaves]
            output = func(*_replace_args(args, _unflatten(fresh, spec), wrapped))
            output, aux = _split_aux(output, has_aux, api)
            flat_out, out_spec = _flatten(output)
            _check_outputs(flat_out, api, "f(*args)")
            keep = call.outside(flat_out)
            vectorized = _vectorized(
                lambda: _jacfwd_columns(func, args, argnums, has_aux, flat_out, leaves, randomness)
            )
            if vectorized is not None:
                jac = _unflatten([call.finish(_unflatten(blocks, spec)) for blocks in vectorized], out_spec)
                return (jac, call.finish(aux)) if has_aux else jac
            columns = _jvp_columns(call, flat_out, fresh, keep)
            # blocks[i][j]: d output i / d input j, built column by column.
            blocks: list[list[Tensor]] = [[] for _ in flat_out]
            for j, x in enumerate(fresh):
                cols: list[list[Tensor]] = [[] for _ in flat_out]
                for k in range(x.numel()):
                    tangents: list[Tensor | None] = [None] * len(fresh)
                    tangents[j] = _one_hot(x, k)
                    for i, t in enumerate(columns(tangents)):
                        cols[i].append(t if t is not None else _creation.zeros_like(flat_out[i]))
                for i, o in enumerate(flat_out):
                    shape = tuple(o.shape) + tuple(x.shape)
                    if cols[i]:
                        stacked = _C.stack(cols[i], 0)  # (x.numel(), *o.shape)
                        block = stacked.permute(*range(1, stacked.dim()), 0).reshape(shape)
                    else:
                        block = o.new_zeros(shape)
                    blocks[i].append(block)
            per_output = [call.finish(_unflatten(b, spec)) for b in blocks]
        jac = _unflatten(per_output, out_spec)
        if has_aux:
            return jac, call.finish(aux)
        return jac

    return wrapper_fn


# Note [Vectorized Jacobians]
# jacrev and jacfwd compute a Jacobian in one batched pass: vmap over the rows of the identity
# (the one-hot cotangents of the outputs, for jacrev; the one-hot tangents of the inputs, for
# jacfwd) of a vjp/jvp of func, so func runs once more, batched over the basis, and one backward
# pass serves every row. (PyTorch vmaps only the backward pass; ember's engine cannot run one
# backward pass over a batch of cotangents, so the forward pass is batched with it.) When func
# cannot run under vmap (a vmap error: data-dependent control flow, randomness, .item()), the
# Jacobian is built one backward pass per row instead, and func has then run twice.
def _vectorized(compute: Callable[[], Any]) -> Any:
    """compute() (a vectorized Jacobian), or None when func cannot run under vmap."""
    try:
        return compute()
    except RuntimeError as err:
        if str(err).startswith("vmap:"):
            return None
        raise


def _basis(tensors: Sequence[Any]) -> list[Tensor]:
    """For tensors of n elements in all: per tensor, n one-hot rows shaped like it, the k-th row
    of the whole basis having its 1 in the k-th element counting across the tensors."""
    total = sum(t.numel() for t in tensors)
    rows, start = [], 0
    for t in tensors:
        identity = _creation.eye(total, dtype=t.dtype, device=_creation._device_of(t))
        rows.append(identity.narrow(1, start, t.numel()).reshape(total, *t.shape))
        start += t.numel()
    return rows


def _split_rows(stacked: Tensor, sizes: Sequence[int]) -> list[Tensor]:
    out, start = [], 0
    for n in sizes:
        out.append(stacked.narrow(0, start, n))
        start += n
    return out


def _jacrev_rows(
    func: Callable[..., Any], args: tuple, argnums: Any, has_aux: bool, flat_out: list, chunk_size: int | None
) -> list[list[Tensor]]:
    """jacrev's blocks [output][input] from one vmapped vjp over the outputs' one-hot cotangents."""
    diff, wrapped = _slice_argnums(args, argnums)
    leaves, spec = _flatten(diff)
    out_spec = _flatten([o for o in flat_out])[1]

    def one_row(*cotangents: Tensor) -> list[Tensor]:
        def f(*xs: Any) -> Any:
            out = func(*_replace_args(args, _unflatten(list(xs), spec), wrapped))
            return list(_flatten(_split_aux(out, has_aux, "vjp(f, *primals)")[0])[0])

        _, vjp_fn = vjp(f, *leaves)
        return list(vjp_fn(_unflatten(list(cotangents), out_spec)))

    rows = vmap(one_row, chunk_size=chunk_size)(*_basis(flat_out))  # per input: (n_out, *x.shape)
    sizes = [o.numel() for o in flat_out]
    per_input = [_split_rows(r, sizes) for r in rows]
    return [[per_input[j][i].reshape(*o.shape, *x.shape) for j, x in enumerate(leaves)] for i, o in enumerate(flat_out)]


def _jacfwd_columns(
    func: Callable[..., Any], args: tuple, argnums: Any, has_aux: bool, flat_out: list, leaves: list, randomness: str
) -> list[list[Tensor]]:
    """jacfwd's blocks [output][input] from one vmapped jvp over the inputs' one-hot tangents."""
    diff, wrapped = _slice_argnums(args, argnums)
    _, spec = _flatten(diff)
    primals = list(leaves)

    def one_column(*tangents: Tensor) -> list[Tensor]:
        def f(*xs: Any) -> Any:
            out = func(*_replace_args(args, _unflatten(list(xs), spec), wrapped))
            return list(_flatten(_split_aux(out, has_aux, "jvp(f, primals, tangents)")[0])[0])

        return list(jvp(f, tuple(primals), tuple(tangents))[1])

    columns = vmap(one_column, randomness=randomness)(*_basis(leaves))  # per output: (n_in, *o.shape)
    sizes = [x.numel() for x in leaves]
    blocks = []
    for i, o in enumerate(flat_out):
        parts = _split_rows(columns[i], sizes)
        blocks.append(
            [p.movedim(0, -1).reshape(*o.shape, *x.shape) if p.dim() > 1 else p.reshape(*o.shape, *x.shape)
             for p, x in zip(parts, leaves)]
        )  # fmt: skip
    return blocks


def hessian(func: Callable[..., Any], argnums: _argnums_t = 0) -> Callable[..., Any]:
    """Returns a function computing the Hessian of ``func`` w.r.t. the argument(s) ``argnums``:
    ``jacfwd(jacrev(func, argnums), argnums)``, as in PyTorch."""
    return jacfwd(jacrev(func, argnums), argnums)


def _in_dims_leaves(in_dims: Any, args: tuple, api: str) -> list[Any]:
    """One in_dim per leaf of ``args``: in_dims broadcast over the argument structure."""
    if isinstance(in_dims, int) or in_dims is None:
        return [in_dims] * len(_flatten(args)[0])
    if not isinstance(in_dims, tuple):
        raise ValueError(
            f"{api}: expected `in_dims` to be int or a (potentially nested) tuple matching the structure of inputs, "
            f"got: {type(in_dims)}."
        )
    if len(in_dims) != len(args):
        raise ValueError(
            f"{api}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
            f"{_flatten(in_dims)[1].pprint()} but inputs has structure {_flatten(args)[1].pprint()}."
        )
    out: list[Any] = []
    for d, a in zip(in_dims, args):
        leaves = _flatten(a)[0]
        if isinstance(d, int) or d is None:
            out.extend([d] * len(leaves))
        else:
            sub = _flatten(d)
            if sub[1] != _flatten(a)[1]:
                raise ValueError(
                    f"{api}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
                    f"{sub[1].pprint()} but inputs has structure {_flatten(a)[1].pprint()}."
                )
            out.extend(sub[0])
    return out


def _is_collection(x: Any) -> bool:
    """Whether x is a tensor collection that batches itself under vmap (tensordict's TensorDict: it has a
    ``batch_size``, ``_add_batch_dim(in_dim=, vmap_level=)`` and ``_maybe_remove_batch_dim``)."""
    return not _batched.is_tensor(x) and hasattr(x, "batch_size") and callable(getattr(x, "_add_batch_dim", None))


def _batch_input(x: Any, d: int | None, level: _batched.Level) -> Any:
    """x as the function sees it inside the vmap of `level`: per entry along d."""
    if d is None:
        return x
    if _is_collection(x):  # it wraps its tensors through ember._C._functorch._add_batch_dim
        return x._add_batch_dim(in_dim=d % len(x.batch_size), vmap_level=level.depth)
    return _batched.BatchedTensor(x.movedim(d, 0), level)


def vmap(
    func: Callable[..., Any],
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """Vectorizing map: ``vmap(func)(x)`` computes ``func`` on every slice of ``x`` along dim
    ``in_dims`` at once and stacks the results along ``out_dims``, with batched ops (each op's
    batching rule), not a Python loop. ``in_dims``: an int or None (not mapped) for every input,
    or a tuple with one entry (int, None or a nested structure) per argument; ``out_dims`` the
    same for the outputs. ``randomness``: "error" (random ops raise), "same" (one draw shared by
    the batch) or "different" (a draw per entry). ``chunk_size`` computes the batch that many
    entries at a time. Nests, and composes with grad, vjp, jvp, jacrev, jacfwd and hessian."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = getattr(func, "__name__", repr(func))

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        api = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        leaves, spec = _flatten(args)
        dims = _in_dims_leaves(in_dims, args, api)
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(d, int):
                raise ValueError(f"{api}: in_dims must be int or None, got {type(d)}")
            if _is_collection(x):  # a TensorDict: batched along its batch_size
                rank = len(x.batch_size)
                if not -rank <= d < rank:
                    raise ValueError(
                        f"{api}: Got in_dim={d} for some input, but that input has a batch size of "
                        f"{list(x.batch_size)}, so expected in_dim to satisfy -{rank} <= in_dim < {rank}."
                    )
                sizes.append(x.batch_size[d])
                continue
            if not _batched.is_tensor(x):
                raise ValueError(
                    f"{api}: Got in_dim={d} for an input but the input is of type {type(x)}. We cannot vmap over "
                    "non-Tensor arguments, please use None as the respective in_dim"
                )
            if not -x.dim() <= d < max(x.dim(), 1) or x.dim() == 0:
                raise ValueError(
                    f"{api}: Got in_dim={d} for some input, but that input is a Tensor of dimensionality {x.dim()} "
                    f"so expected in_dim to satisfy -{x.dim()} <= in_dim < {x.dim()}."
                )
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError(
                f"{api}: at least one input must be a Tensor and be vmapped over (i.e. have an in_dim that is not None)"
            )
        if len(set(sizes)) > 1:
            raise ValueError(
                f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes} for the "
                "mapped dimension"
            )
        size = sizes[0]
        if chunk_size is not None and chunk_size < size:
            return _vmap_chunks(leaves, dims, spec, kwargs, size)
        return _vmap_once(leaves, dims, spec, kwargs, size)

    def _vmap_once(leaves: list, dims: list, spec: _Spec, kwargs: dict, size: int) -> Any:
        level = _batched.push(size, randomness)
        try:
            batched = [_batch_input(x, d, level) for x, d in zip(leaves, dims)]
            output = func(*_unflatten(batched, spec), **kwargs)
        finally:
            _batched.pop(level)
        return _unbatch_outputs(output, level, size)

    def _vmap_chunks(leaves: list, dims: list, spec: _Spec, kwargs: dict, size: int) -> Any:
        parts = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            chunk = [x if d is None else x.narrow(d, start, n) for x, d in zip(leaves, dims)]
            parts.append(_vmap_once(chunk, dims, spec, kwargs, n))
        flat_parts = [_flatten(p) for p in parts]
        out_spec = flat_parts[0][1]
        out_leaves = _out_dims_leaves(out_dims, len(flat_parts[0][0]), out_spec)
        joined = []
        for i, d in enumerate(out_leaves):
            pieces = [fp[0][i] for fp in flat_parts]
            joined.append(pieces[0] if d is None else _C.cat(pieces, d))
        return _unflatten(joined, out_spec)

    def _unbatch_outputs(output: Any, level: _batched.Level, size: int) -> Any:
        flat, out_spec = _flatten(output)
        dims = _out_dims_leaves(out_dims, len(flat), out_spec)
        results = []
        for o, d in zip(flat, dims):
            if d is not None and _is_collection(o):
                results.append(o._maybe_remove_batch_dim(name, level.depth, size, d))
            else:
                results.append(_maybe_remove_batch_dim(name, o, level.depth, size, d))
        return _unflatten(results, out_spec)

    def _out_dims_leaves(dims: Any, n: int, out_spec: _Spec) -> list[Any]:
        if isinstance(dims, int) or dims is None:
            return [dims] * n
        flat, dspec = _flatten(dims)
        if len(flat) == n:
            return flat
        if out_spec.kind is not None and isinstance(dims, tuple) and len(dims) == len(out_spec.children):
            out: list[Any] = []
            for d, child in zip(dims, out_spec.children):
                out.extend([d] * child.num_leaves if isinstance(d, int) or d is None else _flatten(d)[0])
            return out
        raise ValueError(
            f"vmap({name}, ..., out_dims={dims})(<inputs>): out_dims is not compatible with the structure of "
            f"`outputs`. out_dims has structure {dspec.pprint()} but outputs has structure {out_spec.pprint()}."
        )

    return wrapped


# ------------------------------------------------------------------------------- functional_call
_MISSING = object()


def _swap_tensor(module: Any, name: str, value: Any) -> Any:
    """Puts ``value`` (or, for _MISSING, nothing) at ``module.name``; returns what was there."""
    for store in (module._parameters, module._buffers):
        if name in store:
            orig = store[name]
            if value is _MISSING:
                del store[name]
            else:
                store[name] = value
            return orig
    orig = getattr(module, name) if hasattr(module, name) else _MISSING
    if orig is not _MISSING and not isinstance(orig, Tensor) and orig is not None:
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of torch.Tensor")
    if value is not _MISSING:
        setattr(module, name, value)
    elif hasattr(module, name):
        delattr(module, name)
    return orig


def _submodule(root: Any, path: str) -> Any:
    from ..nn import Module

    module = root
    if not path:
        return module
    for part in path.split("."):
        try:
            module = getattr(module, part)
        except AttributeError as err:
            raise AttributeError(f"{type(module).__name__} has no attribute `{part}`") from err
        if not isinstance(module, Module):
            raise TypeError(f"submodule `{path}`: {module} is not an instance of torch.nn.Module")
    return module


def _untie(module: Any, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """Adds, for each given name of a tensor tied to others in ``module``, the same value under
    every tied name (PyTorch's tie_weights=True)."""
    named: dict[str, Tensor] = {}
    named.update(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    by_tensor: dict[int, set[str]] = {}
    for name, t in named.items():
        by_tensor.setdefault(id(t), set()).add(name)
    tied: dict[str, set[str]] = {n: names for names in by_tensor.values() if len(names) > 1 for n in names}
    given = [n for n in tensors if n in tied]
    for n in given:
        names = tied[n]
        values = {id(tensors[m]) for m in names if m in tensors}
        if len(values) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                "Consider using tie_weights=False"
            )
    untied = dict(tensors)
    for n in given:
        for m in tied[n]:
            untied[m] = tensors[n]
    return untied


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: Any,
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Calls ``module(*args, **kwargs)`` with its parameters and buffers (by dotted name) replaced
    by the given tensors for the call; the module is restored afterwards."""
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        tensors = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, "
            f"but got {type(parameter_and_buffer_dicts)}"
        )
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)

    untied = _untie(module, tensors) if tie_weights else tensors
    if strict:
        valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(valid - set(untied)), sorted(set(untied) - valid)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError(
                "Error(s) in reparametrizing for {}:\n\t{}".format(type(module).__name__, "\n\t".join(msgs))
            )

    originals: dict[str, Any] = {}
    try:
        for name, value in untied.items():
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{value} is not an instance of torch.Tensor")
            prefix, _, attr = name.rpartition(".")
            originals[name] = _swap_tensor(_submodule(module, prefix), attr, value)
        return module(*args, **kwargs)
    finally:
        current = {}
        for name, orig in reversed(list(originals.items())):
            prefix, _, attr = name.rpartition(".")
            current[name] = _swap_tensor(_submodule(module, prefix), attr, orig)
        # A module that rebinds a parameter or buffer during the call: the caller's dict gets the new one.
        tensors.update({k: current[k] for k in tensors if k in current and current[k] is not _MISSING})


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of same-shaped ``models``, each stacked along a new dim 0 (for
    model ensembling: ``vmap(lambda p, b, x: functional_call(base, (p, b), (x,)), in_dims=(0, 0, None))``).
    Stacked parameters are new leaves that require grad when the models' do."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named: list[dict[str, Tensor]], leaf: bool) -> dict[str, Tensor]:
        out = {}
        for key in named[0]:
            ts = [n[key] for n in named]
            value = _C.stack([t.detach() for t in ts], 0)
            out[key] = value.requires_grad_() if leaf and all(t.requires_grad for t in ts) else value
        return out

    params = stacked([dict(m.named_parameters()) for m in models], leaf=True)
    buffers = stacked([dict(m.named_buffers()) for m in models], leaf=False)
    return params, buffers


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """Returns ``(func(*primals), jvp_fn)`` where ``jvp_fn(*tangents)`` is the Jacobian-vector
    product of ``func`` at ``primals``. ember computes each call as a ``jvp`` (it records no
    trace of ``func``, as PyTorch's make_fx does), so the results match PyTorch's."""
    output = func(*primals)
    _, primals_spec = _flatten(primals)

    def jvp_fn(*tangents: Any) -> Any:
        _, tangents_spec = _flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(
                f"Expected the tangents {tangents_spec.pprint()} to have the same argument structure as the primals "
                f"{primals_spec.pprint()}"
            )
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


def functionalize(func: Callable[..., Any], *, remove: str = "mutations") -> Callable[..., Any]:
    """PyTorch's functionalize: ``func`` with its in-place ops replaced by out-of-place ones. ember
    traces nothing, and its transforms already accept in-place ops, so the function returned
    computes what ``func`` computes (the same results, mutations of the inputs included)."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. Valid options are:\n"
            "     remove='mutations': all inplace and out= operators will be removed from the program, and replaced "
            "with their out-of-place equivalents.\n"
            "     remove='mutations_and_views': In addition to the above, all aliasing operators {view} will be "
            "replaced with their non-aliasing counterparts, {view}_copy.\n"
        )

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapped


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """In place: every BatchNorm module under ``root`` stops tracking running statistics (so it
    normalizes with the statistics of its input, also under vmap, where updating shared running
    statistics from batched values is not possible). Returns ``root``."""
    from ..nn.modules.batchnorm import _BatchNorm

    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


from ._rearrange import rearrange  # noqa: E402  (einops' rearrange on ember ops)
