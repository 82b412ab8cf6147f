"""The module name ember's printed names start with.

Note [Printed module name]: it is "ember" (``ember.float32``, ``ember.Size([2])``, ``ember.sparse_coo``,
``ember.channels_last``, ``x.type()`` = 'ember.FloatTensor', ``ember.return_types.max(...)``), and "torch"
once ``ember.as_torch`` made ember the ``torch`` module: libraries written for PyTorch compare these strings
(PyG's ``str(layout) == 'torch.sparse_coo'``, ``x.type() == 'torch.FloatTensor'``), and their users expect
torch's names there."""

from __future__ import annotations

_MODULE = ["ember"]


def qualified(name: str) -> str:
    """``name`` as printed under the current module name: 'ember.float32' (or 'torch.float32')."""
    return f"{_MODULE[0]}.{name}"


def print_as(module: str) -> None:
    """Prints names under ``module`` from now on (``ember.as_torch`` passes "torch")."""
    _MODULE[0] = module
