"""ember.nn.utils.prune as torch.nn.utils.prune: the masks each method computes (against numpy), the
reparametrization (weight_orig, weight_mask, a forward pre-hook), combined masks, remove, global pruning,
and PyTorch's results where it is importable."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import prune

W = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)


def linear():
    m = nn.Linear(6, 4)
    with ember.no_grad():
        m.weight.copy_(ember.tensor(W))
        m.bias.zero_()
    return m


def test_l1_unstructured_masks_the_smallest_magnitudes_and_reparametrizes():
    m = linear()
    assert prune.l1_unstructured(m, "weight", amount=0.25) is m
    mask = m.weight_mask.numpy()
    assert mask.sum() == 18  # 6 of 24 pruned
    assert np.abs(W)[mask == 0].max() < np.abs(W)[mask == 1].min()
    assert sorted(n for n, _ in m.named_parameters()) == ["bias", "weight_orig"]
    assert [n for n, _ in m.named_buffers()] == ["weight_mask"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), W * mask)
    with ember.no_grad():
        m.weight_orig.mul_(2)
    m(ember.ones(1, 6))  # the pre-hook recomputes weight from weight_orig
    np.testing.assert_array_equal(m.weight.detach().numpy(), 2 * W * mask)
    assert prune.is_pruned(m)
    prune.remove(m, "weight")
    assert not prune.is_pruned(m) and sorted(n for n, _ in m.named_parameters()) == ["bias", "weight"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), 2 * W * mask)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")


def test_masks_combine_and_structured_pruning_removes_whole_rows():
    m = linear()
    prune.l1_unstructured(m, "weight", amount=4)
    first = m.weight_mask.numpy().copy()
    prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
    mask = m.weight_mask.numpy()
    norms = np.linalg.norm(W * first, axis=1)
    assert (mask[np.argmin(norms)] == 0).all() and (mask <= first).all()
    assert isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))], prune.PruningContainer)
    r = linear()
    prune.random_structured(r, "weight", amount=0.5, dim=1)
    assert (r.weight_mask.numpy().sum(0) % 4 == 0).all() and r.weight_mask.numpy().sum() == 12
    c = linear()
    chosen = ember.tensor((np.arange(24) % 3 == 0).reshape(4, 6).astype(np.float32))
    prune.custom_from_mask(c, "weight", chosen)
    np.testing.assert_array_equal(c.weight.detach().numpy(), W * chosen.numpy())
    prune.identity(c, "bias")
    assert c.bias_mask.numpy().all()
    with pytest.raises(ValueError, match="should either be a float in the range"):
        prune.l1_unstructured(linear(), "weight", amount=1.5)


def test_global_unstructured_prunes_across_parameters():
    a, b = linear(), nn.Linear(4, 2)
    with ember.no_grad():
        b.weight.copy_(ember.tensor(W[:2, :4] * 0.01))  # small: pruned first
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured, amount=8)
    assert b.weight_mask.numpy().sum() == 0 and a.weight_mask.numpy().sum() == 24


def test_as_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.utils.prune as torch_prune

    results = []
    for lib, p in ((torch, torch_prune), (ember, prune)):
        m = lib.nn.Linear(6, 4)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(W))
            m.bias.zero_()
        p.l1_unstructured(m, "weight", amount=0.3)
        p.ln_structured(m, "weight", amount=1, n=1, dim=1)
        results.append((m.weight_mask.numpy().copy(), m(lib.ones(2, 6)).detach().numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
