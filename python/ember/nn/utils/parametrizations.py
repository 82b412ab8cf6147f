"""Parametrizations built on nn.utils.parametrize, as torch.nn.utils.parametrizations: orthogonal, weight_norm
and spectral_norm."""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

from ... import _C, linalg
from ..._C import Tensor
from ..._composite_math import allclose
from ..._creation import eye, randn, zeros_like
from ..._dtype_info import finfo
from ...grad_mode import no_grad
from .. import functional as F
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _default_dim
from .weight_norm import _norm_except_dim, _weight_norm

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    """original0 (g, the norms) and original1 (v, the direction) to v * g / ||v||."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        """v * g / ||v||, the norm over every dim but dim."""
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        """(the norms of weight over every dim but dim, weight)."""
        return _norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrises module.<name> as g * v / ||v|| with a parametrization: original0 holds g (the norms over
    every dim but dim; dim=None means one norm for the whole tensor), original1 holds v. A state_dict saved with
    the hook-based nn.utils.weight_norm (<name>_g, <name>_v) loads into it. Returns module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(
        state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """weight / sigma, sigma its largest singular value estimated by power iteration (buffers _u, _v); a 1-D
    weight is normalised to unit norm instead."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h, device=weight_mat.device).normal_(0, 1)
            v = weight_mat.new_empty(w, device=weight_mat.device).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    @no_grad()
    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # u and v are updated in place (out=), so that the buffers keep their identity.
        for _ in range(n_power_iterations):
            self._u = F.normalize(_C.mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u)
            self._v = F.normalize(_C.mv(weight_mat.t(), self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        """weight / sigma (a power-iteration step first in training mode)."""
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # Clones: the in-place updates of the next forward must not touch the tensors this graph saved.
        u, v = self._u.clone(), self._v.clone()
        return weight / _C.dot(u, _C.mv(weight_mat, v))

    def right_inverse(self, value: Tensor) -> Tensor:
        """value itself: assigning a weight stores it unnormalised."""
        return value


def spectral_norm(
    module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim: int | None = None
) -> Module:
    """Divides module.<name> by its spectral norm with a parametrization: the largest singular value of the
    weight as a matrix of dim against the other dims, estimated by n_power_iterations steps of power iteration
    per training forward (15 at registration); dim defaults to 0 (1 for transposed convolutions). Returns
    module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = _default_dim(module) if dim is None else dim
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


def _eye_like(X: Tensor, n: int, k: int) -> Tensor:
    """The n x k identity in X's dtype and device, broadcast over X's batch dims."""
    return eye(n, k, dtype=X.dtype, device=X.device).expand(*X.shape[:-2], n, k)


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, v_i column i of A below the diagonal
    with a 1 on it, as torch.linalg.householder_product (ember has no such node). A loop of rank-1 updates
    in ember ops, so that it is differentiable in A and tau; applied right to left to the n x k identity, each
    step costs O(nk) rather than forming n x n reflectors."""
    n, k = A.size(-2), A.size(-1)
    V = A.tril(diagonal=-1) + _eye_like(A, n, k)
    Q = _eye_like(A, n, k)
    for i in reversed(range(k)):
        v = V[..., :, i : i + 1]
        Q = Q - (tau[..., i : i + 1].unsqueeze(-1) * v) @ (v.mT @ Q)
    return Q


def _is_orthogonal(Q: Tensor) -> bool:
    """Whether Q^T Q = I to 10 n eps (PyTorch's tolerance), Q tall or square."""
    n, k = Q.size(-2), Q.size(-1)
    identity = eye(k, dtype=Q.dtype, device=Q.device)
    return bool(allclose(Q.mT @ Q, identity, atol=10.0 * n * finfo(Q.dtype).eps))


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR with diag(R) >= 0 (A tall): a unique orthogonal factor, as PyTorch's geqrf +
    householder_product + sign normalisation gives."""
    Q, R = linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _geqrf_reflectors(Q: Tensor) -> Tensor:
    """LAPACK geqrf's packed reflectors of Q (tall, real), with the diagonal replaced by the signs PyTorch's
    right_inverse stores for the householder map: sign(R_ii), flipped where LAPACK chose no reflection
    (tau = 0), so that the forward map, which always reflects, gives Q back. Computed in numpy: it runs
    under no_grad, once per assignment."""
    a = np.array(Q.detach().cpu().numpy(), dtype=np.float64, copy=True)
    n, k = a.shape[-2], a.shape[-1]
    batch = a.reshape(-1, n, k)
    for m in batch:
        for j in range(min(n, k)):
            alpha, rest = m[j, j], m[j + 1 :, j]
            xnorm = float(np.linalg.norm(rest))
            if xnorm == 0.0:
                # No reflection (tau = 0): R_jj = alpha, and the forward map's extra reflection is undone by
                # the flipped sign.
                m[j, j] = -np.sign(alpha)
                continue
            beta = -np.copysign(np.hypot(alpha, xnorm), alpha)
            tau = (beta - alpha) / beta
            v = rest / (alpha - beta)
            # Apply H = I - tau [1; v][1; v]^T to the trailing columns.
            w = m[j, j + 1 :] + v @ m[j + 1 :, j + 1 :]
            m[j, j + 1 :] -= tau * w
            m[j + 1 :, j + 1 :] -= tau * np.outer(v, w)
            m[j + 1 :, j] = v
            m[j, j] = np.sign(beta)
    return _C.from_numpy(batch.reshape(a.shape)).to(device=Q.device, dtype=Q.dtype)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """X (unconstrained, the shape of the weight) to an orthogonal matrix (or batch of them, the last two dims):
    exp or the Cayley transform of a skew-symmetric matrix built from X's lower triangle, or a product of the
    Householder reflectors in X's strict lower triangle. With use_trivialization, the result is multiplied by
    the buffer `base`, set by right_inverse, so that X = 0 (what right_inverse stores) gives the assigned
    matrix: the dynamic trivialization of Lezcano-Casado (2019)."""

    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        """The orthogonal matrix X parametrizes (orthonormal columns if tall, rows if wide)."""
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            # n k - k (k - 1) / 2 free parameters: the lower triangle, padded to a square matrix.
            X = X.tril()
            if n != k:
                X = _C.cat([X, X.new_zeros(n, n - k, device=X.device).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = linalg.matrix_exp(A)
            else:
                # The Cayley retraction (I + A/2)(I - A/2)^{-1}, which commute, so a solve gives it.
                identity = eye(n, dtype=A.dtype, device=A.device)
                Q = linalg.solve(_C.add(identity, A, alpha=-0.5), _C.add(identity, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # X's diagonal holds +-1 signs, neither differentiated nor updated (PyTorch casts it to int).
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    @no_grad()
    def right_inverse(self, Q: Tensor) -> Tensor:
        """The X that gives Q: with the trivialization, base becomes Q (orthogonalised by QR if it is not
        orthogonal, completed to a square orthogonal matrix if it is not square) and X is -I; without it, the
        householder map stores Q's reflectors and the other maps cannot be inverted (NotImplementedError)."""
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape {Q.shape}."
            )
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley parametrizations when "
                    "use_trivialization=False."
                )
            A = _geqrf_reflectors(Q)
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:
            N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(_C.cat([Q, N], dim=-1))
        self.base = Q
        # -I: the householder map gives I at X = -I (its diagonal holds the signs), the others ignore it.
        neg_id = zeros_like(Q_init)
        neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_id


def orthogonal(
    module: Module, name: str = "weight", orthogonal_map: str | None = None, *, use_trivialization: bool = True
) -> Module:
    """Makes module.<name> orthogonal with a parametrization (Q^T Q = I if it is tall or square, Q Q^T = I if
    wide; a tensor of more than 2 dims is a batch of matrices in its last two, so a conv weight is orthogonal in
    its kernel dims, as in PyTorch). orthogonal_map: "matrix_exp", "cayley" or "householder"; default
    "matrix_exp" for a square matrix, "householder" otherwise. use_trivialization keeps a `base` buffer
    (see _Orthogonal). The initial value is the weight if it is orthogonal, its QR orthogonalisation
    otherwise. Returns module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
