"""ember: a PyTorch-style automatic differentiation engine with a C++ core.

`import ember as torch` runs PyTorch autograd tutorials unchanged.
"""

from __future__ import annotations

import builtins as _builtins
import math as _math
import sys as _sys
from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

# The order matters here (ruff's import sorting is off for this file):
# OpenBLAS is loaded before the compiled module links against it, and the
# submodules come last because they import names from ember.
from . import _blas  # loads OpenBLAS before the compiled module
from . import _C, _names
from . import return_types  # the named tuples ops return, compiled ones too

return_types._install()

# The op registry's functions (add, exp, sum, matmul, cat, ...) and the core
# types: _C.__all__ lists them (Note [Op registry] in csrc/python/registry.h).
from ._C import *
from ._creation import *
from ._composite import *
from ._composite import install as _install_composite_methods
from ._dtype_info import *
from ._legacy import *
from ._legacy import install as _install_legacy
from ._runtime import *
from ._runtime import _is_all_true, _is_any_true  # noqa: F401
from ._runtime import seed_at_import as _seed_at_import
from ._creation import (  # noqa: F401  (PyTorch's torch.layout and its values)
    _mkldnn,
    layout,
    sparse_bsc,
    sparse_bsr,
    sparse_coo,
    sparse_csc,
    sparse_csr,
    strided,
)
from ._memory_format import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from ._tensor import Size
from ._tensor import install as _install_tensor_methods
from ._tensor_str import set_printoptions
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

from . import (
    accelerator,
    amp,
    autograd,
    backends,
    cpu,
    cuda,
    distributed,
    distributions,
    func,
    functional,
    linalg,
    nn,
    onnx,
    optim,
    random,
    version,
    special,
    testing,
)
from . import profiler
from . import __config__, _dynamo, _higher_order_ops, _utils, ao, compiler, fft, futures, fx, jit, library, overrides  # noqa: F401
from . import quasirandom, storage  # noqa: F401
from .library import ops  # noqa: F401  (torch.ops: custom ops by namespace)
from .futures import Future  # noqa: F401  (torch.Future)
from .jit import ScriptFunction, ScriptModule  # noqa: F401  (torch.ScriptModule: never an ember object's type)
from ._storage import (
    BFloat16Storage,
    BoolStorage,
    ByteStorage,
    CharStorage,
    DoubleStorage,
    FloatStorage,
    HalfStorage,
    IntStorage,
    LongStorage,
    ShortStorage,
    TypedStorage,
    UntypedStorage,
)
from ._storage import install as _install_storage
from ._torch_level_nn import *  # noqa: F403  (needs nn)
from ._torch_level_aten import *  # noqa: F403  (needs nn)
from ._torch_level_rnn import *  # noqa: F403  (needs nn)
from ._householder import geqrf, orgqr, ormqr
from ._lobpcg import lobpcg
from ._lowrank import pca_lowrank, svd_lowrank
from ._streams import Event, Stream
from ._dispatch_keys import DispatchKey, DispatchKeySet
from .overrides import DisableTorchFunction, DisableTorchFunctionSubclass
from ._torch_misc import *
from ._segment import *  # noqa: F403  (torch._segment_reduce, the COO/CSR index conversions)
from ._jit_types import *  # noqa: F403  (torch.TensorType, torch.DeviceObjType, torch.ListType, ...)
from ._foreach import *  # noqa: F403  (torch._foreach_add and its kin)
from ._symbolic import *  # noqa: F403  (torch.SymInt, sym_max, _assert_async)
from ._zip_records import PyTorchFileReader, PyTorchFileWriter
from ._torch_misc import install as _install_torch_misc

# modules PyTorch imports with itself, which programs use as attributes without importing them (gluonts)
from . import _custom_ops, _functorch, _ops, _subclasses, _vmap_internals, signal, types  # noqa: F401, E402
from .amp import GradScaler, autocast
from .amp.autocast_mode import (
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)
from .func import vmap
from . import utils
from ._distance import cdist, cosine_similarity, pairwise_distance, pdist
from ._C import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .serialization import load, save
from .utils.dlpack import from_dlpack
from ._histogram import bincount, histc, histogram, histogramdd
from ._random import bernoulli, multinomial, normal, poisson, randint_like
from ._tensor_extras import alpha_dropout, asarray, dropout, empty_strided, frexp, mode, nextafter, range  # noqa: A004
from . import _batched, _histogram, _random, _tensor_extras
from . import quantization, sparse  # noqa: F401
from .ao.quantization.observer import (  # noqa: F401  (PyTorch's quantization schemes, by name)
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
)
from ._sparse import sparse_coo_tensor
from ._sparse_csr import sparse_csr_tensor

# torch.* spellings of the composed convolution, pooling and pixel-shuffle functions (PyTorch has them at top level).
from .nn.functional import (
    adaptive_avg_pool1d,
    avg_pool1d,
    channel_shuffle,
    conv1d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    group_norm,
    hardshrink,
    layer_norm,
    max_pool1d,
    max_pool3d,
    pixel_shuffle,
    pixel_unshuffle,
    rrelu,
)
from .nn.functional import celu as celu
from .nn.functional import selu as selu

try:
    __version__ = _version("ember")  # one source: the version in pyproject.toml
except _PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

