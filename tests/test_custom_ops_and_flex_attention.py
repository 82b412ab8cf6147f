"""ember.library's custom ops (PyTorch's torch.library.custom_op): an opaque op with its own backward, fake
(meta) and per-device kernels, reachable as ember.ops.<namespace>.<name>; and FlexAttention
(ember.nn.attention.flex_attention) against scaled_dot_product_attention and numpy."""

import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn.attention.flex_attention import (
    AuxRequest,
    and_masks,
    create_block_mask,
    create_mask,
    flex_attention,
    noop_mask,
    or_masks,
)


def test_custom_op_runs_opaque_and_differentiates_through_its_registered_formula():
    calls = []

    @ember.library.custom_op("embertest::scaled_sin", mutates_args=())
    def scaled_sin(x: ember.Tensor, scale: float) -> ember.Tensor:
        calls.append(ember.is_grad_enabled())
        return x.sin() * scale

    assert ember.ops.embertest.scaled_sin is scaled_sin and scaled_sin.default is scaled_sin
    x = ember.tensor([0.5, 1.0], dtype=ember.float64, requires_grad=True)
    y = scaled_sin(x, 2.0)
    assert calls == [False]  # the function runs without recording a graph: the op is one node
    assert type(y.grad_fn).__name__ == "GeneratedBackwardFor_embertest_scaled_sin_defaultBackward"
    with pytest.raises(RuntimeError, match="no autograd formula was registered. Please use register_autograd"):
        y.sum().backward()

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.scale = inputs[1]

    def backward(ctx, grad):
        (saved,) = ctx.saved_tensors
        return grad * saved.cos() * ctx.scale, None

    ember.library.register_autograd("embertest::scaled_sin", backward, setup_context=setup_context)
    ember.ops.embertest.scaled_sin(x, 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.cos([0.5, 1.0]))
    assert gradcheck(lambda t: scaled_sin(t, 3.0), (x.detach().requires_grad_(),))
    with ember.no_grad():
        assert scaled_sin(x, 1.0).grad_fn is None

    @scaled_sin.register_fake
    def _(x, scale):
        return ember.empty_like(x)

    meta = scaled_sin(ember.ones(3, device="meta"), 1.0)
    assert meta.device.type == "meta" and meta.shape == (3,)

    @scaled_sin.register_kernel("cpu")
    def _(x, scale):
        return x * 0 + scale

    assert scaled_sin(ember.ones(2), 5.0).tolist() == [5.0, 5.0]


def test_custom_op_misuse_says_what_is_wrong():
    with pytest.raises(ValueError, match="of the form 'namespace::name'"):
        ember.library.custom_op("no_namespace", lambda x: x, mutates_args=())
    with pytest.raises(ValueError, match="Parameter x must have a type annotation"):
        ember.library.custom_op("embertest::unannotated", lambda x: x, mutates_args=())
    with pytest.raises(ValueError, match="no custom op of that name"):
        ember.library.register_autograd("embertest::missing", lambda ctx, g: g)
    with pytest.raises(AttributeError, match="'embertest' object has no attribute 'missing'"):
        assert ember.ops.embertest.missing is None

    @ember.library.custom_op("embertest::no_fake", mutates_args=())
    def no_fake(x: ember.Tensor) -> ember.Tensor:
        return x.clone()

    with pytest.raises(NotImplementedError, match="no fake impl registered"):
        no_fake(ember.ones(1, device="meta"))


def _reference(q, k, v, scores_mod, visible):
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    scores = scores_mod(scores)
    scores = np.where(visible, scores, -np.inf)
    peak = np.max(scores, -1, keepdims=True)
    weights = np.exp(scores - np.where(np.isfinite(peak), peak, 0.0))
    total = weights.sum(-1, keepdims=True)
    out = np.where(total > 0, weights / np.where(total > 0, total, 1.0), 0.0) @ v
    return out, np.log(total[..., 0]) + peak[..., 0]


def test_flex_attention_equals_the_masked_softmax_it_describes():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(2, 4, 5, 8)) for _ in range(3))
    k, v = k[:, :2], v[:, :2]  # grouped-query: 4 query heads over 2 key/value heads

    def causal(b, h, qi, ki):
        return qi >= ki

    def near(b, h, qi, ki):
        return (qi - ki) <= 1

    def bias(score, b, h, qi, ki):
        return score + 0.1 * (qi - ki) - 0.05 * h

    mask = create_block_mask(and_masks(causal, near), None, None, 5, 5, device="cpu")
    out, lse = flex_attention(*(ember.tensor(a) for a in (q, k, v)), score_mod=bias, block_mask=mask, enable_gqa=True,
                              return_lse=True)  # fmt: skip
    qi, ki = np.arange(5)[:, None], np.arange(5)[None, :]
    heads = np.arange(4)[:, None, None]
    visible = (qi >= ki) & (qi - ki <= 1)
    want, want_lse = _reference(q, np.repeat(k, 2, 1), np.repeat(v, 2, 1), lambda s: s + 0.1 * (qi - ki) - 0.05 * heads,
                                visible)  # fmt: skip
    # (the bias is float32, as PyTorch's: an int64 index tensor times a Python float)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(lse.numpy(), want_lse, rtol=1e-6)
    # no modifiers: scaled_dot_product_attention's numbers
    t = [ember.tensor(a) for a in (q, np.repeat(k, 2, 1), np.repeat(v, 2, 1))]
    np.testing.assert_allclose(flex_attention(*t).numpy(), ember.nn.functional.scaled_dot_product_attention(*t).numpy(),
                               rtol=1e-10)  # fmt: skip
    # a row that sees nothing gives zeros, not NaN
    hidden = create_block_mask(lambda b, h, qi, ki: ki > qi + 10, 1, 1, 5, 5)
    assert flex_attention(*(x[:1] for x in t), block_mask=hidden).abs().sum().item() == 0.0
    _, aux = flex_attention(*t, return_aux=AuxRequest(lse=True))
    assert aux.lse.shape == (2, 4, 5) and aux.max_scores is None


def test_flex_attention_gradients_and_block_masks():
    rng = np.random.default_rng(1)
    q, k, v = (ember.tensor(rng.normal(size=(1, 2, 4, 3)), requires_grad=True) for _ in range(3))
    mask = create_block_mask(or_masks(lambda b, h, qi, ki: qi >= ki, lambda b, h, qi, ki: ki == 3), 1, 2, 4, 4)
    assert gradcheck(lambda a, b, c: flex_attention(a, b, c, score_mod=lambda s, *i: s * 0.5, block_mask=mask),
                     (q, k, v))  # fmt: skip
    big = create_block_mask(lambda b, h, qi, ki: qi >= ki, 1, 1, 300, 300, BLOCK_SIZE=128)
    assert big.shape == (1, 1, 300, 300) and big.BLOCK_SIZE == (128, 128)
    assert big.to_dense().dtype == ember.int32 and big.to_dense()[0, 0].tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert create_mask(noop_mask, 1, 1, 2, 3).all() and "sparsity" in repr(big)
    with pytest.raises(ValueError, match="Try setting enable_gqa=True"):
        flex_attention(q, k[:, :1], v[:, :1])
    with pytest.raises(TypeError, match="argument 'key' must be Tensor, not NoneType"):
        flex_attention(q, None, v)
