"""ember.autograd.graph: the graph's nodes and edges, saved-tensor hooks, multi-tensor hooks.

As PyTorch's torch.autograd.graph, plus pictures of the graph (``to_dot``, ``draw``,
``format_graph``, torchviz's ``make_dot``; in _graph_pictures and _graph_render). Saved-tensor
hooks are thread-local (Note [Saved tensor hooks] in csrc/autograd/saved_variable.h).
"""

from __future__ import annotations

import abc
import threading
from typing import Any, Callable, Literal, NamedTuple, Sequence

from .. import _C
from .._C import Tensor
from ._graph_pictures import format_graph, to_dot
from ._graph_render import GraphPicture, draw, make_dot

__all__ = [
    "Node",
    "GradientEdge",
    "get_gradient_edge",
    "increment_version",
    "saved_tensors_hooks",
    "save_on_cpu",
    "disable_saved_tensors_hooks",
    "register_multi_grad_hook",
    "allow_mutation_on_saved_tensors",
    # Pictures of the graph (ember's own; torchviz's make_dot for ember tensors)
    "to_dot",
    "draw",
    "format_graph",
    "make_dot",
    "GraphPicture",
]


class Node(abc.ABC):
    """What every node of the graph is: ``isinstance(t.grad_fn, Node)`` holds for ember's nodes
    (each of its own class, such as ``MulBackward0``) and for a custom Function's ``ctx``.

    A virtual base class, as PyTorch's: it is not in the nodes' ``mro()``.
    """

    @abc.abstractmethod
    def name(self) -> str:
        """The node's name (``MulBackward0``)."""

    @property
    @abc.abstractmethod
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The (node, input number) pairs the node sends gradients to."""


Node.register(_C.Node)


class GradientEdge(NamedTuple):
    """Where a gradient enters the graph: a node and which of its inputs."""

    node: Node
    output_nr: int


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The edge a tensor's gradient flows along: its grad_fn, or its leaf's AccumulateGrad."""
    node, output_nr = _C._gradient_edge(tensor)
    return GradientEdge(node, output_nr)


def increment_version(tensor: Tensor | Sequence[Tensor]) -> None:
    """Bumps the version counter(s), as an in-place op would (for changes made outside ember)."""
    for t in [tensor] if isinstance(tensor, Tensor) else tensor:
        _C._increment_version(t)


_disabled = threading.local()


class saved_tensors_hooks:
    """Inside the block, every tensor saved for backward is given to ``pack_hook`` and only its
    result is kept; backward gets the tensor back from ``unpack_hook(packed)``.

    ``unpack_hook`` must return a tensor with the values the saved one had. Packed tensors are not
    version-checked (ember cannot see the tensor behind what ``pack_hook`` returned).
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        message = getattr(_disabled, "message", None)
        if message is not None:
            raise RuntimeError(message)
        _C._push_saved_tensors_hooks(self.pack_hook, self.unpack_hook)
        _disabled.active = getattr(_disabled, "active", 0) + 1

    def __exit__(self, *args: object) -> None:
        _C._pop_saved_tensors_hooks()
        _disabled.active -= 1


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept in CPU memory and moved back to their device for backward.

    On a CPU-only build every tensor already lives there: a copy is kept, so later in-place
    changes to the original do not reach backward. ``pin_memory`` is accepted (a no-op on CPU).
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Tensor) -> tuple[Any, Tensor]:
            return t.device, t.detach().cpu().clone()

        def unpack(packed: tuple[Any, Tensor]) -> Tensor:
            device, t = packed
            return t.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside the block, using saved_tensors_hooks raises RuntimeError(error_message)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        if getattr(_disabled, "active", 0):  # hooks already in use here cannot be switched off
            raise RuntimeError(self.error_message)
        self._previous = getattr(_disabled, "message", None)
        _disabled.message = self.error_message

    def __exit__(self, *args: object) -> None:
        _disabled.message = self._previous


class _MultiHandle:
    def __init__(self, handles: list[Any]) -> None:
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def __enter__(self) -> _MultiHandle:
        return self

    def __exit__(self, *args: object) -> None:
        self.remove()


def register_multi_grad_hook(
    tensors: Sequence[Tensor], fn: Callable[..., Any], *, mode: Literal["all", "any"] = "all"
) -> _MultiHandle:
    """Calls ``fn`` once per backward pass with the gradients of ``tensors``.

    mode="all": ``fn(grads)`` with one entry per tensor (None for a tensor whose gradient the pass
    did not compute), once the pass has computed them; ember calls it when the pass finishes its
    nodes. mode="any": ``fn(grad)`` with the first of them to be computed.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = list(tensors)
    lock = threading.Lock()
    # Per backward pass (several threads may run backward through these tensors at once).
    passes: dict[int, Any] = {}

    if mode == "all":

        def make_hook(i: int) -> Callable[[Tensor], None]:
            def hook(grad: Tensor) -> None:
                key = _C._current_backward_pass_id()
                with lock:
                    first = key not in passes
                    if first:
                        passes[key] = [None] * len(tensors)
                    passes[key][i] = grad
                if first:

                    def flush() -> None:
                        with lock:
                            grads = passes.pop(key)
                        fn(grads)

                    _C._queue_callback(flush)

            return hook

    else:

        def make_hook(i: int) -> Callable[[Tensor], None]:
            def hook(grad: Tensor) -> None:
                key = _C._current_backward_pass_id()
                with lock:
                    if key in passes:
                        return
                    passes[key] = True

                def reset() -> None:
                    with lock:
                        passes.pop(key, None)

                _C._queue_callback(reset)
                fn(grad)

            return hook

    handles = [t.register_hook(make_hook(i)) for i, t in enumerate(tensors) if t.requires_grad]
    return _MultiHandle(handles)


_mutation_contexts: list[object] = []


class allow_mutation_on_saved_tensors:
    """Inside the block, a tensor saved for backward may be changed in place afterwards: backward
    still sees the values it had when saved.

    ember keeps a copy of every tensor saved inside the block (PyTorch copies lazily, on the first
    in-place change); backward of a graph recorded inside must run inside the block too.
    """

    def __enter__(self) -> allow_mutation_on_saved_tensors:
        if _mutation_contexts:
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        token = object()
        self._token = token
        _mutation_contexts.append(token)

        def pack(t: Tensor) -> tuple[object, Tensor]:
            return token, t.detach().clone()

        def unpack(packed: tuple[object, Tensor]) -> Tensor:
            owner, t = packed
            if owner not in _mutation_contexts:
                raise AssertionError(  # PyTorch's exception type
                    "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                    " in which the graph was originally recorded."
                )
            return t

        self._hooks = saved_tensors_hooks(pack, unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        self._hooks.__exit__()
        _mutation_contexts.remove(self._token)
