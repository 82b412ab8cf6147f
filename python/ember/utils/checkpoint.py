"""ember.utils.checkpoint: activation checkpointing, as ``torch.utils.checkpoint``.

``checkpoint(function, *args, use_reentrant=...)`` returns what ``function(*args)``
returns, without keeping the tensors its graph saves for backward: backward runs
``function`` again from its saved arguments, with the random number generator put
back where it was (``preserve_rng_state``), and takes those tensors from that rerun.
Memory is traded for a second forward.

The two variants
----------------
``use_reentrant=True`` is PyTorch's reentrant variant, the same design: a custom
``Function`` (``CheckpointFunction``) runs ``function`` under ``no_grad`` in forward;
its backward reruns it with grad enabled on detached copies of the arguments and
calls ``ember.autograd.backward`` on the recomputed outputs, which accumulates into
``.grad`` of every leaf the function used (parameters) and gives the arguments'
gradients back through the Function. Its limits are PyTorch's: a gradient only when
an argument requires grad, tensors inside nested structures are not tracked, and it
raises inside ``ember.autograd.grad`` or ``backward(inputs=...)``.

``use_reentrant=False`` is PyTorch's non-reentrant variant, the same design (see the
comment above ``_Holder``): the graph is recorded as usual, but under saved-tensor
hooks that keep an empty holder in place of each tensor a node saves. The first
backward node that needs one reruns ``function``, stopping as soon as every holder of
this pass has its tensor (``early_stop``, default True); ``determinism_check`` compares
the shapes, dtypes and devices of the rerun's saved tensors with the forward's.
So ``grad_fn`` of an output is the last op of ``function``, gradients reach every
leaf it used, and ``ember.autograd.grad``, ``backward(inputs=...)``, nested
checkpoints and keyword arguments work.

Deviation from PyTorch: ``debug=True`` adds an explanation to the non-determinism
errors but no operator log (ember has no dispatch-level op recording).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import threading
import warnings
import weakref
from typing import Any, Callable, ContextManager, Iterable, Iterator

from .. import _C, _autocast
from .. import cuda as _cuda
from .._C import Tensor
from ..autograd import Function
from ..autograd.graph import saved_tensors_hooks
from ..grad_mode import enable_grad, no_grad
from ..random import fork_rng

__all__ = [
    "checkpoint",
    "checkpoint_sequential",
    "CheckpointError",
    "CheckpointFunction",
    "GraphExecGroup",
    "check_backward_validity",
    "get_device_states",
    "set_device_states",
    "detach_variable",
    "noop_context_fn",
    "set_checkpoint_early_stop",
    "set_checkpoint_debug_enabled",
]

_DEFAULT_DETERMINISM_MODE = "default"
_DETERMINISM_CHECKS = ("default", "none")
_debug_enabled: bool | None = None  # set_checkpoint_debug_enabled's override of ``debug``
_early_stop_enabled: bool | None = None  # set_checkpoint_early_stop's override of ``early_stop``

# The generator is global: two recomputations replaying their states at once (backward on
# several threads) must not interleave.
_rng_lock = threading.RLock()


class CheckpointError(RuntimeError):
    """A recomputation that does not match the forward (``determinism_check``)."""


def noop_context_fn() -> tuple[ContextManager[Any], ContextManager[Any]]:
    """The default ``context_fn``: two contexts that do nothing."""
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Sets ``early_stop`` for the non-reentrant checkpoints run in the block (their backward
    stops rerunning the function once it has every saved tensor); it overrides the argument."""
    global _early_stop_enabled
    previous, _early_stop_enabled = _early_stop_enabled, enable
    try:
        yield
    finally:
        _early_stop_enabled = previous


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Overrides ``debug`` of the checkpoints in the block (None: each call's own value)."""
    global _debug_enabled
    previous, _debug_enabled = _debug_enabled, enabled
    try:
        yield
    finally:
        _debug_enabled = previous


def detach_variable(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Detached copies of the tensors of ``inputs``, requiring grad as they do; other values as they are."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    detached = []
    for x in inputs:
        if isinstance(x, Tensor):
            x = x.detach().requires_grad_(x.requires_grad)
        detached.append(x)
    return tuple(detached)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warns when no tensor of ``inputs`` requires grad (the reentrant checkpoint then gives none)."""
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


def _rng_states(args: Iterable[Any]) -> tuple[Tensor, Tensor | None]:
    """The generators' states a rerun replays: the CPU one's and, where an argument is a CUDA tensor,
    the CUDA one's (PyTorch stashes the states of its arguments' devices; ember's CUDA devices share
    one Philox stream)."""
    on_cuda = any(isinstance(a, Tensor) and a.is_cuda for a in args)
    return _C.get_rng_state(), _cuda.get_rng_state() if on_cuda else None


def get_device_states(*args: Any) -> tuple[list[int], list[Tensor]]:
    """The GPU generator states a rerun of a function of ``args`` needs, as PyTorch's: the device index of
    each GPU tensor among ``args`` (nested in lists and dicts too), and that device's generator state."""
    from ._pytree import tree_leaves

    devices = [a.get_device() for a in tree_leaves(args) if isinstance(a, Tensor) and a.is_cuda]
    return devices, [_cuda.get_rng_state(device) for device in devices]


def set_device_states(devices: Iterable[int], states: Iterable[Tensor], *, device_type: str | None = None) -> None:
    """Gives each GPU of ``devices`` its generator state from ``states`` (``get_device_states``'s pair)."""
    if device_type == "meta":
        return
    for device, state in zip(devices, states):
        _cuda.set_rng_state(state, device)


@contextlib.contextmanager
def _replayed_rng(states: tuple[Tensor, Tensor | None] | None) -> Iterator[None]:
    """Runs the block from the generator states ``states`` (``_rng_states``) and gives the caller's
    states back afterwards (None: the block draws from the current states, which it advances)."""
    if states is None:
        yield
        return
    cpu_state, cuda_state = states
    with _rng_lock, fork_rng(devices=[] if cuda_state is None else [0]):
        _C.set_rng_state(cpu_state)
        if cuda_state is not None:
            _cuda.set_rng_state(cuda_state)
        # a backward inside the rerun (autograd.grad in the function) runs its nodes on this thread:
        # a node on a device thread or parallel worker could wait for the lock this thread holds
        serial_before = _C._set_serial_backward(True)
        try:
            yield
        finally:
            _C._set_serial_backward(serial_before)


# --- the reentrant variant -----------------------------------------------------------------


class CheckpointFunction(Function):
    """The reentrant checkpoint (``use_reentrant=True``), as PyTorch's ``CheckpointFunction``."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable[..., Any], preserve_rng_state: bool, *args: Any) -> Any:
        """Runs ``run_function(*args)`` without recording; keeps the arguments and the RNG state."""
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.fwd_rng_state = _rng_states(args) if preserve_rng_state else None
        ctx.autocast_state = _autocast.states()
        ctx.non_tensor_args = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        """Reruns the function with grad enabled and backpropagates ``grads`` through the rerun."""
        from .. import autograd

        if not _C._is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an "
                "`inputs` parameter to .backward(). To resolve this error, you can either set "
                "use_reentrant=False, or call .backward() without passing the `inputs` argument."
            )
        saved = iter(ctx.saved_tensors)
        args = tuple(next(saved) if a is None else a for a in ctx.non_tensor_args)
        with _replayed_rng(ctx.fwd_rng_state), _autocast.applied(ctx.autocast_state):
            detached = detach_variable(args)
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        roots, seeds = [], []
        for out, g in zip(outputs, grads):
            if isinstance(out, Tensor) and out.requires_grad:
                roots.append(out)
                seeds.append(g)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward(roots, seeds)
        return (None, None) + tuple(d.grad if isinstance(d, Tensor) else None for d in detached)


# --- the non-reentrant variant -------------------------------------------------------------
#
# PyTorch's design, on ember's saved-tensor hooks (Note [Saved tensor hooks]):
# - Forward runs the function under a hook pair whose pack hook keeps, instead of each tensor a
#   node saves, an empty _Holder (and the tensor's metadata for the determinism check). The graph
#   is the real one; only its saved tensors are gone.
# - The first unpack of one of those holders in a backward pass reruns the function (RNG replayed)
#   on the saved arguments under a second pair: its pack hook hands the i-th tensor saved during
#   the rerun to the i-th holder (keyed by the pass) and, with early stop, ends the rerun by
#   raising once every holder is filled. Each later unpack in that pass takes its tensor.
# - A pass is ember.autograd's pass id, or a GraphExecGroup spanning several passes; an unpack
#   outside backward (grad_fn._saved_result) gets an id of its own, so it reruns every time.


class _Holder:
    """What a node keeps for a tensor saved inside a checkpoint: the rerun's tensor, per pass."""

    __slots__ = ("handles", "__weakref__")

    def __init__(self) -> None:
        self.handles: dict[Any, _Handle | None] = {}


class _Handle:
    """Key of one recomputed tensor: it dies with its holder, and so does the entry."""

    __slots__ = ("__weakref__",)


class _StopRecomputation(Exception):
    """Raised from the rerun's pack hook once every holder has its tensor (early stop)."""


class _SavedArgument:
    """A tensor argument kept for the rerun, checked for in-place changes as a saved tensor is."""

    __slots__ = ("tensor", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.version = tensor._version

    def unpack(self) -> Tensor:
        t = self.tensor
        if t._version != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [{t.type()} {list(t.shape)}] is at version {t._version}; expected version "
                f"{self.version} instead. Hint: a tensor argument of a checkpoint was changed in place "
                "between the forward pass and backward()."
            )
        return t


def _default_metadata(t: Tensor) -> dict[str, Any]:
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


_METADATA_FNS: dict[str, Callable[[Tensor], Any]] = {"default": _default_metadata, "none": lambda _: None}

_DEBUG_TIP = (
    "\nTip: To see a more detailed error message, either pass `debug=True` to "
    "`ember.utils.checkpoint.checkpoint(...)` or wrap the code block with "
    "`with ember.utils.checkpoint.set_checkpoint_debug_enabled(True):`."
)

_unpack_ids = itertools.count(-1, -1)  # ids for unpacks outside backward (passes count up from 1)


class _Frame:
    """One call of a non-reentrant checkpoint: what its hooks share."""

    def __init__(
        self,
        recompute_fn: Callable[..., None],
        early_stop: bool,
        metadata_fn: Callable[[Tensor], Any],
        debug: bool,
    ) -> None:
        self.recompute_fn = recompute_fn
        self.early_stop = early_stop
        self.metadata_fn = metadata_fn
        self.debug = debug
        self.saved_args: list[Any] = []
        self.weak_holders: list[weakref.ref[_Holder]] = []
        self.x_metadatas: list[Any] = []
        self.recomputed: collections.defaultdict[Any, weakref.WeakKeyDictionary[_Handle, Tensor]] = (
            collections.defaultdict(weakref.WeakKeyDictionary)
        )
        self.recomp_counter: collections.defaultdict[Any, int] = collections.defaultdict(int)
        self.is_recomputed: collections.defaultdict[Any, bool] = collections.defaultdict(bool)
        self.forward_completed = False
        self.ignore_saved_mismatch = False
        # Two nodes of one checkpoint may unpack at once on two backward threads: one reruns.
        self.lock = threading.RLock()

    def save_inputs(self, args: tuple[Any, ...]) -> None:
        self.saved_args = [_SavedArgument(a) if isinstance(a, Tensor) else a for a in args]

    def get_inputs(self) -> list[Any]:
        return [a.unpack() if isinstance(a, _SavedArgument) else a for a in self.saved_args]

    def error(self, message: str) -> CheckpointError:
        if self.debug:
            message += (
                "\n\nERROR: Detected non-determinism while running activation checkpointing.\n"
                "You are seeing this error because you passed `debug=True` to checkpoint and tensors to be saved "
                "during the original forward differ from those saved during recomputation. This can happen if "
                "different operators ran in the original forward and in the recomputation (a data-dependent "
                "branch, global state, randomness with preserve_rng_state=False). ember records no operator "
                "log: compare the code paths the two runs took."
            )
        else:
            message += _DEBUG_TIP
        return CheckpointError(message)

    def check_recomputed_tensors_match(self, gid: Any) -> None:
        if self.ignore_saved_mismatch:
            return
        if len(self.weak_holders) != self.recomp_counter[gid]:
            raise self.error(
                "ember.utils.checkpoint: A different number of tensors was saved during the original forward "
                f"and recomputation.\nNumber of tensors saved during forward: {len(self.weak_holders)}\n"
                f"Number of tensors saved during recomputation: {self.recomp_counter[gid]}."
            )
        mismatched = ""
        for idx, weak_holder in enumerate(self.weak_holders):
            holder = weak_holder()
            if holder is None:
                continue
            recomputed_meta = self.metadata_fn(self.recomputed[gid][holder.handles[gid]])
            if self.x_metadatas[idx] != recomputed_meta:
                mismatched += (
                    f"tensor at position {idx}:\nsaved metadata: {self.x_metadatas[idx]}\n"
                    f"recomputed metadata: {recomputed_meta}\n"
                )
        if mismatched:
            raise self.error(
                "ember.utils.checkpoint: Recomputed values for the following tensors have different metadata "
                f"than during the forward pass.\n{mismatched}"
            )


class _RecomputationHooks(saved_tensors_hooks):
    """During a rerun: the i-th saved tensor goes to the i-th holder of the pass ``gid``."""

    def __init__(self, frame_ref: weakref.ref[_Frame], gid: Any) -> None:
        def pack(x: Tensor) -> Tensor:
            x = x.detach() if x.requires_grad else x
            frame = frame_ref()
            assert frame is not None, "a checkpoint's rerun outlived its frame"
            index = frame.recomp_counter[gid]
            frame.recomp_counter[gid] += 1
            if index >= len(frame.weak_holders):
                if not frame.forward_completed:  # backward inside the checkpointed function
                    frame.ignore_saved_mismatch = True
                    return x
                raise frame.error(
                    "ember.utils.checkpoint: trying to save more tensors during recomputation than during the "
                    "original forward pass."
                )
            holder = frame.weak_holders[index]()
            if holder is not None:  # None: backward already freed it
                handle = _Handle()
                holder.handles[gid] = handle
                frame.recomputed[gid][handle] = x
            if frame.early_stop and frame.recomp_counter[gid] == len(frame.weak_holders):
                raise _StopRecomputation
            return x

        super().__init__(pack, lambda x: x)


_exec_group: GraphExecGroup | None = None


class _CheckpointHooks(saved_tensors_hooks):
    """During the checkpointed forward: nodes keep empty holders instead of tensors."""

    def __init__(self, frame: _Frame) -> None:
        def pack(x: Tensor) -> _Holder:
            holder = _Holder()
            frame.weak_holders.append(weakref.ref(holder))
            frame.x_metadatas.append(frame.metadata_fn(x))
            return holder

        def unpack(holder: _Holder) -> Tensor:
            gid: Any = _exec_group
            if gid is None:
                gid = _C._current_backward_pass_id() or next(_unpack_ids)
            with frame.lock:
                if not frame.is_recomputed[gid]:
                    args = frame.get_inputs()
                    try:
                        with _RecomputationHooks(weakref.ref(frame), gid), enable_grad():
                            frame.recompute_fn(*args)
                    except _StopRecomputation:
                        pass
                    frame.is_recomputed[gid] = True
                    frame.check_recomputed_tensors_match(gid)
                handle = holder.handles.get(gid)
                if handle is None:
                    overlap = (
                        "Performing two backward calls that overlap (i.e. require the same saved activation in "
                        "order to compute gradients) is not allowed while under the "
                        "ember.utils.checkpoint.GraphExecGroup context. "
                        if _exec_group is not None
                        else ""
                    )
                    raise CheckpointError(
                        "ember.utils.checkpoint: Unpack is being triggered for a tensor that was already unpacked "
                        f"once. {overlap}If you are calling ctx.saved_tensors in backward, make sure to do so only "
                        "once. Otherwise please open an issue with details on your use case."
                    )
                holder.handles[gid] = None
                return frame.recomputed[gid].pop(handle)

        super().__init__(pack, unpack)


class GraphExecGroup:
    """Backward calls inside one group recompute each checkpointed region at most once, even across
    several calls (with ``retain_graph=True``); the calls must use disjoint saved activations."""

    def __enter__(self) -> GraphExecGroup:
        global _exec_group
        if _exec_group is not None:
            raise RuntimeError(f"GraphExecGroup contexts cannot be nested. Already inside group {_exec_group}")
        _exec_group = self
        return self

    def __exit__(self, *args: object) -> None:
        global _exec_group
        _exec_group = None


def _checkpoint_without_reentrant(
    function: Callable[..., Any],
    preserve_rng_state: bool,
    context_fn: Callable[[], tuple[ContextManager[Any], ContextManager[Any]]],
    determinism_check: str,
    debug: bool,
    early_stop: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    debug = _debug_enabled if _debug_enabled is not None else debug
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _METADATA_FNS:
        raise ValueError(f"determinism_check should be one of {list(_METADATA_FNS)}, but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    rng_state = _rng_states(itertools.chain(args, kwargs.values())) if preserve_rng_state else None
    autocast_state = _autocast.states()  # both device types: the recomputation may run on a GPU's thread

    def recompute_fn(*inputs: Any) -> None:
        with _replayed_rng(rng_state), _autocast.applied(autocast_state), recompute_context:
            function(*inputs, **kwargs)

    frame = _Frame(
        recompute_fn,
        _early_stop_enabled if _early_stop_enabled is not None else early_stop,
        _METADATA_FNS[determinism_check],
        debug,
    )
    if not _C.is_grad_enabled():  # nothing is recorded: a plain call, as PyTorch
        return function(*args, **kwargs)
    frame.save_inputs(args)
    suppressed = True
    with _CheckpointHooks(frame), forward_context:
        outputs = function(*args, **kwargs)
        suppressed = False
    if suppressed:
        raise RuntimeError(
            "ember.utils.checkpoint: the forward context provided by context_fn suppressed an exception raised "
            "during the checkpointed forward. This is not supported because checkpoint cannot return a value "
            "for a failed forward."
        )
    frame.forward_completed = True
    return outputs


# --- the public functions ------------------------------------------------------------------


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    context_fn: Callable[[], tuple[ContextManager[Any], ContextManager[Any]]] = noop_context_fn,
    determinism_check: str = _DEFAULT_DETERMINISM_MODE,
    debug: bool = False,
    early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """Runs ``function(*args, **kwargs)`` without keeping its intermediate tensors for backward;
    backward recomputes them by running ``function`` again.

    Args:
        function: what to run; it must compute the same thing when run again (randomness is
            replayed with ``preserve_rng_state``).
        args: its positional arguments.
        use_reentrant: which variant (see the module docstring); pass it explicitly. None warns
            and means True, as PyTorch 2.x does; False is recommended: gradients reach the
            parameters used inside even when no argument requires grad, and it works with
            ``ember.autograd.grad`` and keyword arguments.
        preserve_rng_state: replay the random number generator's state of the forward in the
            recomputation (identical dropout masks); False lets it draw new numbers.
        context_fn: returns two context managers, for the forward run and for the
            recomputation (``use_reentrant=False`` only).
        determinism_check: ``"default"`` checks that the tensors saved by the rerun have the
            forward's shapes, dtypes and devices; ``"none"`` does not (``use_reentrant=False`` only).
        debug: non-determinism errors explain themselves at length (``use_reentrant=False`` only).
        early_stop: stop the rerun once every saved tensor is recomputed (``use_reentrant=False``
            only); ``set_checkpoint_early_stop`` overrides it.
        kwargs: keyword arguments of ``function`` (``use_reentrant=False`` only).

    Returns:
        The output of ``function``.
    """
    if use_reentrant is None:
        warnings.warn(
            "ember.utils.checkpoint: the use_reentrant parameter should be passed explicitly. PyTorch announces "
            "that calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentrant(
        function, preserve_rng_state, context_fn, determinism_check, debug, early_stop, args, kwargs
    )


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Tensor,
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Tensor:
    """Runs ``functions`` (an ``nn.Sequential`` or a list of modules or functions) one after the
    other on ``input``, checkpointing all but the last of ``segments`` chunks, as PyTorch.

    The first ``segments - 1`` chunks have ``len(functions) // segments`` functions each and are
    run through ``checkpoint``; the rest runs as usual. Keyword ``preserve_rng_state`` (default
    True) goes to each ``checkpoint``; ``use_reentrant`` as for ``checkpoint``.
    """
    if use_reentrant is None:
        warnings.warn(
            "ember.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
            "explicitly. PyTorch announces that calling it without use_reentrant will raise an exception. "
            "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
            "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
            "two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    if segments < 1 or len(functions) // segments < 1:
        raise ValueError(
            f"checkpoint_sequential: segments must be between 1 and the number of functions "
            f"({len(functions)}), but got {segments}"
        )
    size = len(functions) // segments

    def run(chunk: list[Callable[..., Any]]) -> Callable[[Any], Any]:
        def forward(x: Any) -> Any:
            for f in chunk:
                x = f(x)
            return x

        return forward

    start = 0
    for _ in range(segments - 1):
        input = checkpoint(
            run(functions[start : start + size]), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
        start += size
    return run(functions[start:])(input)
