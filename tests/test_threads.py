"""ember.set_num_threads / get_num_threads: one budget for ember's kernels and its BLAS calls."""

import json
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


# Note [Busy machine]: a default budget runs parallel regions on one thread while other processes
# keep every core busy; an explicit budget, or EMBER_ADAPTIVE_THREADS=0, is kept as given.
BUSY_MACHINE = """
import os, subprocess, sys, time
import ember
x = ember.ones(1 << 20)
def threads_seen(seconds):
    seen, end = set(), time.monotonic() + seconds
    while time.monotonic() < end:
        (x * 2).sum()
        seen.add(ember._C._parallel_threads())
    return sorted(seen)
budget = ember.get_num_threads()
burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in os.sched_getaffinity(0)]
try:
    time.sleep(0.3)
    busy = threads_seen(2.0)
    budget_while_busy = ember.get_num_threads()
    ember.set_num_threads(budget)
    explicit = threads_seen(0.3)
finally:
    for b in burners:
        b.kill()
import json
print(json.dumps([budget, busy, budget_while_busy, explicit]))
"""


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")
@pytest.mark.parametrize("adaptive", ["1", "0"])
def test_parallel_regions_shrink_while_the_machine_is_busy(adaptive):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["EMBER_ADAPTIVE_THREADS"] = adaptive
    out = subprocess.run([*python_command(), "-c", BUSY_MACHINE], env=env, capture_output=True, text=True, check=True)
    budget, busy, budget_while_busy, explicit = json.loads(out.stdout)
    assert budget >= 2 and budget_while_busy == budget  # get_num_threads reports the budget, busy or not
    assert explicit == [budget]
    if adaptive == "1":
        assert 1 in busy, f"parallel regions kept {busy} threads beside {budget} busy processes"
    else:
        assert busy == [budget]
