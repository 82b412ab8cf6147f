"""ember.utils: data loading (``ember.utils.data``), activation checkpointing (``ember.utils.checkpoint``) and
DLPack exchange (``ember.utils.dlpack``), as ``torch.utils``."""

from . import _pytree, checkpoint, data, dlpack, flop_counter, hooks, model_zoo, weak  # noqa: F401
