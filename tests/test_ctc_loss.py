"""CTC loss: values and gradients against PyTorch, a brute-force sum over alignments, gradcheck, training."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

import ember
import ember.nn.functional as F

REDUCTIONS = ["none", "mean", "sum"]


def _logits(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _both(logits: np.ndarray, dtype: str, targets, input_lengths, target_lengths, **kwargs):
    """ember's and torch's loss and logits gradient (through log_softmax) for the same inputs."""
    torch = pytest.importorskip("torch")
    ours_x = ember.tensor(logits, dtype=getattr(ember, dtype), requires_grad=True)
    ours = F.ctc_loss(ours_x.log_softmax(-1), ember.tensor(targets), input_lengths, target_lengths, **kwargs)
    ref_x = torch.tensor(logits, dtype=getattr(torch, dtype), requires_grad=True)
    ref = torch.nn.functional.ctc_loss(
        ref_x.log_softmax(-1), torch.tensor(targets), input_lengths, target_lengths, **kwargs
    )
    ours.sum().backward()
    ref.sum().backward()
    return ours, ref, ours_x.grad, ref_x.grad


def _assert_close(ours, ref, tol: float) -> None:
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-6), ("float32", 2e-5)])
def test_padded_targets_match_torch(reduction: str, dtype: str, tol: float) -> None:
    targets = [[1, 2, 2], [3, 1, 0], [2, 0, 0]]
    ours, ref, g, rg = _both(_logits((8, 3, 4)), dtype, targets, [8, 7, 5], [3, 2, 1], reduction=reduction)
    assert ours.dtype == getattr(ember, dtype) and tuple(ours.shape) == tuple(ref.shape)
    _assert_close(ours, ref, tol)
    _assert_close(g, rg, tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_concatenated_targets_and_tensor_lengths_match_torch(reduction: str) -> None:
    torch = pytest.importorskip("torch")
    logits, targets = _logits((7, 2, 5), seed=1), [1, 4, 4, 2, 3]
    ours_x = ember.tensor(logits, requires_grad=True)
    ours = F.ctc_loss(
        ours_x.log_softmax(-1), ember.tensor(targets), ember.tensor([7, 6]), ember.tensor([3, 2]), reduction=reduction
    )
    ref_x = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.ctc_loss(
        ref_x.log_softmax(-1), torch.tensor(targets), torch.tensor([7, 6]), torch.tensor([3, 2]), reduction=reduction
    )
    ours.sum().backward()
    ref.sum().backward()
    _assert_close(ours, ref, 1e-6)
    _assert_close(ours_x.grad, ref_x.grad, 1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_matches_torch(reduction: str) -> None:
    ours, ref, g, rg = _both(_logits((6, 4), seed=2), "float64", [1, 3], [6], [2], reduction=reduction)
    assert tuple(ours.shape) == tuple(ref.shape) == ()
    _assert_close(ours, ref, 1e-6)
    _assert_close(g, rg, 1e-6)


def test_blank_not_zero_and_short_inputs_match_torch() -> None:
    targets = [[0, 1, 1], [2, 0, 1]]
    ours, ref, g, rg = _both(_logits((9, 2, 4), seed=3), "float64", targets, [5, 9], [3, 3], blank=3, reduction="none")
    _assert_close(ours, ref, 1e-6)
    _assert_close(g, rg, 1e-6)
    # frames past a sample's input length get no gradient
    assert np.all(g.numpy()[5:, 0] == 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_infinity_with_impossible_alignment(reduction: str) -> None:
    # sample 0 needs at least 4 frames ("1 1" needs a blank between) but has 3
    targets = [[1, 1, 2], [2, 3, 0]]
    kwargs = dict(reduction=reduction, zero_infinity=True)
    ours, ref, g, rg = _both(_logits((6, 2, 4), seed=4), "float64", targets, [3, 6], [3, 2], **kwargs)
    _assert_close(ours, ref, 1e-6)
    _assert_close(g, rg, 1e-6)
    assert np.all(g.numpy()[:, 0] == 0) and np.abs(g.numpy()[:, 1]).sum() > 0


def test_impossible_alignment_is_inf_without_zero_infinity() -> None:
    lp = ember.tensor(_logits((3, 1, 4), seed=5)).log_softmax(-1)
    loss = F.ctc_loss(lp, ember.tensor([[1, 1, 2]]), [3], [3], reduction="none")
    assert np.isinf(loss.numpy()[0]) and loss.numpy()[0] > 0


def test_gradient_is_torchs_minus_the_probabilities() -> None:
    """On log_probs directly, PyTorch's kernel returns exp(lp) - posterior (assuming normalised log_probs);
    ember returns the true derivative, -posterior, within each input length."""
    torch = pytest.importorskip("torch")
    lp = np.log(np.random.default_rng(6).dirichlet(np.ones(4), size=(5, 2)))
    ours_lp = ember.tensor(lp, requires_grad=True)
    ref_lp = torch.tensor(lp, requires_grad=True)
    F.ctc_loss(ours_lp, ember.tensor([[1, 2], [3, 0]]), [5, 4], [2, 1], reduction="sum").backward()
    torch.nn.functional.ctc_loss(ref_lp, torch.tensor([[1, 2], [3, 0]]), [5, 4], [2, 1], reduction="sum").backward()
    expected = ref_lp.grad.numpy() - np.exp(lp)
    expected[4:, 1] = 0.0
    np.testing.assert_allclose(ours_lp.grad.numpy(), expected, atol=1e-10)
    np.testing.assert_allclose(ours_lp.grad.numpy()[:, 0].sum(-1), -1.0)  # posteriors sum to 1 per frame


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_on_log_probs(reduction: str) -> None:
    rng = np.random.default_rng(7)
    lp = ember.tensor(rng.standard_normal((6, 2, 4)), requires_grad=True)  # unnormalised on purpose
    targets = ember.tensor([[1, 2, 1], [3, 3, 0]])

    def loss(x):
        return F.ctc_loss(x, targets, [6, 5], [3, 2], reduction=reduction)

    assert ember.autograd.gradcheck(loss, (lp,), eps=1e-6, atol=1e-6)


def test_gradcheck_through_log_softmax_unbatched() -> None:
    x = ember.tensor(_logits((6, 4), seed=8), requires_grad=True)
    targets = ember.tensor([2, 2, 1])
    assert ember.autograd.gradcheck(lambda v: F.ctc_loss(v.log_softmax(-1), targets, [6], [3]), (x,), eps=1e-6)


def _brute_force_nll(probs: np.ndarray, target: list[int], blank: int) -> float:
    """-log of the summed probability of every frame labelling that collapses to target."""
    total = 0.0
    steps, classes = probs.shape
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or path[i - 1] != c)]
        if collapsed == target:
            total += float(np.prod([probs[t, c] for t, c in enumerate(path)]))
    return -np.log(total)


@pytest.mark.parametrize("target,blank", [([1], 0), ([1, 2], 0), ([1, 1], 0), ([], 0), ([0, 2], 1)])
def test_brute_force_alignments(target: list[int], blank: int) -> None:
    probs = np.random.default_rng(9).dirichlet(np.ones(3), size=3)
    lp = ember.tensor(np.log(probs)[:, None, :])
    loss = F.ctc_loss(lp, ember.tensor([target], dtype=ember.int64).reshape(1, -1), [3], [len(target)], blank=blank)
    nll = _brute_force_nll(probs, target, blank)
    # 'mean' divides by the target length, at least 1
    np.testing.assert_allclose(loss.item(), nll / max(len(target), 1), rtol=1e-12)


def test_module_matches_functional() -> None:
    lp = ember.tensor(_logits((7, 2, 5), seed=10)).log_softmax(-1)
    targets, ins, outs = ember.tensor([[1, 2], [4, 0]]), [7, 6], [2, 1]
    for reduction in REDUCTIONS:
        module = ember.nn.CTCLoss(blank=3, reduction=reduction, zero_infinity=True)
        expected = F.ctc_loss(lp, targets, ins, outs, blank=3, reduction=reduction, zero_infinity=True)
        np.testing.assert_array_equal(module(lp, targets, ins, outs).numpy(), expected.numpy())
    assert "CTCLoss" in ember.nn.__all__ and "ctc_loss" in F.__all__


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda lp: F.ctc_loss(lp, ember.tensor([[1, 2]]), [7], [2]), "at most 6, but got value 7"),
        (lambda lp: F.ctc_loss(lp, ember.tensor([[1, 2]]), [6], [3]), "size at least 3 at dimension 1"),
        (lambda lp: F.ctc_loss(lp, ember.tensor([1, 2, 3]), [6], [2]), "size 2 at dimension 0, but got size 3"),
        (lambda lp: F.ctc_loss(lp, ember.tensor([[1, 2]]), [6, 6], [2, 2]), "input_lengths must be of size"),
        (lambda lp: F.ctc_loss(lp, ember.tensor([[1, 2]]), [6], [2], blank=4), "blank must be in label range"),
        (lambda lp: F.ctc_loss(lp.reshape(6, 1, 1, 4), ember.tensor([[1, 2]]), [6], [2]), "2D or 3D"),
    ],
)
def test_errors_as_torch(call, message: str) -> None:
    lp = ember.tensor(_logits((6, 1, 4), seed=11)).log_softmax(-1)
    with pytest.raises(RuntimeError, match=message):
        call(lp)


def test_training_lowers_the_loss() -> None:
    ember.manual_seed(0)
    steps, features, classes = 12, 6, 4
    inputs = ember.tensor(_logits((steps, 1, features), seed=12), dtype=ember.float32)
    targets = ember.tensor([[1, 2, 3, 1]])
    model = ember.nn.Linear(features, classes)
    criterion = ember.nn.CTCLoss()
    optimizer = ember.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = criterion(model(inputs).log_softmax(-1), targets, [steps], [4])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_speed_report() -> None:
    """Not a benchmark: prints a (T=50, N=16, C=20, S=10) forward + backward time for the record."""
    x = ember.tensor(_logits((50, 16, 20), seed=13), dtype=ember.float32, requires_grad=True)
    targets = ember.tensor(np.random.default_rng(14).integers(1, 20, size=(16, 10)))
    start = time.perf_counter()
    for _ in range(5):
        F.ctc_loss(x.log_softmax(-1), targets, [50] * 16, [10] * 16).backward()
    print(f"ctc_loss T=50 N=16 C=20 S=10 forward+backward: {(time.perf_counter() - start) / 5 * 1e3:.2f} ms")
    assert np.isfinite(x.grad.numpy()).all()


def test_inf_loss_gradient_and_empty_input_match_torch() -> None:
    """Without zero_infinity an impossible sample's gradient is nan, as PyTorch's; no frames and an empty target
    cost 0 and get no gradient."""
    targets = [[1, 1, 1], [2, 0, 0]]
    ours, ref, g, rg = _both(_logits((4, 2, 4), seed=15), "float64", targets, [4, 0], [3, 0], reduction="none")
    np.testing.assert_array_equal(ours.detach().numpy(), ref.detach().numpy())
    assert np.isnan(g.numpy()[:, 0]).all() and np.isnan(rg.numpy()[:, 0]).all()
    assert np.all(g.numpy()[:, 1] == 0)
