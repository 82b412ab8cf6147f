"""ember.cuda.graphs, as torch.cuda.graphs: CUDA graphs. A capture records the kernels a device's stream is
given (nothing runs then) and a replay queues them all again with one launch, so a step of many small
kernels costs the host one call. Replays read and write the very memory of the capture: inputs are copied
into the tensors the capture read, and results are read from the tensors it made (Note [CUDA graph pools]
keeps those blocks for the graph).

Random numbers drawn on the device (``randn``, ``rand``, ``randint``, ``randperm``, ``dropout``,
``normal_``) are new at each replay, as PyTorch's: a replay takes the generator's next counters
(Note [CUDA graph random numbers]). While a device captures, what CUDA refuses there raises
``RuntimeError`` ("operation not permitted when stream is capturing") and fails the capture: anything that
waits for the device (``.item()``, ``.cpu()``, ``nonzero``, ``print``), and numbers drawn on the host with
a CPU ``generator=`` (a replay would repeat them).
Optimizers with a step count refuse a capture of their ``step()``, as PyTorch's do without
``capturable=True``; SGD's step is captured, and so are Adam's and AdamW's with ``capturable=True``
(Note [Capturable steps])."""

from __future__ import annotations

import gc
from typing import Any

from .. import _C, _graph_capture
from ._devices import _device_index
from .memory import _join_pool, _leave_pool, _new_pool_id

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing", "make_graphed_callables"]


def graph_pool_handle() -> tuple[int, int]:
    """A private memory pool for captures to share (``graph(g, pool=...)``), as PyTorch's pair of integers."""
    return _new_pool_id()


def is_current_stream_capturing() -> bool:
    """Whether the current device is capturing a CUDA graph."""
    return bool(_graph_capture.depth) and _C._cuda_capturing(-1)


class CUDAGraph:
    """A captured CUDA graph: ``capture_begin()``/``capture_end()`` (or ``with ember.cuda.graph(g):``), then
    ``replay()`` as often as wanted. ``keep_graph`` is accepted: ember instantiates the graph at its capture."""

    def __init__(self, keep_graph: bool = False) -> None:
        self._handle: int | None = None
        self._device: int | None = None
        self._pool: tuple[int, int] | None = None
        self._counters = 0  # the random-number counters a replay draws (Note [CUDA graph random numbers])
        self._capturing = False

    def capture_begin(self, pool: tuple[int, int] | None = None, capture_error_mode: str = "global") -> None:
        """Starts capturing the current device's stream; ``pool`` shares another capture's memory.
        ``capture_error_mode`` is checked and kept: ember captures in CUDA's relaxed mode and refuses, itself,
        the calls that would break the capture."""
        if capture_error_mode not in ("global", "thread_local", "relaxed"):
            raise RuntimeError(
                f"Unknown capture error mode. Expected `global`, `thread_local`, or `relaxed`, got {capture_error_mode}"
            )
        if self._handle is not None or self._capturing:
            raise RuntimeError(
                "This CUDAGraph instance already owns a captured graph. To capture a new graph, create a new instance."
            )
        if pool is not None and not (isinstance(pool, tuple) and len(pool) == 2 and isinstance(pool[1], int)):
            raise TypeError(
                f"CUDAGraph: pool must be graph_pool_handle()'s, a graph's pool() or a MemPool's id, got {pool!r}"
            )
        device = _device_index(None)
        pool = pool if pool is not None else graph_pool_handle()
        _C._cuda_capture_begin(device, pool[1])
        self._device, self._pool, self._capturing = device, pool, True
        _join_pool(device, pool[1])
        _graph_capture.depth += 1

    def capture_end(self) -> None:
        """Ends the capture; the graph is ready to replay (raises if something in it was refused)."""
        if not self._capturing:
            raise RuntimeError("CUDAGraph::capture_end called without a preceding capture_begin")
        self._capturing = False
        _graph_capture.depth -= 1
        try:
            self._handle, self._counters = _C._cuda_capture_end(self._device)
        except BaseException:
            _leave_pool(self._device, self._pool[1])
            raise

    def instantiate(self) -> None:
        """Makes the captured graph ready to replay: ember does so at ``capture_end``, so this only checks
        there is one (PyTorch's ``keep_graph=True`` leaves it to this call or the first replay)."""
        if self._handle is None:
            raise RuntimeError("Called CUDAGraph::instantiate without a preceding successful capture.")

    def replay(self) -> None:
        """Queues the captured work again (the host does not wait for it)."""
        if self._handle is None:
            raise RuntimeError("Called CUDAGraph::replay without a preceding successful capture.")
        _C._cuda_graph_replay(self._handle, self._counters)

    def reset(self) -> None:
        """Frees the graph; its pool's memory goes back to the cache once no graph uses the pool."""
        if self._handle is not None:
            _C._cuda_graph_destroy(self._handle)
            self._handle = None
            _leave_pool(self._device, self._pool[1])

    def pool(self) -> tuple[int, int]:
        """The graph's memory pool, to share with a later capture (``graph(g2, pool=g1.pool())``)."""
        if self._pool is None:
            raise RuntimeError("Called CUDAGraph::pool without a preceding successful capture.")
        return self._pool

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            try:
                self.reset()
            except Exception:  # at interpreter exit the module may be gone
                pass


