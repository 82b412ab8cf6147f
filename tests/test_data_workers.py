"""DataLoader with worker processes: the same batches as without workers, per-worker seeds,
errors carried back with the worker's traceback, clean shutdown, and no hangs.

Every loader here has a ``timeout`` so that a bug shows as an error, not a hung test run.
"""

import collections
import gc
import multiprocessing
import random
import time

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info
from ember.utils.data.dataset import _randint

TIMEOUT = 30
Pair = collections.namedtuple("Pair", ["x", "label"])


class Samples(Dataset):
    """Dicts, namedtuples and numpy arrays, so that collation runs in the workers on every kind."""

    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": ember.full((2,), float(i)), "pair": Pair(np.array([i, -i]), i), "name": f"s{i}"}


class UnevenSpeed(Dataset):
    """Even samples are slow: with two workers, later batches finish first."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(0.05 if i % 2 == 0 else 0)
        return i


class Seeds(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "id": info.id,
            "seed": info.seed,
            "num_workers": info.num_workers,
            "ember": ember.randint(0, 2**30, (1,)).item(),
            "random": random.random(),
            "numpy": float(np.random.rand()),
            "init": INIT_MARK.get("worker"),
        }


INIT_MARK = {}


def mark_worker(worker_id):
    INIT_MARK["worker"] = worker_id * 10


class Fails(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return check_sample(i)


def check_sample(i):
    if i == 5:
        raise ValueError(f"sample {i} is broken")
    return i


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class FailsOddly(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        raise NeedsTwoArgs(1, 2)


class Range(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class Unsharded(IterableDataset):
    def __iter__(self):
        return iter(range(3))


def batches(loader):
    return [_plain(b) for b in loader]


def _plain(x):
    if isinstance(x, ember.Tensor):
        return x.tolist()
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x) if not hasattr(x, "_fields") else type(x)(*(_plain(v) for v in x))
    return x


@pytest.fixture(autouse=True)
def _older_workers():
    """Worker processes alive before the test (a failed test may leave its loader's behind)."""
    gc.collect()
    OLDER.clear()
    OLDER.update(p.pid for p in multiprocessing.active_children())


OLDER = set()


def worker_processes():
    """The worker processes this test started that are still alive."""
    return [p for p in multiprocessing.active_children() if p.is_alive() and p.pid not in OLDER]


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 4},
        {"batch_size": 4, "drop_last": True},
        {"batch_size": None},
        {"batch_size": 3, "prefetch_factor": 1},
        {"batch_size": 3, "prefetch_factor": 0},
        {"batch_size": 2, "prefetch_factor": 5},
        {"batch_sampler": [[0, 5], [22, 1, 2], [7]]},
        {"batch_size": 2, "sampler": [3, 3, 9, 0]},
        {"batch_size": 5, "collate_fn": lambda samples: [s["name"] for s in samples]},
    ],
)
def test_workers_give_the_batches_of_the_main_process(options):
    main_process = {k: v for k, v in options.items() if k != "prefetch_factor"}
    expected = batches(DataLoader(Samples(), **main_process))
    got = batches(DataLoader(Samples(), num_workers=3, timeout=TIMEOUT, **options))
    assert got == expected
    first = got[0]
    if options.get("batch_size") == 4:
        assert isinstance(first["pair"], Pair) and first["pair"].x == [[0, 0], [1, -1], [2, -2], [3, -3]]


def test_order_is_kept_whatever_the_workers_speed():
    loader = DataLoader(UnevenSpeed(), batch_size=1, num_workers=2, timeout=TIMEOUT)
    assert [b.item() for b in loader] == list(range(8))
    unordered = DataLoader(UnevenSpeed(), batch_size=1, num_workers=2, timeout=TIMEOUT, in_order=False)
    assert sorted(b.item() for b in unordered) == list(range(8))


def test_shuffle_is_reproducible_and_independent_of_num_workers():
    def order(num_workers, seed):
        g = ember.Generator().manual_seed(seed)
        kwargs = {"num_workers": num_workers, "timeout": TIMEOUT} if num_workers else {}
        return [b["x"][:, 0].tolist() for b in DataLoader(Samples(), batch_size=5, shuffle=True, generator=g, **kwargs)]

    assert order(2, 7) == order(0, 7) == order(3, 7)
    assert order(2, 7) != order(2, 8)


