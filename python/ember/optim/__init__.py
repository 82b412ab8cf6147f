"""Optimizers and learning-rate schedulers, as ``torch.optim``.

SGD, Adam and AdamW update a whole param group in one fused C++ call
(``ember._C._sgd_step_`` / ``_adam_step_``); RMSprop uses in-place tensor ops.
Steps run under no_grad and update the parameters in place.
"""

from . import lr_scheduler  # noqa: F401
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
