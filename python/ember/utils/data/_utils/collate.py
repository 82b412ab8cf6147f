"""``torch.utils.data._utils.collate``'s functions, from ember.utils.data."""

from ..dataloader import default_collate, default_convert

__all__ = ["default_collate", "default_convert"]
