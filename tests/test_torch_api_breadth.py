"""The torch-level functions composed in Python (ember/_composite_*.py) and the legacy names
(ember/_legacy.py, _dtype_info.py, _runtime.py, backends, functional): forward against numpy,
gradients by finite differences in float64 (tests/helpers.check_op), error types and words."""

import math
import os
import subprocess
import warnings

import numpy as np
import pytest

import ember
from helpers import check_op, python_command


def case(id_, inputs, fn, ref, **opts):
    return pytest.param(inputs, fn, ref, opts, id=id_)


def _np_cov(x, correction=1, fweights=None, aweights=None):
    return np.cov(x, ddof=correction, fweights=fweights, aweights=aweights)


def _np_cumtrapz(y, dx=1.0):
    areas = (y[..., 1:] + y[..., :-1]) / 2 * dx
    return np.cumsum(areas, axis=-1)


def _np_renorm(x, p, dim, maxnorm):
    moved = np.moveaxis(x, dim, 0)
    norms = np.linalg.norm(moved.reshape(moved.shape[0], -1), ord=p, axis=1)
    factor = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return np.moveaxis(moved * factor.reshape(-1, *[1] * (moved.ndim - 1)), 0, dim)


def _np_block_diag(*arrays):
    arrays = [np.atleast_2d(a) for a in arrays]
    out = np.zeros((sum(a.shape[0] for a in arrays), sum(a.shape[1] for a in arrays)))
    r = c = 0
    for a in arrays:
        out[r : r + a.shape[0], c : c + a.shape[1]] = a
        r, c = r + a.shape[0], c + a.shape[1]
    return out


def _np_sinc(x):
    return np.sinc(x)


QS = [0.0, 0.25, 0.9, 1.0]
WITH_NANS = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan] * 4, [2.0, 1.0, 4.0, 3.0]])


def _np_quantiles(a):
    return np.quantile(a, QS)


def _np_quantile_method(method):
    return lambda a: np.quantile(a, 0.45, axis=-1, method=method)


