"""ember.distributed.nn, as ``torch.distributed.nn``: collectives that autograd differentiates
(``ember.distributed.nn.functional``, re-exported here), for losses computed across ranks (contrastive
losses over the all-gathered batch, codebook statistics all-reduced across ranks)."""

from . import functional
from .functional import *  # noqa: F403
from .functional import __all__ as _functional_all

__all__ = ["functional", *_functional_all]