def test_worker_seeds_are_base_seed_plus_id_and_seed_the_rngs():
    g = ember.Generator().manual_seed(11)
    loader = DataLoader(
        Seeds(), batch_size=None, num_workers=2, generator=g, worker_init_fn=mark_worker, timeout=TIMEOUT
    )
    samples = list(loader)
    base_seed = _randint(2**62, 1, ember.Generator().manual_seed(11))[0]  # what the loader drew
    by_worker = {s["id"]: s for s in samples}  # each worker's first sample
    for s in samples[:2]:
        assert s["seed"] == base_seed + s["id"] and s["num_workers"] == 2 and s["init"] == s["id"] * 10
        ember.manual_seed(s["seed"])
        assert s["ember"] == ember.randint(0, 2**30, (1,)).item()
        assert s["random"] == random.Random(s["seed"]).random()
    assert by_worker[0]["numpy"] != by_worker[1]["numpy"]
    again = list(DataLoader(Seeds(), batch_size=None, num_workers=2, generator=g.manual_seed(11), timeout=TIMEOUT))
    assert again == [{**s, "init": None} for s in samples]  # no worker_init_fn this time


def test_get_worker_info_is_none_in_the_main_process():
    assert get_worker_info() is None
    info = list(DataLoader(Seeds(), batch_size=None, num_workers=1, timeout=TIMEOUT))[0]
    assert info["id"] == 0 and get_worker_info() is None


def test_iterable_dataset_sharded_with_get_worker_info():
    got = [b.tolist() for b in DataLoader(Range(11), batch_size=2, num_workers=3, timeout=TIMEOUT)]
    assert sorted(sum(got, [])) == list(range(11))
    # without sharding, every worker yields the whole dataset (as PyTorch)
    dup = list(DataLoader(Unsharded(), batch_size=None, num_workers=2, timeout=TIMEOUT))
    assert sorted(dup) == [0, 0, 1, 1, 2, 2]


def test_worker_errors_carry_the_workers_traceback():
    loader = DataLoader(Fails(), batch_size=2, num_workers=2, timeout=TIMEOUT)
    with pytest.raises(ValueError) as info:
        list(loader)
    text = str(info.value)
    assert "Caught ValueError in DataLoader worker process 0" in text
    assert "Original Traceback (most recent call last)" in text
    assert "in check_sample" in text and "sample 5 is broken" in text
    assert worker_processes() == []  # the failing loader shut its workers down


def test_worker_errors_of_unusual_exception_types_and_init_fn():
    with pytest.raises(RuntimeError, match="Caught NeedsTwoArgs in DataLoader worker process"):
        list(DataLoader(FailsOddly(), num_workers=1, timeout=TIMEOUT))

    def bad_init(worker_id):
        raise OSError(f"no init for worker {worker_id}")

    with pytest.raises(OSError, match="(?s)in DataLoader worker process.*no init for worker"):
        list(DataLoader(Samples(), num_workers=2, worker_init_fn=bad_init, timeout=TIMEOUT))
    assert worker_processes() == []


def test_workers_end_with_the_epoch_or_when_the_iterator_is_dropped():
    list(DataLoader(Samples(), batch_size=4, num_workers=2, timeout=TIMEOUT))
    assert worker_processes() == []
    it = iter(DataLoader(Samples(), batch_size=4, num_workers=2, timeout=TIMEOUT))
    next(it)
    assert len(worker_processes()) == 2
    del it
    gc.collect()
    assert worker_processes() == []


def test_persistent_workers_live_across_epochs():
    loader = DataLoader(Samples(), batch_size=4, num_workers=2, persistent_workers=True, timeout=TIMEOUT)
    first = batches(loader)
    pids = sorted(p.pid for p in worker_processes())
    assert batches(loader) == first and sorted(p.pid for p in worker_processes()) == pids
    del loader
    gc.collect()
    assert worker_processes() == []


