"""The torch-level spellings of in-place methods (ember.relu_(x)) and of nn.functional ops with ATen's
signatures (ember.embedding(weight, indices), losses with an int reduction): against the methods and
nn.functional forms they stand for, and against PyTorch when it is importable."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._torch_level_nn import _INPLACE_METHODS

ARGS = {
    "clamp_": (-0.5, 0.5),
    "clamp_max_": (0.3,),
    "clamp_min_": (0.3,),
    "clip_": (-0.5, 0.5),
    "fill_": (2.5,),
    "xlogy_": (2.0,),
    "ldexp_": (ember.tensor(2.0),),
    "gcd_": None,
    "lcm_": None,
    "index_put_": ((ember.tensor([0]),), ember.tensor(7.0)),
    "resize_as_": (ember.zeros(2, 6),),
    "addmv_": (ember.ones(3, 4), ember.ones(4)),
    "logit_": (1e-3,),
    "as_strided_": ((2, 3), (4, 1), 1),
}


@pytest.mark.parametrize("name", _INPLACE_METHODS)
def test_inplace_function_is_the_method(name):
    if ARGS.get(name, ()) is None:  # integer ops
        x, args = ember.tensor([[12, 18, 7], [4, 6, 9], [5, 10, 15]]), (ember.tensor([8, 12, 21]),)
    else:
        x, args = ember.rand(3, 4) * 0.8 + 0.1, ARGS.get(name, ())
    if name == "addmv_":
        x = x[:, 0].contiguous()  # input (n,) for mat (n, m) @ vec (m,)
    a, b = x.clone(), x.clone()
    result = getattr(ember, name)(a, *args)
    getattr(b, name)(*args)
    assert result is a and a.shape == b.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_functional_forms_with_aten_signatures():
    ember.manual_seed(0)
    w, idx = ember.randn(10, 3), ember.tensor([[1, 2], [3, 9]])
    assert ember.equal(ember.embedding(w, idx), F.embedding(idx, w))
    assert ember.equal(ember.embedding(w, idx, padding_idx=2), F.embedding(idx, w, padding_idx=2))
    x, y = ember.randn(4, 5), ember.randn(4, 5)
    log_p, q = x.log_softmax(-1), y.softmax(-1)
    for code, name in [(0, "none"), (1, "mean"), (2, "sum")]:
        elementwise = F.kl_div(log_p, q, reduction="none")
        expected = {"none": elementwise, "mean": elementwise.mean(), "sum": elementwise.sum()}[name]
        np.testing.assert_allclose(ember.kl_div(log_p, q, code).numpy(), expected.numpy(), rtol=1e-6)
        bce = F.binary_cross_entropy_with_logits(x, q, reduction=name)
        np.testing.assert_allclose(ember.binary_cross_entropy_with_logits(x, q, reduction=code).numpy(), bce.numpy())
    target = ember.tensor([1.0, -1.0, 1.0, -1.0])
    np.testing.assert_allclose(
        ember.cosine_embedding_loss(x, y, target, 0.1, 2).numpy(),
        F.cosine_embedding_loss(x, y, target, 0.1, reduction="sum").numpy(),
    )
    np.testing.assert_allclose(ember.rsub(x, 2.0, alpha=3).numpy(), (2.0 - 3 * x).numpy())
    assert ember.scalar_tensor(3).dtype == ember.float32 and ember.scalar_tensor(3).dim() == 0
    np.testing.assert_allclose(ember.frobenius_norm(x, (0, 1)).item(), np.linalg.norm(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(ember.nuclear_norm(x).item(), np.linalg.norm(x.numpy(), "nuc"), rtol=1e-5)
    np.testing.assert_array_equal(
        ember.constant_pad_nd(x, [1, 2], 3.0).numpy(), np.pad(x.numpy(), ((0, 0), (1, 2)), constant_values=3.0)
    )
    t = ember.randn(6)
    assert ember.threshold_(t, 0.0, -1.0) is t and bool(((t > 0) | (t == -1)).all())
    d = ember.ones(2, 4, 5, 5)
    dropped = ember.feature_dropout(d, 0.5, True)
    per_channel = dropped.reshape(2, 4, -1)
    assert bool(((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all())  # whole channels
    assert ember.equal(ember.feature_dropout(d, 0.5, False), d)
    # rrelu_'s generator draws the slopes: two generators of one seed give the same result
    x = ember.randn(50)
    a = ember.rrelu_(x.clone(), training=True, generator=ember.Generator().manual_seed(3))
    b = ember.rrelu_(x.clone(), training=True, generator=ember.Generator().manual_seed(3))
    assert ember.equal(a, b) and not ember.equal(a, x)
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
            ember.scalar_tensor(1.0, pin_memory=True)


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(4, 5)).astype(np.float32) for _ in range(3))
    target = np.array([1.0, -1.0, 1.0, -1.0], dtype=np.float32)
    cases = [
        ("kl_div", lambda m, a, b, c: m.kl_div(a.log_softmax(-1), b.softmax(-1), 1)),
        ("hinge_embedding_loss", lambda m, a, b, c: m.hinge_embedding_loss(a, m.sign(b), 0.5, 2)),
        ("margin_ranking_loss", lambda m, a, b, c: m.margin_ranking_loss(a[:, 0], b[:, 0], m.tensor(target), 0.2, 1)),
        ("triplet_margin_loss", lambda m, a, b, c: m.triplet_margin_loss(a, b, c, 1.0, 2, 1e-6, True, 0)),
        ("poisson_nll_loss", lambda m, a, b, c: m.poisson_nll_loss(a, b.abs(), True, True, 1e-8, 1)),
        ("batch_norm", lambda m, a, b, c: m.batch_norm(a, None, None, None, None, True, 0.1, 1e-5, False)),
        (
            "instance_norm",
            lambda m, a, b, c: m.instance_norm(a.unsqueeze(0), None, None, None, None, True, 0.1, 1e-5, False),
        ),
        ("bilinear", lambda m, a, b, c: m.bilinear(a, b, m.ones(2, 5, 5), None)),
        ("prelu", lambda m, a, b, c: m.prelu(a, m.tensor([0.25]))),
        ("rsub", lambda m, a, b, c: m.rsub(a, b, alpha=2)),
    ]
    for name, fn in cases:
        ours = fn(ember, *(ember.tensor(v) for v in (a, b, c)))
        theirs = fn(torch, *(torch.tensor(v) for v in (a, b, c)))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
