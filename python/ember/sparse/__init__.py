"""ember.sparse: PyTorch's ``torch.sparse`` functions for sparse COO and CSR tensors
(``ember.sparse_coo_tensor``, ``sparse_csr_tensor``, ``Tensor.to_sparse``): ``mm``, ``addmm``, ``sum`` and
``check_sparse_tensor_invariants``. Gradients reach a sparse operand's values and the dense operand (see
``ember._sparse``)."""

from __future__ import annotations

from typing import Any

from .._C import Tensor
from .._sparse import SparseCooTensor, _mm
from .._sparse import sum as _sparse_sum

__all__ = ["addmm", "check_sparse_tensor_invariants", "mm", "sum"]


def _require_sparse(x: Any, name: str) -> SparseCooTensor:
    if not isinstance(x, SparseCooTensor):
        raise RuntimeError(
            f"{name}: expected a sparse COO tensor as the first argument, got a dense {type(x).__name__}"
        )
    return x


def mm(sparse: Any, dense: Tensor, reduce: str = "sum") -> Tensor:
    """``sparse @ dense``: a 2-D sparse COO matrix times a dense matrix or vector (a dense result); with
    ``reduce`` ("mean", "amax"/"max", "amin"/"min") each row's products are reduced so instead of summed."""
    return _mm(_require_sparse(sparse, "torch.sparse.mm"), dense, "torch.sparse.mm", reduce)


def addmm(mat: Tensor, mat1: Any, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` with ``mat1`` sparse."""
    return mat * beta + _mm(_require_sparse(mat1, "torch.sparse.addmm"), mat2, "torch.sparse.addmm") * alpha


def sum(input: Any, dim: Any = None, dtype: Any = None) -> Any:  # noqa: A001
    """Every entry of a sparse tensor summed (a 0-d dense tensor), or over ``dim``."""
    return _sparse_sum(_require_sparse(input, "torch.sparse.sum"), dim, dtype)


class check_sparse_tensor_invariants:  # noqa: N801  (PyTorch's name)
    """PyTorch's switch for checking sparse tensors' indices as they are made; ember always checks them, so
    the switch is kept (``is_enabled``) and changes nothing. A context manager and a decorator."""

    _enabled = False

    def __init__(self, enable: bool = True) -> None:
        self.state, self.saved = enable, None

    @staticmethod
    def is_enabled() -> bool:
        return check_sparse_tensor_invariants._enabled

    @staticmethod
    def enable() -> None:
        check_sparse_tensor_invariants._enabled = True

    @staticmethod
    def disable() -> None:
        check_sparse_tensor_invariants._enabled = False

    def __enter__(self) -> check_sparse_tensor_invariants:
        self.saved = check_sparse_tensor_invariants._enabled
        check_sparse_tensor_invariants._enabled = self.state
        return self

    def __exit__(self, *exc: Any) -> None:
        check_sparse_tensor_invariants._enabled = bool(self.saved)

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with check_sparse_tensor_invariants(self.state):
                return fn(*args, **kwargs)

        return run
