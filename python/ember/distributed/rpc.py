"""ember.distributed.rpc, as ``torch.distributed.rpc`` in a PyTorch built without its RPC framework:
``is_available()`` is False and nothing else is defined. ember.distributed runs collectives over MPI
and has no remote procedure calls; libraries that import the module at load time and use RPC only
when asked (PyTorch Geometric's distributed sampler) load and run their other parts."""

__all__ = ["is_available"]


def is_available() -> bool:
    """False: ember has no RPC framework (PyTorch answers the same where it was built without one)."""
    return False
