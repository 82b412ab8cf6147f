"""Optimizers and learning-rate schedulers, as ``torch.optim``.

SGD, Adam and AdamW update a whole param group in one fused C++ call
(``ember._C._sgd_step_`` / ``_adam_step_``); the others (Adadelta, Adafactor,
Adagrad, Adamax, ASGD, Muon, NAdam, RAdam, RMSprop, Rprop) use in-place tensor
ops in the order of PyTorch's single-tensor implementations, and LBFGS is
PyTorch's algorithm (with the strong-Wolfe line search).
``swap_in_optimizer_params_and_state`` runs an optimizer on other parameters
and state for the length of a ``with`` block.  Steps run under no_grad and
update the parameters in place.  ``swa_utils`` holds stochastic weight
averaging and EMA (``AveragedModel``, ``SWALR``, ``update_bn``).  SparseAdam
checks its arguments as PyTorch's, and its step raises PyTorch's error for dense
gradients (ember has no sparse gradients).
"""

from . import lr_scheduler, swa_utils  # noqa: F401
from ._stateless import swap_in_optimizer_params_and_state
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = [
    "ASGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LBFGS",
    "Muon",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "SGD",
    "SparseAdam",
    "lr_scheduler",
    "swa_utils",
    "swap_in_optimizer_params_and_state",
]