class graph:  # noqa: N801 (torch.cuda.graph)
    """``with ember.cuda.graph(g):`` captures the block into ``g``: waits for the device and empties the cache
    first, as PyTorch's. ``stream`` (a Stream of the device) is accepted: ember captures the device's one
    stream."""

    default_capture_stream = None

    def __init__(
        self,
        cuda_graph: CUDAGraph,
        pool: tuple[int, int] | None = None,
        stream: Any = None,
        capture_error_mode: str = "global",
    ) -> None:
        self.cuda_graph, self.pool, self.capture_error_mode = cuda_graph, pool, capture_error_mode
        self.stream = stream

    def __enter__(self) -> None:
        from . import empty_cache, stream, synchronize

        synchronize()
        gc.collect()
        empty_cache()
        self._stream_context = stream(self.stream)
        self._stream_context.__enter__()
        try:
            self.cuda_graph.capture_begin(self.pool, self.capture_error_mode)
        except BaseException:
            self._stream_context.__exit__(None, None, None)
            raise

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.cuda_graph.capture_end()
        except Exception:
            if exc_type is None:
                raise  # the block's own error, if any, is the one to see
        finally:
            self._stream_context.__exit__(None, None, None)
        if exc_type is not None:
            self.cuda_graph.reset()  # a capture the block broke off holds part of its work: not a graph to replay


def make_graphed_callables(
    callables: Any,
    sample_args: Any,
    num_warmup_iters: int = 3,
    allow_unused_input: bool = False,
    pool: tuple[int, int] | None = None,
) -> Any:
    """Captures each callable's forward and backward into CUDA graphs and returns callables that replay them
    (modules keep their parameters; their forward is replaced while in the training mode they were captured
    in). ``sample_args``: a tuple of tensors per callable, the shapes and dtypes the graphed callable takes."""
    from ..nn import Module

    single = not isinstance(callables, tuple)
    if single:
        callables, sample_args = (callables,), (sample_args,)
    graphed = []
    for fn, args in zip(callables, sample_args):
        if isinstance(fn, Module) and (fn._forward_hooks or fn._forward_pre_hooks or fn._backward_hooks):
            raise RuntimeError(
                "Modules must not have hooks registered at the time they are passed. However, registering hooks on "
                "modules after passing them through make_graphed_callables is allowed."
            )
        graphed.append(_graphed(fn, tuple(args), num_warmup_iters, allow_unused_input, pool))
    return graphed[0] if single else tuple(graphed)


def _graphed(fn: Any, args: tuple, warmup: int, allow_unused: bool, pool: tuple[int, int] | None) -> Any:
    """One callable of make_graphed_callables: its forward graph, the graph of the gradients of what requires
    grad among its inputs and parameters, and an autograd.Function that replays them."""
    from .. import autograd, zeros_like
    from ..nn import Module
    from . import synchronize

    params = tuple(p for p in fn.parameters() if p.requires_grad) if isinstance(fn, Module) else ()
    inputs = args + params
    differentiable = tuple(t for t in inputs if t.requires_grad)

    def gradients(outputs: tuple, grad_outputs: list) -> tuple:
        wanted = [o for o in outputs if o.requires_grad]
        return autograd.grad(wanted, differentiable, grad_outputs=grad_outputs, allow_unused=allow_unused)

    for _ in range(warmup):  # cuBLAS handles, the allocator's blocks, lazy state: made before the capture
        outputs = _as_tuple(fn(*args))
        if differentiable:
            gradients(outputs, [zeros_like(o) for o in outputs if o.requires_grad])
    synchronize()
    forward_graph, backward_graph = CUDAGraph(), CUDAGraph()
    with graph(forward_graph, pool=pool):
        returned = fn(*args)
    returns_tuple, static_outputs = isinstance(returned, tuple), _as_tuple(returned)
    static_grad_outputs = [zeros_like(o) if o.requires_grad else None for o in static_outputs]
    static_grads: tuple = ()
    if differentiable:
        with graph(backward_graph, pool=forward_graph.pool()):
            static_grads = gradients(static_outputs, [g for g in static_grad_outputs if g is not None])
    grad_of = dict(zip(map(id, differentiable), static_grads))

    class Graphed(autograd.Function):
        @staticmethod
        def forward(ctx: Any, *given: Any) -> tuple:
            for static, new in zip(args, given):
                if static.data_ptr() != new.data_ptr():
                    static.copy_(new)
            forward_graph.replay()
            return tuple(o.detach() for o in static_outputs)

        @staticmethod
        def backward(ctx: Any, *grads: Any) -> tuple:
            for static, new in zip(static_grad_outputs, grads):
                if static is not None and new is not None:
                    static.copy_(new)
            backward_graph.replay()
            return tuple(None if grad_of.get(id(t)) is None else grad_of[id(t)].detach() for t in inputs)

    def run(*given: Any) -> Any:
        out = Graphed.apply(*given, *params)
        return out if returns_tuple else out[0]

    run._graphs = (forward_graph, backward_graph)  # kept alive with the callable
    if not isinstance(fn, Module):
        return run
    training, original = fn.training, fn.forward

    def forward(*given: Any, **kwargs: Any) -> Any:
        return run(*given) if fn.training == training and not kwargs else original(*given, **kwargs)

    fn.forward = forward
    return fn


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)
