"""ember: a PyTorch-style automatic differentiation engine with a C++ core.

`import ember as torch` runs PyTorch autograd tutorials unchanged.
"""
from . import _blas  # noqa: F401  (loads OpenBLAS before the compiled module)
from . import _C
from ._C import (  # noqa: F401
    Generator, Tensor, default_generator, device, dtype, from_numpy, get_num_threads, initial_seed, manual_seed,
    result_type, set_num_threads,
)
from ._C import (  # noqa: F401
    abs, absolute, add, addmm, all, amax, amin, any, argmax, argmin, bmm, cat, chunk, clamp, clip, clone, concat,
    erf,
    concatenate, contiguous, cos, detach, div, dot, eq, exp, expm1, flatten, gather, ge, ger, gt, index_select,
    isfinite, isinf, isnan, le, log, log1p, log_softmax, logical_and, logical_not, logical_or, logical_xor,
    logsumexp, lt, masked_fill, matmul, max, maximum, mean, min, minimum, mm, mul, mv, narrow, ne, neg, negative,
    nonzero, norm, outer, permute, pow, prod, reciprocal, relu, reshape, rsqrt, scatter_add, select, sigmoid,
    sign, sin, softmax, split, sqrt, square, squeeze, stack, std, sub, sum, swapaxes, t, tan, tanh, transpose,
    true_divide, unbind, unsqueeze, var, where,
)
from ._creation import (  # noqa: F401
    arange, as_tensor, empty, empty_like, eye, full, full_like, get_default_dtype, linspace, ones, ones_like,
    rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from ._tensor import Size, install as _install_tensor_methods
from ._tensor_str import set_printoptions  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from . import autograd, cuda, nn, optim  # noqa: F401,E402
from . import utils  # noqa: F401,E402
from .serialization import load, save  # noqa: F401,E402

__version__ = "0.1.0"

float32 = float = dtype.float32
float64 = double = dtype.float64
int32 = int = dtype.int32
int64 = long = dtype.int64
bool = dtype.bool

_install_tensor_methods()
dtype.__repr__ = dtype.__str__ = lambda self: "ember." + self.name


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(t):
    return t.is_floating_point()


def numel(t):
    return t.numel()
