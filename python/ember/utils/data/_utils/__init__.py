"""ember.utils.data._utils, as ``torch.utils.data._utils``: the module paths libraries import the collate
functions from."""

from . import collate, pin_memory, worker  # noqa: F401