def _np_nanquantile(a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN row
        return np.nanquantile(a, 0.4, axis=1)


COORDS = ember.tensor([0.0, 0.5, 1.5, 1.75, 3.0], dtype=ember.float64)


def _np_gradient_e2(a):
    return (np.gradient(a, 0.5, axis=1, edge_order=2),)


def _np_gradient_coords(edge_order):
    return lambda a: (np.gradient(a, COORDS.numpy(), axis=1, edge_order=edge_order),)


_np_grad_c2 = _np_gradient_coords(2)


def _np_slice_scatter(a, b):
    out = a.copy()
    out[1:5:2] = b
    return out


def _np_select_scatter(a, b):
    out = a.copy()
    out[1] = b
    return out


def _np_diagonal_scatter(a, b):
    out = a.copy()
    out[np.arange(3), np.arange(3) + 1] = b
    return out


def _np_median_keepdim(a):
    return np.quantile(a, 0.5, 0, keepdims=True)


def _np_cdist(p):
    return lambda a, b: np.linalg.norm(a[..., :, None, :] - b[..., None, :, :], ord=p, axis=-1)


S, V = (3, 4), (4,)
EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bjk", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("a...b,b...->...a", [(2, 3, 4, 5), (5, 3, 4)]),
    ("i,->i", [(3,), ()]),
    ("ij,ij->ij", [(2, 3), (1, 3)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    ("...", [(2, 3)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
]

OPS = [
    *[
        case(
            f"einsum[{eq.strip()}]",
            shapes,
            lambda *t, eq=eq: ember.einsum(eq, *t),
            lambda *a, eq=eq: np.einsum(eq.replace(" ", ""), *a),
        )
        for eq, shapes in EINSUM
    ],
    case("einsum_sums_ellipsis", [(2, 3)], lambda a: ember.einsum("i...->i", a), lambda a: a.sum(1)),
    case("einsum_list", [S, (4, 2)], lambda a, b: ember.einsum("ij,jk", [a, b]), lambda a, b: a @ b),
    case("einsum_sublist", [S, (4, 2)], lambda a, b: ember.einsum(a, [0, 1], b, [1, 2], [0, 2]), lambda a, b: a @ b),
    case("einsum_sublist_ellipsis", [(2, 3, 4)], lambda a: ember.einsum(a, [..., 1], [1]), lambda a: a.sum((0, 1))),
    case("tensordot_int", [(2, 3, 4), (3, 4, 5)], lambda a, b: ember.tensordot(a, b), lambda a, b: np.tensordot(a, b)),
    case(
        "tensordot_lists",
        [(2, 3, 4), (4, 2, 5)],
        lambda a, b: ember.tensordot(a, b, ([0, 2], [1, 0])),
        lambda a, b: np.tensordot(a, b, ([0, 2], [1, 0])),
    ),
    case("tensordot_0", [(2,), (3,)], lambda a, b: ember.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0)),
    case("kron", [(2, 3), (3, 2)], lambda a, b: ember.kron(a, b), np.kron),
    case("kron_mixed_dims", [(2,), (2, 3)], lambda a, b: a.kron(b), np.kron),
    case(
        "chain_matmul", [(2, 3), (3, 4), (4, 2)], lambda a, b, c: ember.chain_matmul(a, b, c), lambda a, b, c: a @ b @ c
    ),
    case(
        "baddbmm",
        [(1, 3, 5), (2, 3, 4), (2, 4, 5)],
        lambda i, a, b: ember.baddbmm(i, a, b, beta=0.5, alpha=2),
        lambda i, a, b: 0.5 * i + 2 * a @ b,
    ),
    case(
        "addbmm",
        [(3, 5), (2, 3, 4), (2, 4, 5)],
        lambda i, a, b: i.addbmm(a, b, alpha=-1),
        lambda i, a, b: i - (a @ b).sum(0),
    ),
    case("addmv", [(3,), (3, 4), (4,)], lambda i, m, v: ember.addmv(i, m, v, beta=2), lambda i, m, v: 2 * i + m @ v),
    case("addr", [(3, 1), (3,), (4,)], lambda i, a, b: ember.addr(i, a, b), lambda i, a, b: i + np.outer(a, b)),
    case(
        "addr_beta0",
        [(3, 4), (3,), (4,)],
        lambda i, a, b: ember.addr(i * math.nan, a, b, beta=0),
        lambda i, a, b: np.outer(a, b),
        grad=False,
    ),
    case("inner", [(2, 4), (3, 4)], lambda a, b: ember.inner(a, b), np.inner),
    case("inner_scalar", [(), (3,)], lambda a, b: a.inner(b), np.inner),
    case("vdot", [V, V], lambda a, b: ember.vdot(a, b), np.vdot),
    case("dist", [S, (4,)], lambda a, b: ember.dist(a, b, 3), lambda a, b: (np.abs(a - b) ** 3).sum() ** (1 / 3)),
    case("block_diag", [(2, 3), (3,), ()], lambda *t: ember.block_diag(*t), _np_block_diag),
    case("cov", [(3, 6)], lambda a: ember.cov(a), _np_cov),
    case("cov_1d_correction0", [(6,)], lambda a: a.cov(correction=0), lambda a: _np_cov(a, 0)),
    case(
        "cov_weights",
        [(2, 5), np.array([1, 2, 1, 3, 1]), np.array([0.5, 1.0, 2.0, 1.0, 0.1])],
        lambda a, f, w: ember.cov(a, fweights=f, aweights=w),
        lambda a, f, w: _np_cov(a, 1, f, w),
    ),
    case("corrcoef", [(3, 6)], lambda a: ember.corrcoef(a), np.corrcoef),
    # shapes
    case("broadcast_to", [(3, 1)], lambda a: ember.broadcast_to(a, (2, 3, 4)), lambda a: np.broadcast_to(a, (2, 3, 4))),
    case("broadcast_tensors", [(3, 1), (4,)], lambda a, b: ember.broadcast_tensors(a, b), np.broadcast_arrays),
    case(
        "meshgrid_ij",
        [(3,), (4,)],
        lambda a, b: ember.meshgrid(a, b, indexing="ij"),
        lambda a, b: np.meshgrid(a, b, indexing="ij"),
    ),
    case(
        "meshgrid_xy",
        [(3,), (4,), (2,)],
        lambda *t: ember.meshgrid(*t, indexing="xy"),
        lambda *a: np.meshgrid(*a, indexing="xy"),
    ),
    case("atleast_1d", [()], lambda a: ember.atleast_1d(a), np.atleast_1d),
    case("atleast_2d", [(3,), (2, 2)], lambda a, b: ember.atleast_2d(a, b), lambda a, b: tuple(np.atleast_2d(a, b))),
    case("atleast_3d", [(), (3,), (2, 3)], lambda *t: ember.atleast_3d(t), lambda *a: tuple(np.atleast_3d(*a))),
    case("hstack", [(2, 3), (2, 1)], lambda a, b: ember.hstack([a, b]), lambda a, b: np.hstack([a, b])),
    case("hstack_1d", [(2,), (3,)], lambda a, b: ember.hstack((a, b)), lambda a, b: np.hstack([a, b])),
    case("vstack", [(3,), (2, 3)], lambda a, b: ember.vstack([a, b]), lambda a, b: np.vstack([a, b])),
    case("row_stack", [(3,), (3,)], lambda a, b: ember.row_stack([a, b]), lambda a, b: np.vstack([a, b])),
    case("dstack", [(2, 3), (2, 3)], lambda a, b: ember.dstack([a, b]), lambda a, b: np.dstack([a, b])),
    case(
        "column_stack",
        [(3,), (3, 2), ()],
        lambda a, b, c: ember.column_stack([a, b, c.expand(3)]),
        lambda a, b, c: np.column_stack([a, b, np.broadcast_to(c, 3)]),
    ),
    case("tensor_split_int", [(7, 2)], lambda a: ember.tensor_split(a, 3), lambda a: tuple(np.array_split(a, 3))),
    case(
        "tensor_split_indices",
        [(2, 7)],
        lambda a: a.tensor_split([1, -2, 10], dim=1),
        lambda a: tuple(np.split(a, [1, 5, 10], axis=1)),
    ),
    case(
        "tensor_split_axis",
        [(2, 7)],
        lambda a: a.tensor_split(2, axis=1),
        lambda a: tuple(np.array_split(a, 2, axis=1)),
    ),
    case(
        "tensor_split_tensor",
        [(6,)],
        lambda a: ember.tensor_split(a, ember.tensor([2, 4])),
        lambda a: tuple(np.split(a, [2, 4])),
    ),
    case("hsplit", [(2, 6)], lambda a: a.hsplit(3), lambda a: tuple(np.hsplit(a, 3))),
    case("vsplit", [(4, 2)], lambda a: ember.vsplit(a, [1]), lambda a: tuple(np.vsplit(a, [1]))),
    case("dsplit", [(2, 2, 4)], lambda a: ember.dsplit(a, 2), lambda a: tuple(np.dsplit(a, 2))),
    case(
        "cartesian_prod",
        [(2,), (3,)],
        lambda a, b: ember.cartesian_prod(a, b),
        lambda a, b: np.array([[x, y] for x in a for y in b]),
    ),
    case(
        "combinations",
        [(4,)],
        lambda a: ember.combinations(a),
        lambda a: np.array([[a[i], a[j]] for i in range(4) for j in range(i + 1, 4)]),
    ),
    case(
        "combinations_repl",
        [(3,)],
        lambda a: ember.combinations(a, 2, with_replacement=True),
        lambda a: np.array([[a[i], a[j]] for i in range(3) for j in range(i, 3)]),
    ),
    case("diagflat", [(2, 2)], lambda a: a.diagflat(1), lambda a: np.diagflat(a, 1)),
    case("vander", [(4,)], lambda a: ember.vander(a), np.vander),
    case(
        "vander_increasing",
        [(3,)],
        lambda a: ember.vander(a, N=4, increasing=True),
        lambda a: np.vander(a, 4, increasing=True),
    ),
    case("vander_zero", [np.array([0.0, 1.5, -2.0])], lambda a: ember.vander(a), np.vander),
    case("movedim", [(2, 3, 4)], lambda a: ember.movedim(a, (0, 1), (2, 0)), lambda a: np.moveaxis(a, (0, 1), (2, 0))),
    case("moveaxis", [(2, 3, 4)], lambda a: a.moveaxis(-1, 0), lambda a: np.moveaxis(a, -1, 0)),
    case("unflatten", [(2, 12)], lambda a: a.unflatten(1, (3, -1)), lambda a: a.reshape(2, 3, 4)),
    case("ravel", [(3, 4)], lambda a: a.t().ravel(), lambda a: a.T.ravel()),
    case("narrow_copy", [(4, 3)], lambda a: ember.narrow_copy(a, 0, 1, 2), lambda a: a[1:3]),
    case("adjoint", [(2, 3, 4)], lambda a: a.adjoint(), lambda a: np.swapaxes(a, -1, -2)),
    case("sum_to_size", [(2, 3, 4)], lambda a: a.sum_to_size(3, 1), lambda a: a.sum((0, 2)).reshape(3, 1)),
    # math
    case("diff", [(3, 5)], lambda a: ember.diff(a), np.diff),
    case("diff_n2_dim0", [(5, 3)], lambda a: a.diff(n=2, dim=0), lambda a: np.diff(a, 2, axis=0)),
    case(
        "diff_prepend_append",
        [(2, 3), (2, 1), (2, 2)],
        lambda a, p, q: ember.diff(a, prepend=p, append=q),
        lambda a, p, q: np.diff(a, prepend=p, append=q),
    ),
    case("trapezoid", [(3, 5)], lambda y: ember.trapezoid(y), np.trapezoid),
    case("trapezoid_x", [(3, 5), (5,)], lambda y, x: ember.trapezoid(y, x), lambda y, x: np.trapezoid(y, x)),
    case(
        "trapezoid_dx_dim", [(5, 3)], lambda y: ember.trapz(y, dx=0.5, dim=0), lambda y: np.trapezoid(y, dx=0.5, axis=0)
    ),
    case(
        "cumulative_trapezoid",
        [(3, 5)],
        lambda y: ember.cumulative_trapezoid(y, dx=2.0),
        lambda y: _np_cumtrapz(y, 2.0),
    ),
    case(
        "isclose",
        [np.array([1.0, 1.0 + 1e-9, np.nan, np.inf, 1.0]), np.array([1.0, 1.0, np.nan, np.inf, 1.1])],
        lambda a, b: ember.isclose(a, b),
        np.isclose,
    ),
    case(
        "isclose_equal_nan",
        [np.array([np.nan, 1.0]), np.array([np.nan, 1.01])],
        lambda a, b: a.isclose(b, rtol=0.1, equal_nan=True),
        lambda a, b: np.isclose(a, b, rtol=0.1, equal_nan=True),
    ),
    case("isposinf", [np.array([np.inf, -np.inf, 1.0, np.nan])], lambda a: ember.isposinf(a), np.isposinf),
    case("isneginf", [np.array([np.inf, -np.inf, 1.0, np.nan])], lambda a: a.isneginf(), np.isneginf),
    case("isreal", [S], lambda a: ember.isreal(a), np.isreal),
    case("logit", [S], lambda a: ember.logit(a), lambda a: np.log(a / (1 - a)), low=0.05, high=0.95),
    case(
        "logit_eps",
        [S],
        lambda a: a.logit(eps=0.2),
        lambda a: np.log(np.clip(a, 0.2, 0.8) / (1 - np.clip(a, 0.2, 0.8))),
        low=0.05,
        high=0.95,
    ),
    case("sgn", [S], lambda a: ember.sgn(a), np.sign, grad=False),
    case("deg2rad", [S], lambda a: ember.deg2rad(a), np.deg2rad),
    case("rad2deg", [S], lambda a: a.rad2deg(), np.rad2deg),
    case("copysign", [S, (4,)], lambda a, b: ember.copysign(a, b), np.copysign, min_abs=0.05),
    case("copysign_scalar", [S], lambda a: a.copysign(-0.0), lambda a: np.copysign(a, -0.0), min_abs=0.05),
    case("float_power", [S], lambda a: ember.float_power(a, 3), lambda a: a**3.0, float32=False),
    case("float_power_tensor", [S, S], lambda a, b: a.float_power(b), np.float_power, low=0.3, float32=False),
    case(
        "heaviside",
        [np.array([-1.0, 0.0, 2.0]), np.array([0.5, 0.5, 0.5])],
        lambda a, b: ember.heaviside(a, b),
        np.heaviside,
        grad=False,
    ),
    case(
        "fmax",
        [np.array([1.0, np.nan, np.nan, -2.0]), np.array([2.0, 3.0, np.nan, -3.0])],
        lambda a, b: ember.fmax(a, b),
        np.fmax,
        grad=False,
    ),
    case(
        "fmin",
        [np.array([1.0, np.nan, np.nan, -2.0]), np.array([2.0, 3.0, np.nan, -3.0])],
        lambda a, b: a.fmin(b),
        np.fmin,
        grad=False,
    ),
    case("fmax_grad", [S, S], lambda a, b: ember.fmax(a, b), np.fmax),
    case("sinc", [S], lambda a: ember.sinc(a), _np_sinc),
    case("sinc_zero", [np.array([0.0, 0.5, -1.5])], lambda a: a.sinc(), _np_sinc),
    case("renorm", [(3, 4)], lambda a: ember.renorm(a, 2, 0, 2.0), lambda a: _np_renorm(a, 2, 0, 2.0)),
    case("renorm_p1_dim1", [(3, 4)], lambda a: a.renorm(1, 1, 2.5), lambda a: _np_renorm(a, 1, 1, 2.5)),
    case("angle", [np.array([-1.0, 0.5, 2.0])], lambda a: ember.angle(a), np.angle),
    case("ldexp", [S, np.array([1, -2, 0, 3])], lambda a, e: a.ldexp(e), np.ldexp),
    case("cross", [(2, 3), (2, 3)], lambda a, b: ember.cross(a, b, dim=1), lambda a, b: np.cross(a, b, axis=1)),
    case("cross_dim0", [(3, 2), (3, 1)], lambda a, b: a.cross(b.expand(3, 2), 0), lambda a, b: np.cross(a, b, axis=0)),
    case("matrix_power", [(2, 3, 3)], lambda a: ember.matrix_power(a, 5), lambda a: np.linalg.matrix_power(a, 5)),
    case("matrix_power_0", [(3, 3)], lambda a: a.matrix_power(0), lambda a: np.eye(3), grad=False),
    case("quantile", [(3, 5)], lambda a: ember.quantile(a, 0.3, dim=1), lambda a: np.quantile(a, 0.3, axis=1)),
    case("quantile_all_q_tensor", [(3, 5)], lambda a: a.quantile(ember.tensor(QS, dtype=a.dtype)), _np_quantiles),
    case(
        "quantile_keepdim",
        [(4, 3)],
        lambda a: a.quantile(0.5, 0, True),
        lambda a: np.quantile(a, 0.5, 0, keepdims=True),
    ),
    *[
        case(f"quantile_{m}", [(2, 6)], lambda a, m=m: a.quantile(0.45, -1, interpolation=m), _np_quantile_method(m))
        for m in ("lower", "higher", "midpoint", "nearest")
    ],
    case("nanquantile", [WITH_NANS], lambda a: ember.nanquantile(a, 0.4, dim=1), _np_nanquantile, grad=False),
    case("quantile_nan", [WITH_NANS], lambda a: a.quantile(0.5, dim=1), lambda a: np.quantile(a, 0.5, 1), grad=False),
    case("aminmax", [(3, 4)], lambda a: ember.aminmax(a, dim=1), lambda a: (a.min(1), a.max(1))),
    case("aminmax_all", [(3, 4)], lambda a: tuple(a.aminmax()), lambda a: (a.min(), a.max())),
    case("cdist", [(2, 3, 4), (5, 4)], lambda a, b: ember.cdist(a, b), _np_cdist(2)),
    case("cdist_p1", [(3, 4), (2, 4)], lambda a, b: ember.cdist(a, b, p=1), _np_cdist(1)),
    case("gradient", [(4, 5)], lambda a: ember.gradient(a), np.gradient),
    case(
        "gradient_edge2_dim", [(4, 5)], lambda a: ember.gradient(a, spacing=0.5, dim=1, edge_order=2), _np_gradient_e2
    ),
    case("gradient_coords", [(3, 5)], lambda a: ember.gradient(a, spacing=(COORDS,), dim=[1]), _np_gradient_coords(1)),
    case(
        "gradient_coords_e2",
        [(3, 5)],
        lambda a: ember.gradient(a, spacing=[COORDS], dim=1, edge_order=2),
        _np_gradient_coords(2),
    ),
    case("slice_scatter", [(5, 3), (2, 3)], lambda a, b: ember.slice_scatter(a, b, 0, 1, 5, 2), _np_slice_scatter),
    case("select_scatter", [(2, 3), (3,)], lambda a, b: a.select_scatter(b, 0, 1), _np_select_scatter),
    case("diagonal_scatter", [(3, 4), (3,)], lambda a, b: a.diagonal_scatter(b, 1), _np_diagonal_scatter),
    case("gcd", [np.array([12, -18, 0, 7, 0]), np.array([18, 12, 5, 0, 0])], lambda a, b: ember.gcd(a, b), np.gcd),
    case("lcm", [np.array([4, -6, 0, 7]), np.array([6, 4, 5, 3])], lambda a, b: a.lcm(b), np.lcm),
]


@pytest.mark.parametrize("inputs, fn, ref, opts", OPS)
def test_op_against_numpy(inputs, fn, ref, opts):
    check_op(inputs, fn, ref, **opts)


# ------------------------------------------------------------------------------------ values and forms


def test_values_of_index_helpers():
    np.testing.assert_array_equal(ember.tril_indices(3, 4, 1).numpy(), np.stack(np.tril_indices(3, 1, 4)))
    np.testing.assert_array_equal(ember.triu_indices(4, 3, -1).numpy(), np.stack(np.triu_indices(4, -1, 3)))
    idx = ember.tensor([[0, 5], [7, -1]])
    got = ember.unravel_index(idx, (2, 3, 2))
    want = np.unravel_index(np.array([[0, 5], [7, 11]]), (2, 3, 2))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w)
    x = ember.tensor([[0.0, 1.5], [2.0, 0.0]])
    np.testing.assert_array_equal(ember.argwhere(x).numpy(), np.argwhere(x.numpy()))
    assert tuple(ember.broadcast_shapes((3, 1), (4,), ())) == (3, 4)
    assert ember.broadcast_shapes(2, (3, 1)) == ember.Size([3, 2])


def test_integer_and_bool_dtypes():
    a = ember.tensor([3, 1, 4])
    assert ember.diff(a).dtype == ember.int64
    assert ember.diff(ember.tensor([True, False, False])).tolist() == [True, False]
    assert ember.vander(ember.tensor([1, 2], dtype=ember.int32)).dtype == ember.int64
    assert ember.kron(a, ember.tensor([1, 2])).tolist() == [3, 6, 1, 2, 4, 8]
    assert ember.deg2rad(ember.tensor([180])).dtype == ember.float32
    assert ember.copysign(ember.tensor([1, 2]), -1).tolist() == [-1.0, -2.0]
    assert ember.float_power(ember.tensor([2]), 2).dtype == ember.float64
    assert ember.isclose(ember.tensor([1, 2]), ember.tensor([1, 3])).tolist() == [True, False]
    assert ember.isposinf(a).tolist() == [False, False, False]


def test_creation_functions():
    np.testing.assert_allclose(ember.logspace(0, 2, 3).numpy(), np.logspace(0, 2, 3), rtol=1e-6)
    np.testing.assert_allclose(ember.logspace(1, 3, 3, base=2.0).numpy(), [2, 4, 8])
    assert ember.logspace(0, 2, 3, dtype=ember.int64).tolist() == [1, 10, 100]
    assert ember.logspace(0, 1, 2).dtype == ember.float32
    np.testing.assert_allclose(ember.hann_window(5, periodic=False).numpy(), np.hanning(5), atol=1e-7)
    np.testing.assert_allclose(ember.hamming_window(6, periodic=False).numpy(), np.hamming(6), atol=1e-7)
    np.testing.assert_allclose(ember.blackman_window(6, periodic=False).numpy(), np.blackman(6), atol=1e-7)
    np.testing.assert_allclose(ember.bartlett_window(5, periodic=False).numpy(), np.bartlett(5), atol=1e-7)
    np.testing.assert_allclose(
        ember.hann_window(4).numpy(), np.hanning(5)[:4], atol=1e-7
    )  # periodic: N + 1, last dropped
    assert ember.hann_window(1).tolist() == [1.0] and ember.hann_window(0).shape == (0,)
    assert ember.hann_window(3, dtype=ember.float64).dtype == ember.float64
    with pytest.raises(RuntimeError, match="expects floating point dtypes"):
        ember.hann_window(3, dtype=ember.int64)


def test_small_predicates_and_views():
    assert ember.tensor([1]).is_signed() and not ember.tensor([True]).is_signed() and ember.is_signed(ember.ones(1))
    x = ember.arange(6.0).reshape(2, 3)
    assert x.H.tolist() == x.t().tolist() and ember.ones(2, 3, 4).mH.shape == (2, 4, 3)
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        _ = ember.ones(3).H
    assert ember.get_float32_matmul_precision() == "highest"
    try:
        ember.set_float32_matmul_precision("high")
        assert ember.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="is not one of"):
            ember.set_float32_matmul_precision("fast")
        assert ember.get_float32_matmul_precision() == "high"
    finally:
        ember.set_float32_matmul_precision("highest")
    a = ember.arange(6)
    for kw in ({"sections": 3}, {"indices": [1, 4]}, {"tensor_indices_or_sections": ember.tensor([2])}):
        assert [p.tolist() for p in ember.tensor_split(a, **kw)] == [
            p.tolist() for p in ember.tensor_split(a, next(iter(kw.values())))
        ]
    with pytest.raises(TypeError, match="takes one of"):
        ember.tensor_split(a, 2, sections=2)
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        assert ember.cross(ember.ones(2, 3), ember.ones(2, 3)).tolist() == [[0.0] * 3] * 2
    # a negative exponent powers the inverse (ember.linalg.inv)
    assert ember.matrix_power(ember.tensor([[2.0, 0.0], [0.0, 4.0]]), -1).tolist() == [[0.5, 0.0], [0.0, 0.25]]


def test_closeness_and_equality():
    a = ember.tensor([1.0, 2.0])
    assert ember.allclose(a, a + 1e-9) and not ember.allclose(a, a + 1e-3)
    assert a.allclose(a * (1 + 1e-4), rtol=1e-3)
    assert ember.equal(a, ember.tensor([1.0, 2.0])) and not ember.equal(a, ember.tensor([1.0]))
    assert a.equal(ember.tensor([1, 2])) and not a.equal(ember.tensor([1.0, 3.0]))


def test_out_and_inplace_forms():
    out = ember.empty(0)
    ember.kron(ember.ones(2), ember.ones(2), out=out)
    assert out.tolist() == [1.0] * 4
    out = ember.empty(0)
    ember.logit(ember.tensor([0.5]), out=out)
    assert out.tolist() == [0.0]
    x = ember.tensor([0.0, 0.5])
    assert x.sinc_() is x and np.allclose(x.numpy(), np.sinc([0.0, 0.5]))
    m = ember.zeros(2, 3)
    m.addr_(ember.ones(2), ember.ones(3), alpha=2)
    assert m.tolist() == [[2.0] * 3] * 2
    i = ember.tensor([12, 18])
    i.gcd_(ember.tensor([8, 12]))
    assert i.tolist() == [4, 6]


def test_inplace_on_graph_tensor_keeps_gradient_right():
    leaf = ember.tensor([0.3, 1.2], dtype=ember.float64, requires_grad=True)
    y = leaf * 2
    y.sinc_()
    y.sum().backward()
    x = 2 * leaf.detach().numpy() * np.pi
    want = 2 * np.pi * (np.cos(x) * x - np.sin(x)) / x**2
    np.testing.assert_allclose(leaf.grad.numpy(), want, rtol=1e-10)


def test_inplace_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ember.tensor([1, 2]).sinc_()
    with pytest.raises(
        RuntimeError, match="float_power_ has dtype Float but the operation's result requires dtype Double"
    ):
        ember.ones(3).float_power_(2)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ember.ones(3).copysign_(ember.ones(2, 3))


def test_meshgrid_warns_without_indexing():
    x = ember.arange(3)
    with pytest.warns(UserWarning, match="indexing argument"):
        grids = ember.meshgrid(x, x)
    assert [tuple(g.shape) for g in grids] == [(3, 3), (3, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.meshgrid([x, x], indexing="ij")


def test_single_tensor_forms():
    x = ember.tensor(2.0)
    assert ember.atleast_1d(x).shape == (1,)
    assert isinstance(ember.atleast_1d([x]), tuple)
    assert ember.cartesian_prod(ember.arange(3)).tolist() == [0, 1, 2]
    assert ember.combinations(ember.arange(3.0), 0).shape == (0,)
    assert ember.combinations(ember.arange(2.0), 3).shape == (0, 3)
    assert ember.block_diag().shape == (1, 0)
    assert ember.positive(x) is x
    assert ember.resolve_conj(x) is x and ember.resolve_neg(x) is x and ember.conj(x) is x
    assert not ember.is_conj(x) and not x.is_neg() and not x.is_complex()


ERRORS = [
    (
        lambda: ember.einsum("ii", ember.ones(2, 3)),
        RuntimeError,
        "subscript i is repeated for operand 0 but the sizes don't match",
    ),
    (lambda: ember.einsum("ij,jk", ember.ones(2, 3), ember.ones(4, 2)), RuntimeError, "does not broadcast"),
    (lambda: ember.einsum("ij,jk->ik", ember.ones(2, 3)), RuntimeError, "fewer operands"),
    (lambda: ember.einsum("i", ember.ones(2), ember.ones(2)), RuntimeError, "more operands"),
    (lambda: ember.einsum("ij->ii", ember.ones(2, 3)), RuntimeError, "appears more than once in the output"),
    (lambda: ember.einsum("ij->k", ember.ones(2, 3)), RuntimeError, "does not appear in the equation"),
    (lambda: ember.einsum("i2", ember.ones(2)), RuntimeError, "subscripts must be in \\[a-zA-Z\\]"),
    (lambda: ember.einsum("ij", ember.ones(2)), RuntimeError, "number of subscripts in the equation \\(2\\)"),
    (
        lambda: ember.tensordot(ember.ones(2, 3), ember.ones(2, 3), 1),
        RuntimeError,
        "contracted dimensions need to match",
    ),
    (
        lambda: ember.vdot(ember.ones(2, 2), ember.ones(2)),
        RuntimeError,
        "1D tensors expected, but got 2D and 1D tensors",
    ),
    (lambda: ember.chain_matmul(ember.ones(2)), RuntimeError, "Tensor dimension is 1, expected 2"),
    (lambda: ember.block_diag(ember.ones(1, 1, 1)), RuntimeError, "must have 2 or fewer dimensions"),
    (lambda: ember.broadcast_shapes((2, 3), (4, 3)), RuntimeError, "Attempting to broadcast a dimension of length 4"),
    (lambda: ember.meshgrid(ember.ones(2), indexing="yx"), RuntimeError, 'indexing must be one of "xy" or "ij"'),
    (lambda: ember.hstack(ember.ones(2)), TypeError, "must be tuple of Tensors, not Tensor"),
    (lambda: ember.vstack([]), RuntimeError, "expects a non-empty TensorList"),
    (lambda: ember.hsplit(ember.ones(2, 4), 3), RuntimeError, "not divisible by the split_size 3"),
    (lambda: ember.vsplit(ember.ones(4), 2), RuntimeError, "at least 2 dimension, but got a tensor with 1 dimensions"),
    (lambda: ember.tensor_split(ember.ones(4), 1.5), TypeError, "indices_or_sections"),
    (lambda: ember.tensor_split(ember.ones(4), 0), RuntimeError, "number of sections must be larger than 0"),
    (lambda: ember.movedim(ember.ones(2, 3), (0,), (0, 1)), RuntimeError, "should contain the same number of dims"),
    (lambda: ember.movedim(ember.ones(2, 3), 0, 5), IndexError, "Dimension out of range"),
    (lambda: ember.unflatten(ember.ones(6), 0, (4, -1)), RuntimeError, "don't multiply up to the size of dim 0"),
    (lambda: ember.ones(3).adjoint(), RuntimeError, "only supported on matrices or batches of matrices"),
    (lambda: ember.ones(3).sum_to_size(2), RuntimeError, "is not expandable to size"),
    (lambda: ember.diff(ember.arange(3), prepend=ember.tensor(0)), RuntimeError, "same dimension as input"),
    (
        lambda: ember.isclose(ember.ones(2), ember.ones(2), rtol=-1),
        RuntimeError,
        "rtol must be greater than or equal to zero",
    ),
    (
        lambda: ember.isclose(ember.ones(2), ember.ones(2, dtype=ember.float64)),
        RuntimeError,
        "float32 did not match float64",
    ),
    (lambda: ember.positive(ember.tensor([True])), RuntimeError, "on a bool tensor is not supported"),
    (lambda: ember.heaviside(ember.ones(2), ember.ones(2, dtype=ember.float64)), RuntimeError, "different dtypes"),
    (lambda: ember.gcd(ember.ones(2), ember.ones(2)), NotImplementedError, "\"gcd_cpu\" not implemented for 'Float'"),
    (lambda: ember.renorm(ember.ones(3), 2, 0, 1.0), RuntimeError, "needs at least 2 dimensions"),
    (lambda: ember.combinations(ember.ones(2, 2)), RuntimeError, "Expect a 1D vector"),
    (lambda: ember.cov(ember.ones(2, 2, 2)), ValueError, "two or fewer dimensions"),
    (lambda: ember.unravel_index(ember.tensor([1.0]), (2, 3)), TypeError, "to be integer dtype"),
    (
        lambda: ember.baddbmm(ember.ones(2), ember.ones(2, 3), ember.ones(2, 3, 4)),
        RuntimeError,
        "batch1 must be a 3D tensor",
    ),
]


@pytest.mark.parametrize("fn, exc, words", ERRORS, ids=[f"error{i}" for i in range(len(ERRORS))])
def test_errors(fn, exc, words):
    with pytest.raises(exc, match=words):
        fn()


# ------------------------------------------------------------------------------------------ legacy names


def test_legacy_tensor_constructor():
    assert ember.Tensor([1, 2]).dtype == ember.float32 and ember.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert ember.Tensor(2, 3).shape == (2, 3) and ember.Tensor(2, 3).dtype == ember.float32
    assert ember.Tensor().shape == (0,)
    assert ember.Tensor(size=(2, 3)).shape == (2, 3)
    assert ember.Tensor(ember.Size([4])).shape == (4,)
    assert ember.Tensor((2, 3)).tolist() == [2.0, 3.0]  # a tuple is data, as in PyTorch
    assert ember.Tensor(np.arange(3)).dtype == ember.float32
    base = ember.tensor([1, 2])
    assert ember.Tensor(base).data_ptr() == base.data_ptr()
    with pytest.raises(TypeError, match="data must be a sequence"):
        ember.Tensor(2.5)
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu but device type: cuda"):
        ember.Tensor(2, device="cuda")


def test_typed_tensor_classes():
    assert ember.FloatTensor([1, 2]).dtype == ember.float32
    assert ember.DoubleTensor(2, 2).dtype == ember.float64
    assert ember.LongTensor([1.7]).tolist() == [1]
    assert ember.IntTensor(3).dtype == ember.int32
    assert ember.BoolTensor([1, 0]).tolist() == [True, False]
    assert isinstance(ember.zeros(2), ember.FloatTensor) and not isinstance(ember.zeros(2), ember.DoubleTensor)
    assert isinstance(ember.arange(3), ember.LongTensor)
    assert not isinstance(1.0, ember.FloatTensor)
    assert ember.FloatTensor.dtype == ember.float32
    for name, dt in [("ByteTensor", "uint8"), ("HalfTensor", "float16"), ("CharTensor", "int8")]:
        assert getattr(ember, name)([1]).dtype == getattr(ember, dt)
        assert not isinstance(ember.zeros(1), getattr(ember, name))
    with pytest.raises(TypeError, match="expected a tensor of dtype"):
        ember.FloatTensor(ember.tensor([1, 2]))


def test_tensor_type_conversions():
    x = ember.zeros(2)
    assert x.type() == "ember.FloatTensor" and ember.arange(2).type() == "ember.LongTensor"
    assert x.type(ember.DoubleTensor).dtype == ember.float64
    assert x.type("torch.LongTensor").dtype == ember.int64
    assert x.type("ember.IntTensor").dtype == ember.int32
    assert x.type(ember.float64).dtype == ember.float64
    assert x.type(dtype="torch.FloatTensor") is x
    with pytest.raises(ValueError, match="invalid type: 'torch.foo'"):
        x.type("torch.foo")
    assert x.type(ember.ByteTensor).dtype == ember.uint8 and x.type("torch.BFloat16Tensor").dtype == ember.bfloat16
    if ember.cuda.is_available():
        on_gpu = x.type("torch.cuda.FloatTensor")
        assert on_gpu.is_cuda and on_gpu.type() == "ember.cuda.FloatTensor" and on_gpu.type("torch.FloatTensor").is_cpu
    else:
        with pytest.raises(RuntimeError):
            x.type("torch.cuda.FloatTensor")
    assert ember.typename(x) == "ember.FloatTensor" and ember.typename(1) == "int"
    assert ember.typename(ember.nn.Linear) == "ember.nn.modules.linear.Linear"
    assert not ember.is_storage(x)
    assert isinstance(x, ember.autograd.Variable)


def test_default_dtype_flows_into_creation_and_layers():
    assert ember.get_default_dtype() == ember.float32
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.get_default_dtype() == ember.float64
        for t in [
            ember.tensor([1.5]),
            ember.tensor(2.0),
            ember.zeros(2),
            ember.ones(2),
            ember.empty(1),
            ember.randn(2),
            ember.rand(2),
            ember.full((2,), 1.5),
            ember.arange(0.0, 1.0, 0.5),
            ember.linspace(0, 1, 3),
            ember.eye(2),
            ember.Tensor([1]),
            ember.nn.Linear(2, 3).weight,
        ]:
            assert t.dtype == ember.float64, t
        assert ember.tensor([1]).dtype == ember.int64 and ember.arange(3).dtype == ember.int64
        assert ember.tensor(np.ones(2, dtype=np.float32)).dtype == ember.float32
        assert ember.finfo().bits == 64
    finally:
        ember.set_default_dtype(ember.float32)
    assert ember.zeros(1).dtype == ember.float32
    with pytest.raises(TypeError, match="only floating-point types"):
        ember.set_default_dtype(ember.int64)


def test_default_device():
    assert ember.get_default_device() == ember.device("cpu")
    ember.set_default_device("cpu")
    ember.set_default_device(None)
    if not ember.cuda.is_available():  # where CUDA cannot be used (test_cuda.py covers it where it can)
        with pytest.raises(RuntimeError):
            ember.set_default_device("cuda")


def test_dtype_info():
    f = ember.finfo(ember.float32)
    assert (f.bits, f.eps, f.tiny, f.resolution, f.dtype) == (
        32,
        float(np.finfo(np.float32).eps),
        f.smallest_normal,
        1e-06,
        "float32",
    )
    assert f.max == float(np.finfo(np.float32).max) and f.min == -f.max
    assert ember.finfo(ember.float64).eps == np.finfo(np.float64).eps
    i = ember.iinfo(ember.int32)
    assert (i.bits, i.max, i.min, i.dtype) == (32, 2**31 - 1, -(2**31), "int32")
    assert ember.iinfo(ember.int64).max == 2**63 - 1
    with pytest.raises(TypeError, match="requires a floating point input type"):
        ember.finfo(ember.int32)
    with pytest.raises(TypeError, match="requires an integer input type"):
        ember.iinfo(ember.float32)
    with pytest.raises(TypeError, match="not supported by ember.iinfo"):
        ember.iinfo(ember.bool)
    assert ember.promote_types(ember.int32, ember.float32) == ember.float32
    assert ember.promote_types(ember.bool, ember.int32) == ember.int32
    assert ember.promote_types(ember.int64, ember.int32) == ember.int64
    assert ember.can_cast(ember.int32, ember.float32) and not ember.can_cast(ember.float32, ember.int32)
    assert ember.can_cast(ember.float64, ember.float32) and not ember.can_cast(ember.int64, ember.bool)
    with pytest.raises(TypeError, match="must be ember.dtype"):
        ember.promote_types(1, ember.float32)


def test_predicates():
    assert ember.is_nonzero(ember.tensor([2.0])) and not ember.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match="with no values is ambiguous"):
        ember.is_nonzero(ember.tensor([]))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        ember.is_nonzero(ember.ones(2))
    assert ember.is_same_size(ember.ones(2, 3), ember.zeros(2, 3)) and not ember.ones(2).is_same_size(ember.ones(3))
    assert not ember.is_complex(ember.ones(1))
    assert ember.result_type(ember.ones(1, dtype=ember.int32), 1.5) == ember.float32


def test_format_of_tensors():
    assert f"{ember.tensor(1.5)}" == "1.5" and format(ember.tensor(1.25), ".1f") == "1.2"
    assert f"{ember.tensor(3):>3}" == "  3"
    assert f"{ember.tensor([1.5])}" == "tensor([1.5000])"
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(ember.tensor([1.5]), ".2f")


def _initial_seed_of_a_new_process():
    code = "import ember; print(ember.initial_seed())"
    env = dict(os.environ)
    out = subprocess.run(python_command() + ["-c", code], capture_output=True, text=True, env=env, check=True)
    return int(out.stdout)


def test_seed_differs_per_process_and_seed_reseeds():
    assert _initial_seed_of_a_new_process() != _initial_seed_of_a_new_process()
    state = ember.get_rng_state()
    try:
        s = ember.seed()
        assert ember.initial_seed() == s and 0 <= s < 2**64
        g = ember.Generator()
        s = g.seed()
        assert g.initial_seed() == s
        ember.manual_seed(3)
        a = ember.rand(3)
        ember.manual_seed(3)
        assert ember.equal(a, ember.rand(3))
    finally:
        ember.set_rng_state(state)


def test_compile_returns_its_argument():
    def f(x):
        return x * 2

    assert ember.compile(f) is f
    assert ember.compile(mode="max-autotune", fullgraph=True)(f) is f
    m = ember.nn.Linear(2, 2)
    assert ember.compile(m, backend="eager") is m

    @ember.compile
    def g(x):
        return x + 1

    @ember.compile(dynamic=True)
    def h(x):
        return x + 2

    assert g(ember.ones(1)).item() == 2 and h(ember.ones(1)).item() == 3
    assert "unchanged" in ember.compile.__doc__


def test_switches():
    assert not ember.are_deterministic_algorithms_enabled()
    try:
        ember.use_deterministic_algorithms(True, warn_only=True)
        assert ember.are_deterministic_algorithms_enabled() and ember.is_deterministic_algorithms_warn_only_enabled()
    finally:
        ember.use_deterministic_algorithms(False)
    with pytest.raises(TypeError, match="must be bool"):
        ember.use_deterministic_algorithms(1)
    n = ember.get_num_threads()
    assert n >= 1
    ember.set_num_threads(n)
    assert ember.get_num_interop_threads() >= 1


def test_backends():
    import ember.backends.cudnn as cudnn

    b = ember.backends
    assert not b.mps.is_available() and not b.mps.is_built() and not b.cudnn.is_available()
    assert b.openmp.is_available() and not b.mkldnn.is_available() and b.cuda.is_built() == ember.cuda.is_built()
    assert cudnn is b.cudnn and b.cudnn.enabled and not b.cudnn.benchmark and not b.cudnn.deterministic
    try:
        b.cudnn.benchmark = True
        b.cudnn.deterministic = True
        assert b.cudnn.benchmark and b.cudnn.deterministic
        with b.cudnn.flags(enabled=False, benchmark=False):
            assert not b.cudnn.enabled and not b.cudnn.benchmark
        assert b.cudnn.enabled and b.cudnn.benchmark
    finally:
        b.cudnn.benchmark = b.cudnn.deterministic = False
    b.cuda.matmul.allow_tf32 = True
    b.cuda.matmul.allow_tf32 = False


def test_special_names():
    assert ember.special.logit is ember.logit and ember.special.sinc is ember.sinc


def test_constants():
    assert (ember.pi, ember.e, ember.inf, ember.newaxis) == (math.pi, math.e, math.inf, None)
    assert math.isnan(ember.nan) and ember.ones(2)[:, ember.newaxis].shape == (2, 1)


def test_functional_module():
    from ember import functional as F

    assert F.einsum is ember.einsum and F.meshgrid is ember.meshgrid and F.split is ember.split
    for name in F.__all__:
        assert getattr(ember, name) is getattr(F, name), name
