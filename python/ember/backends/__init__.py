"""``torch.backends``: the availability of accelerator and library backends, and the flags scripts set on
them. ember's CPU kernels use OpenBLAS and OpenMP; its CUDA backend (when built) uses cuBLAS and its own
kernels (``backends.cuda``, a module of its own). The backends ember does not use (cuDNN, oneDNN, MKL, MPS)
say they are not available, and their flags (``cudnn.benchmark``, ``cudnn.deterministic``, ...) are kept
but change nothing."""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any


def _submodule(name: str, doc: str, **attrs: Any) -> types.ModuleType:
    """Makes ``ember.backends.<name>`` importable (``import ember.backends.cudnn``) with these attributes."""
    module = types.ModuleType(f"{__name__}.{name}", doc)
    module.__dict__.update(attrs)
    sys.modules[module.__name__] = module
    globals()[name] = module
    return module


def _false() -> bool:
    return False


def _true() -> bool:
    return True


def _flags_context(module_name: str, names: tuple[str, ...]) -> Any:
    """A ``flags(...)`` context manager that sets the module's flags and restores them on exit."""

    @contextlib.contextmanager
    def flags(**values: Any) -> Iterator[None]:
        module = sys.modules[f"{__name__}.{module_name}"]
        unknown = set(values) - set(names)
        if unknown:
            raise TypeError(f"flags() got an unexpected keyword argument '{unknown.pop()}'")
        saved = {k: getattr(module, k) for k in values}
        module.__dict__.update({k: v for k, v in values.items() if v is not None})
        try:
            yield
        finally:
            module.__dict__.update(saved)

    flags.__doc__ = f"Sets {', '.join(names)} for the ``with`` block, then restores them."
    return flags


_submodule(
    "cudnn",
    "cuDNN: not available in this build; its flags are kept so scripts that set them run unchanged.",
    enabled=True,
    benchmark=False,
    benchmark_limit=10,
    deterministic=False,
    allow_tf32=True,
    is_available=_false,
    version=lambda: None,
    flags=_flags_context("cudnn", ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")),
)
_submodule(
    "mkldnn",
    "oneDNN (MKL-DNN): not used by this build; ``enabled`` is kept for scripts that set it.",
    enabled=True,
    deterministic=False,
    allow_tf32=True,
    is_available=_false,
    flags=_flags_context("mkldnn", ("enabled", "deterministic", "allow_tf32")),
)
_submodule("mkl", "Intel MKL: not used by this build (ember uses OpenBLAS).", is_available=_false)
_submodule("mps", "Apple's Metal (MPS): not available in this build.", is_available=_false, is_built=_false)
_submodule("openmp", "OpenMP: ember's CPU kernels run their loops with it.", is_available=_true)
_submodule(
    "opt_einsum",
    "opt_einsum: not used (ember.einsum contracts its operands left to right).",
    enabled=False,
    strategy=None,
    is_available=_false,
)
_submodule("cpu", "The CPU backend.", get_cpu_capability=lambda: "DEFAULT")

from . import cuda  # noqa: E402  (a module of its own: the attention switches live there)


def _flag_getter(module: types.ModuleType, flag: str) -> Any:
    def get() -> bool:
        return bool(getattr(module, flag))

    return get


def _flag_setter(module: types.ModuleType, flag: str) -> Any:
    def set_(value: bool) -> None:
        setattr(module, flag, bool(value))

    return set_


def _install_flag_accessors() -> None:
    """``torch._C._get_cudnn_enabled``/``_set_cudnn_enabled`` and their kin read and write the flags above, as
    PyTorch's ``backends.cudnn`` attributes are those accessors (pytorch-forecasting asserts on
    ``_get_cudnn_enabled()``); ``_has_cudnn``/``_has_mkldnn`` say this build has neither."""
    from .. import _C

    def install(name: str, fn: Any) -> None:
        fn.__name__ = fn.__qualname__ = name  # a function of _C's own, as the stub generator reads them
        fn.__module__ = _C.__name__
        setattr(_C, name, fn)

    cudnn_flags = ("enabled", "benchmark", "deterministic", "allow_tf32")
    for backend, flags in (("cudnn", cudnn_flags), ("mkldnn", ("enabled", "deterministic"))):
        module = sys.modules[f"{__name__}.{backend}"]
        for flag in flags:
            install(f"_get_{backend}_{flag}", _flag_getter(module, flag))
            install(f"_set_{backend}_{flag}", _flag_setter(module, flag))
        setattr(_C, f"_has_{backend}", False)


_install_flag_accessors()

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
