"""Process-wide switches PyTorch scripts set: seeding, ``compile``, deterministic algorithms, the number
of inter-op threads, and small tensor predicates (is_nonzero, is_same_size)."""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable

from . import _C
from ._C import Generator, Tensor

__all__ = [
    "are_deterministic_algorithms_enabled",
    "compile",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "is_deterministic_algorithms_warn_only_enabled",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "seed",
    "set_float32_matmul_precision",
    "set_num_interop_threads",
    "use_deterministic_algorithms",
]


def _random_seed() -> int:
    """A non-deterministic 64-bit seed, as PyTorch seeds its default generator."""
    return int.from_bytes(os.urandom(8), "little")


def seed() -> int:
    """Seeds the default generator with a non-deterministic 64-bit number and returns it."""
    s = _random_seed()
    _C.default_generator.manual_seed(s)
    return s


def _generator_seed(self: Generator) -> int:
    """Seeds this generator with a non-deterministic 64-bit number and returns it."""
    s = _random_seed()
    self.manual_seed(s)
    return s


def _generator_clone_state(self: Generator) -> Generator:
    """A new generator of the same device in this one's current state: both draw the same numbers from here."""
    clone = _C.Generator(self.device)
    clone.set_state(self.get_state())
    return clone


def _graphsafe_state(self: Generator, *args: Any) -> Any:
    # PyTorch's CUDA generators keep a state object that a CUDA graph reads; ember's generators have no such one
    # (its CPU generators refuse these in PyTorch too, with these words).
    raise NotImplementedError("graphsafe_get_state is not supported in this Generator" if not args else
                              "graphsafe_set_state is not supported in this Generator")  # fmt: skip


def seed_at_import() -> None:
    """As PyTorch, each process starts from a different seed (``initial_seed()`` tells which): the C++ core
    starts from a fixed one, so reseed it here. ``manual_seed`` makes runs repeatable."""
    _C.Generator.seed = _generator_seed
    _C.Generator.clone_state = _generator_clone_state
    _C.Generator.graphsafe_get_state = _graphsafe_state
    _C.Generator.graphsafe_set_state = _graphsafe_state
    seed()


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False, **kwargs: Any) -> Any:  # fmt: skip
    """``torch.compile``'s interface with nothing compiled: returns ``model`` (a function or Module) unchanged.

    Usable as ``compile(fn)``, ``@compile`` and ``@compile(mode="max-autotune")``; the options are accepted
    and ignored, as ember runs eagerly (its ops are compiled C++ already)."""
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError("compile(): model must be a callable (a function or an nn.Module)")
    return model


_deterministic = False
_deterministic_warn_only = False


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Records the wish for deterministic algorithms (read back by ``are_deterministic_algorithms_enabled``).
    ember's CPU kernels give the same result for the same inputs and thread count, so nothing else changes."""
    global _deterministic, _deterministic_warn_only
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not {type(mode).__name__}")
    _deterministic, _deterministic_warn_only = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` is in force."""
    return _deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True, warn_only=True)`` is in force."""
    return _deterministic and _deterministic_warn_only


_interop_threads = 1


def get_num_interop_threads() -> int:
    """The number of threads for inter-op parallelism: 1, as ember runs one op at a time."""
    return _interop_threads


def set_num_interop_threads(num: int) -> None:
    """Records the number of inter-op threads (ember runs ops one at a time; intra-op threads are
    ``set_num_threads``)."""
    global _interop_threads
    if int(num) < 1:
        raise RuntimeError("Expected positive number of threads")
    _interop_threads = int(num)


_matmul_precision = "highest"


def get_float32_matmul_precision() -> str:
    """The float32 matmul precision set by ``set_float32_matmul_precision`` ('highest' by default)."""
    return _matmul_precision


def set_float32_matmul_precision(precision: str) -> None:
    """Records 'highest', 'high' or 'medium' (PyTorch's TF32/bfloat16 matmul shortcuts on GPUs); ember's
    CPU matmuls always compute in full float32, so nothing else changes. Other values warn and are ignored."""
    global _matmul_precision
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _matmul_precision = precision


def is_signed(input: Tensor) -> bool:
    """Whether input's dtype is signed: every ember dtype but bool."""
    return input.dtype != _C.dtype.bool


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is nonzero; other sizes raise RuntimeError, as ``bool(tensor)``."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def _whole_batch_truth(input: Tensor, name: str) -> Tensor:
    """``input`` with every vmap level's batch folded in: PyTorch's batching rule for ``_is_all_true`` and
    ``_is_any_true`` gives one answer for the whole batch, so a check (a distribution's argument validation)
    may branch on it inside vmap."""
    from ._batched import physical

    input = physical(input)
    if input.dtype != _C.dtype.bool:
        raise RuntimeError(f"{name}: expected a boolean tensor, but got one of dtype {input.dtype}")
    return input


def _is_all_true(input: Tensor) -> Tensor:
    """A 0-d bool tensor: whether every element of the bool tensor ``input`` is True (True when empty)."""
    return _whole_batch_truth(input, "_is_all_true").all()


def _is_any_true(input: Tensor) -> Tensor:
    """A 0-d bool tensor: whether any element of the bool tensor ``input`` is True (False when empty)."""
    return _whole_batch_truth(input, "_is_any_true").any()


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether ``input`` and ``other`` have the same shape."""
    return tuple(input.shape) == tuple(other.shape)