def test_timeout_raises_instead_of_hanging():
    class Stuck(Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            time.sleep(60)

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        list(DataLoader(Stuck(), num_workers=1, timeout=0.5))
    assert time.monotonic() - start < 20
    assert worker_processes() == []


def test_spawn_context():
    for context in ("spawn", multiprocessing.get_context("spawn")):
        loader = DataLoader(Range(6), batch_size=3, num_workers=2, multiprocessing_context=context, timeout=TIMEOUT)
        assert sorted(sum((b.tolist() for b in loader), [])) == list(range(6))


def test_argument_errors():
    with pytest.raises(ValueError, match="valid start method"):
        DataLoader(Samples(), num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(TypeError, match="valid context object"):
        DataLoader(Samples(), num_workers=1, multiprocessing_context=3)
    with pytest.raises(ValueError, match="multi-process loading"):
        DataLoader(Samples(), multiprocessing_context="spawn")
    with pytest.raises(ValueError, match="prefetch_factor option should be non-negative"):
        DataLoader(Samples(), num_workers=1, prefetch_factor=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(Samples(), prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(Samples(), persistent_workers=True)


@pytest.mark.skipif(ember.cuda.is_available(), reason="with a GPU the batches are pinned (test_cuda.py)")
def test_pin_memory_without_a_gpu_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="pin_memory"):
        loader = DataLoader(Samples(), batch_size=4, num_workers=2, pin_memory=True, timeout=TIMEOUT)
    assert batches(loader) == batches(DataLoader(Samples(), batch_size=4))


class Images(Dataset):
    """Samples large enough to cross in shared memory, in every dtype a batch may hold."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return {
            "image": ember.full((3, 16, 16), float(i)),
            "mask": ember.full((64, 64), i % 2 == 0),
            "pixels": ember.full((4096,), i, dtype=ember.uint8),
            "half": ember.full((2048,), i / 4, dtype=ember.bfloat16),
            "small": ember.tensor([i]),
        }


def shm_files():
    """The loader files in /dev/shm written by processes no longer alive: left behind. A live writer's
    files (another test's workers, running beside this one under pytest-xdist) are still in use."""
    import os

    def alive(name):
        try:
            os.kill(int(name[len("ember_dl_") :].split("_")[0]), 0)
        except (ValueError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True

    return sorted(f for f in os.listdir("/dev/shm") if f.startswith("ember_dl_") and not alive(f))


@pytest.mark.skipif(not ember.utils.data._shared.available(), reason="no writable /dev/shm")
def test_batches_cross_in_shared_memory_and_leave_no_files():
    before = shm_files()
    loader = DataLoader(Images(), batch_size=4, num_workers=2, timeout=TIMEOUT)
    for got, want in zip(loader, DataLoader(Images(), batch_size=4)):
        for key in want:
            assert got[key].dtype == want[key].dtype and got[key].tolist() == want[key].tolist()
    assert shm_files() == before
    # dropped mid-epoch: the files the workers wrote and nobody took are removed at shutdown
    it = iter(DataLoader(Images(), batch_size=1, num_workers=2, prefetch_factor=4, timeout=TIMEOUT))
    next(it)
    del it
    gc.collect()
    assert shm_files() == before


def test_a_large_tensor_pickles_as_a_file_name_in_a_worker():
    import pickle
    import subprocess
    import sys

    # in a fresh process that registered the worker's reducer, a 4 MB tensor pickles to a few hundred bytes
    code = (
        "import pickle, ember\n"
        "from multiprocessing.reduction import ForkingPickler\n"
        "from ember.utils.data import _shared\n"
        "_shared.send_tensors_through_shared_memory()\n"
        "t = ember.arange(1 << 20, dtype=ember.float32).view(1024, 1024).t()\n"
        "import sys; sys.stdout.buffer.write(bytes(ForkingPickler.dumps(t)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    if not ember.utils.data._shared.available():
        return
    assert len(done.stdout) < 1000
    t = pickle.loads(done.stdout)  # maps and unlinks the file
    assert t.shape == (1024, 1024) and t[3, 5].item() == 5 * 1024 + 3
    assert t.contiguous().sum().item() == sum(range(1 << 20))