float32 = float = dtype.float32
float64 = double = dtype.float64
int32 = int = dtype.int32
int64 = long = dtype.int64
int16 = short = dtype.int16
int8 = dtype.int8
uint8 = dtype.uint8
uint16 = dtype.uint16
uint32 = dtype.uint32
uint64 = dtype.uint64
float16 = half = dtype.float16
bfloat16 = dtype.bfloat16
bool = dtype.bool
complex32, complex64, complex128 = chalf, cfloat, cdouble = dtype.complex32, dtype.complex64, dtype.complex128
float8_e4m3fn, float8_e5m2, float8_e8m0fnu = dtype.float8_e4m3fn, dtype.float8_e5m2, dtype.float8_e8m0fnu
float8_e4m3fnuz, float8_e5m2fnuz = dtype.float8_e4m3fnuz, dtype.float8_e5m2fnuz
# Quantized, bits and sub-byte dtypes: names only, for good (Note [Named-only dtypes]); bit is uint1, as PyTorch's.
qint8, quint8, qint32, quint4x2, quint2x4 = dtype.qint8, dtype.quint8, dtype.qint32, dtype.quint4x2, dtype.quint2x4
bits1x8, bits2x4, bits4x2, bits8, bits16 = dtype.bits1x8, dtype.bits2x4, dtype.bits4x2, dtype.bits8, dtype.bits16
float4_e2m1fn_x2 = dtype.float4_e2m1fn_x2
int1, int2, int3, int4, int5, int6, int7 = (
    dtype.int1,
    dtype.int2,
    dtype.int3,
    dtype.int4,
    dtype.int5,
    dtype.int6,
    dtype.int7,
)
uint1, uint2, uint3, uint4 = dtype.uint1, dtype.uint2, dtype.uint3, dtype.uint4
uint5, uint6, uint7 = dtype.uint5, dtype.uint6, dtype.uint7
bit = uint1

# Complex tensors (Note [Complex tensors]): torch.complex is the function making one.
from . import _complex  # noqa: E402
from ._complex import imag, polar, real, view_as_complex, view_as_complex_copy, view_as_real, view_as_real_copy  # noqa: E402
from ._spectral import istft, stft  # noqa: E402
from . import _spectral  # noqa: E402

complex = _complex.complex_from
complex.__name__ = complex.__qualname__ = "complex"

# PyTorch's constants: torch.pi, torch.e, torch.inf, torch.nan, and torch.newaxis (x[:, ember.newaxis]).
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None

_install_tensor_methods()
_histogram.install()
_random.install()
_tensor_extras.install()
_install_composite_methods()
_install_storage()
_install_legacy()
_install_torch_misc()
_dispatch_keys.install()
_batched.install()
_complex.install()
_spectral.install()
overrides.install()  # after every method is attached: those written in Python dispatch too
_seed_at_import()


def _blas_warm_up(threads: _builtins.int) -> None:
    """One float32 product split over `threads` of ember's threads (Note [BLAS buffer pages])."""
    rows = 128 * _builtins.max(threads, 1)  # a block of 128 rows per thread, each about a millisecond of work
    _C.matmul(_C._zeros([rows, 256], float32), _C._zeros([256, 256], float32))


_blas.prefault_buffers(lambda: _blas_warm_up(_C.get_num_threads()), _C.get_num_threads())
dtype.__repr__ = dtype.__str__ = lambda self: _names.qualified(self.name)  # Note [Printed module name]


def is_tensor(obj: object) -> _builtins.bool:
    """Whether obj is an ember Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> _builtins.bool:
    """Whether input's dtype is a floating point dtype."""
    return input.is_floating_point()


def numel(input: Tensor) -> _builtins.int:
    """The number of elements of input."""
    return input.numel()


def set_anomaly_enabled(enabled: _builtins.bool, check_nan: _builtins.bool = True) -> None:
    """Turns anomaly detection on or off (see ember.autograd.detect_anomaly)."""
    _C._set_anomaly_enabled(enabled, check_nan)


def is_inference(input: Tensor) -> _builtins.bool:
    """Whether input was made in inference mode (an inference tensor)."""
    return input.is_inference()


_warn_always = False


def set_warn_always(b: _builtins.bool) -> None:
    """When True, warnings PyTorch gives once per process (backward with create_graph=True) are given every time."""
    global _warn_always
    _warn_always = _builtins.bool(b)


def is_warn_always_enabled() -> _builtins.bool:
    """Whether set_warn_always(True) is in force."""
    return _warn_always


_LAZY_SUBMODULES = ("hub", "multiprocessing")  # urllib's and multiprocessing's imports cost start-up time


# PyTorch's deprecated build flags: each warns and answers what the backend query it names says.
_DEPRECATED_FLAGS = {"has_cuda": "cuda.is_built", "has_cudnn": "cudnn.is_available", "has_mps": "mps.is_built",
                     "has_mkldnn": "mkldnn.is_available"}  # fmt: skip


def __getattr__(name: str) -> object:
    """``ember.hub`` and ``ember.multiprocessing`` load at their first use, as most programs use neither; the
    deprecated ``has_cuda``, ``has_cudnn``, ``has_mps`` and ``has_mkldnn`` warn, as PyTorch's."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name in _DEPRECATED_FLAGS:
        import warnings

        backend, query = _DEPRECATED_FLAGS[name].split(".")
        warnings.warn(f"'{name}' is deprecated, please use 'ember.backends.{backend}.{query}()'", stacklevel=2)
        return getattr(getattr(backends, backend), query)()
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


# Last, once every function is defined: the Python ones that take tensors dispatch __torch_function__
# (Note [Python functions dispatch]).
overrides._wrap_python_functions(_sys.modules[__name__], nn.functional, linalg, special, fft)

# torch.__all__: the public names that are not modules; libraries read it to list PyTorch's functions (torchlens)
__all__ = _builtins.sorted(
    name for name, value in globals().items() if not name.startswith("_") and not isinstance(value, type(_sys))
)
