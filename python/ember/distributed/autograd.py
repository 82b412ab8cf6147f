"""ember.distributed.autograd, as ``torch.distributed.autograd`` in a PyTorch built without its RPC framework:
``is_available()`` is False. Distributed autograd runs backward across RPC calls, which ember does not have
(see ``ember.distributed.rpc``); libraries import the module at load time and use it only when it is
available (torchopt)."""

__all__ = ["backward", "context", "get_gradients", "is_available"]


def is_available() -> bool:
    """False: ember has no RPC framework, so no distributed autograd contexts."""
    return False


def _unavailable(what: str) -> RuntimeError:
    return RuntimeError(f"torch.distributed.autograd.{what}: ember has no RPC framework, so no distributed autograd")


class context:  # noqa: N801  (PyTorch's name)
    """A distributed autograd context, as PyTorch defines it with or without RPC; entering one raises, since
    ember has no RPC framework."""

    def __enter__(self) -> int:
        raise _unavailable("context")

    def __exit__(self, *exc: object) -> None:
        return None


def backward(context_id: int, roots: list, retain_graph: bool | None = None) -> None:
    raise _unavailable("backward")


def get_gradients(context_id: int) -> dict:
    raise _unavailable("get_gradients")
