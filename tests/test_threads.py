"""ember.set_num_threads / get_num_threads: one budget for ember's kernels and its BLAS calls."""

import os
import subprocess
import threading

import numpy as np
import pytest

import ember
from helpers import python_command


@pytest.fixture
def restore_threads():
    before = ember.get_num_threads()
    yield
    ember.set_num_threads(before)


def test_set_and_get_num_threads(restore_threads):
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(3)
    assert ember.get_num_threads() == 3


def test_set_num_threads_rejects_non_positive(restore_threads):
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        ember.set_num_threads(0)


def test_setting_reaches_threads_started_later(restore_threads):
    ember.set_num_threads(1)
    seen = []
    t = threading.Thread(target=lambda: seen.append(ember.get_num_threads()))
    t.start()
    t.join()
    assert seen == [1]


def test_omp_num_threads_is_honoured():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [*python_command(), "-c", "import ember; print(ember.get_num_threads())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_results_do_not_depend_on_thread_count(threads, restore_threads):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((130, 257)), rng.standard_normal((257, 90))
    x = rng.standard_normal(100_003)
    ember.set_num_threads(threads)
    np.testing.assert_allclose((ember.tensor(a) @ ember.tensor(b)).numpy(), a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ember.tensor(x).exp().numpy(), np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(ember.tensor(x).sum().item(), x.sum(), rtol=1e-12)


def test_results_are_bitwise_the_same_for_any_thread_count(restore_threads):
    # Note [Deterministic products]: blocks and reduction chunks depend on sizes, not on threads.
    rng = np.random.default_rng(1)
    a, b = ember.tensor(rng.standard_normal((130, 257))), ember.tensor(rng.standard_normal((257, 300)))
    x = ember.tensor(rng.standard_normal(200_003))
    results = []
    for threads in (1, 2, 3):
        ember.set_num_threads(threads)
        results.append(((a @ b).numpy(), x.sum().item(), (a @ b).sum(0).numpy(), x.exp().numpy()))
    for other in results[1:]:
        for got, expected in zip(other, results[0]):
            np.testing.assert_array_equal(got, expected)
