"""ember.nn.utils: gradient clipping, parameter/vector conversion, weight and spectral normalisation (the
hook-based functions and, in parametrizations, their parametrize-based successors), parametrize, and (in
nn.utils.rnn) packed sequences."""

from . import parametrizations, parametrize, rnn  # noqa: F401
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401
