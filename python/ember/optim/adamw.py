"""``torch.optim.adamw``: the module path AdamW is imported from (pykeen: ``from torch.optim.adamw import
AdamW``); ember's AdamW lives beside Adam."""

from .adam import AdamW

__all__ = ["AdamW"]
