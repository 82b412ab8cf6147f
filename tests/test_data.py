"""ember.utils.data: datasets, samplers, collation and the DataLoader."""

import collections
import random

import numpy as np
import pytest

import ember
from ember.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)


def gen(seed):
    g = ember.Generator()
    g.manual_seed(seed)
    return g


def make_dataset(n=10):
    x = ember.arange(n * 3, dtype=ember.float32).reshape(n, 3)
    y = ember.arange(n)
    return TensorDataset(x, y)


class Squares(Dataset):
    """A map-style dataset whose samples are (tensor, int, dict)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return ember.tensor([float(i), float(i * i)]), i, {"name": f"s{i}", "half": i / 2}

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# ----------------------------------------------------------------------------- datasets


def test_tensor_dataset():
    ds = make_dataset(5)
    assert len(ds) == 5
    x, y = ds[2]
    assert x.tolist() == [6.0, 7.0, 8.0] and y.item() == 2
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(ember.zeros(3), ember.zeros(4))


def test_subset_and_concat():
    ds = make_dataset(6)
    sub = Subset(ds, [4, 0, 2])
    assert len(sub) == 3 and sub[0][1].item() == 4 and sub[2][1].item() == 2
    cat = ConcatDataset([sub, make_dataset(2)])
    assert len(cat) == 5 and cat.cumulative_sizes == [3, 5]
    assert [cat[i][1].item() for i in range(5)] == [4, 0, 2, 0, 1]
    assert cat[-1][1].item() == 1 and cat[-5][1].item() == 4
    with pytest.raises(ValueError, match="absolute value of index"):
        cat[-6]
    assert len(sub + sub) == 6  # Dataset.__add__
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([sub, Stream(2)])


def test_chain_dataset():
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    assert [b.tolist() for b in DataLoader(chained, batch_size=2)] == [[0, 1], [0, 1], [2]]


def test_random_split_counts_and_fractions():
    ds = make_dataset(10)
    a, b = random_split(ds, [7, 3], generator=gen(0))
    got = sorted(a.indices + b.indices)
    assert (len(a), len(b)) == (7, 3) and got == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=gen(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(range(11), [0.5, 0.5], generator=gen(0))  # remainder goes to the first subset
    assert [len(p) for p in parts] == [6, 5]
    same_seed = [random_split(ds, [7, 3], generator=gen(5))[0].indices for _ in range(2)]
    assert same_seed[0] == same_seed[1]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(ds, [1.5, -0.5])


@pytest.mark.parametrize("generator", [None, np.random.default_rng(0), np.random.RandomState(0), random.Random(0)])
def test_random_split_generators(generator):
    a, b = random_split(range(8), [5, 3], generator=generator)
    assert sorted(a.indices + b.indices) == list(range(8))


# ----------------------------------------------------------------------------- samplers


def test_sequential_and_batch_sampler():
    s = SequentialSampler(range(7))
    assert list(s) == list(range(7)) and len(s) == 7
    b = BatchSampler(s, 3, drop_last=False)
    assert list(b) == [[0, 1, 2], [3, 4, 5], [6]] and len(b) == 3
    b = BatchSampler(s, 3, drop_last=True)
    assert list(b) == [[0, 1, 2], [3, 4, 5]] and len(b) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(s, 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(s, 2, 1)


def test_random_sampler():
    data = range(20)
    order = list(RandomSampler(data, generator=gen(3)))
    assert sorted(order) == list(range(20)) and order != list(range(20))
    assert order == list(RandomSampler(data, generator=gen(3)))
    longer = list(RandomSampler(data, num_samples=45, generator=gen(1)))
    assert len(longer) == 45 and sorted(longer[:20]) == list(range(20)) and sorted(longer[20:40]) == list(range(20))
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=gen(2)))
    assert len(drawn) == 50 and set(drawn) == {0, 1, 2}
    assert len(RandomSampler(data, replacement=True, num_samples=7)) == 7
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(data, replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler([])


def test_random_sampler_with_replacement_is_lazy():
    it = iter(RandomSampler(range(5), replacement=True, num_samples=10**12, generator=gen(0)))
    first = [next(it) for _ in range(100)]  # a trillion draws are never made up front
    assert set(first) <= set(range(5))


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0, 0.0]
    drawn = list(WeightedRandomSampler(weights, 4000, generator=gen(0)))
    counts = collections.Counter(drawn)
    assert set(counts) == {1, 2} and 0.2 < counts[1] / 4000 < 0.3  # P(1) = 1/4
    assert drawn == list(WeightedRandomSampler(weights, 4000, generator=gen(0)))
    assert len(WeightedRandomSampler(weights, 7)) == 7
    unique = list(WeightedRandomSampler(ember.tensor([1.0, 5.0, 2.0, 0.0, 1.0]), 4, replacement=False))
    assert sorted(unique) == [0, 1, 2, 4]
    for generator in (np.random.default_rng(0), np.random.RandomState(0), random.Random(0)):
        assert set(WeightedRandomSampler(weights, 20, generator=generator)) <= {1, 2}
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler(weights, 0)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler(weights, 2, replacement=1)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        WeightedRandomSampler(weights, 3, replacement=False)
    with pytest.raises(RuntimeError, match="invalid multinomial distribution"):
        WeightedRandomSampler([1.0, -1.0], 2)


def test_weighted_sampler_in_a_loader():
    ds = TensorDataset(ember.arange(6.0))
    loader = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler([0, 0, 0, 0, 0, 1], 8))
    assert [b[0].tolist() for b in loader] == [[5.0] * 4, [5.0] * 4]


def test_subset_random_sampler_and_base():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=gen(0))
    assert sorted(s) == [10, 20, 30, 40] and len(s) == 4
    with pytest.raises(NotImplementedError):
        iter(Sampler())


# ----------------------------------------------------------------------------- collate


def test_default_collate():
    assert default_collate([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])]).tolist() == [[1, 2], [3, 4]]
    floats = default_collate([1.5, 2.5])
    assert floats.dtype == ember.float64 and floats.tolist() == [1.5, 2.5]
    ints = default_collate([1, 2])
    assert ints.dtype == ember.int64
    assert default_collate([True, False]).dtype == ember.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    arrays = default_collate([np.zeros(2, np.float32), np.ones(2, np.float32)])
    assert arrays.dtype == ember.float32 and arrays.shape == (2, 2)
    assert default_collate([np.float64(1), np.float64(2)]).dtype == ember.float64
    out = default_collate([(ember.tensor(1), 2), (ember.tensor(3), 4)])
    assert isinstance(out, list) and out[0].tolist() == [1, 3] and out[1].tolist() == [2, 4]
    d = default_collate([{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}])
    assert d["x"].tolist() == [1, 2] and [t.tolist() for t in d["y"]] == [[1.0, 3.0], [2.0, 4.0]]
    od = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert isinstance(od, collections.OrderedDict)
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float32(1.5), "s"), "c": 1})
    assert isinstance(out["a"], ember.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and isinstance(out["b"][0], ember.Tensor) and out["b"][1] == "s"
    assert out["c"] == 1
    t = ember.ones(2)
    assert default_convert(t) is t


def test_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    batch = [{"a": (1, 2.5, True), "b": [np.float32(1), "x"]}, {"a": (3, 4.5, False), "b": [np.float32(2), "y"]}]

    def describe(x):
        if isinstance(x, (ember.Tensor, torch.Tensor)):
            return ("tensor", str(x.dtype).split(".")[-1], x.tolist())
        if isinstance(x, dict):
            return {k: describe(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, [describe(v) for v in x])
        return x

    assert describe(default_collate(batch)) == describe(torch_collate(batch))


# ----------------------------------------------------------------------------- DataLoader


def test_loader_batches_in_order():
    loader = DataLoader(make_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    assert [y.tolist() for _, y in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(batches[0], list)  # as PyTorch: a tuple sample collates to a list
    assert batches[1][0].tolist()[0] == [12.0, 13.0, 14.0]


def test_loader_drop_last_and_len():
    loader = DataLoader(make_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [y.tolist() for _, y in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(make_dataset(8), batch_size=4)) == 2


def test_loader_shuffle_is_reproducible_and_complete():
    def epoch(loader):
        return [i for _, y in loader for i in y.tolist()]

    a = DataLoader(make_dataset(23), batch_size=5, shuffle=True, generator=gen(7))
    b = DataLoader(make_dataset(23), batch_size=5, shuffle=True, generator=gen(7))
    first = epoch(a)
    assert sorted(first) == list(range(23)) and first != list(range(23))
    assert first == epoch(b)
    assert epoch(a) != first  # a new order every epoch
    ember.manual_seed(3)
    c = epoch(DataLoader(make_dataset(23), batch_size=5, shuffle=True))
    ember.manual_seed(3)
    assert c == epoch(DataLoader(make_dataset(23), batch_size=5, shuffle=True))


def test_loader_fast_path_equals_stacking():
    ds = make_dataset(9)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True, generator=gen(1)))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, generator=gen(1), collate_fn=default_collate))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.tolist() == sx.tolist() and fy.tolist() == sy.tolist()
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype
    train, _ = random_split(ds, [6, 3], generator=gen(2))  # Subsets take the fast path too
    ys = [y.tolist() for _, y in DataLoader(train, batch_size=4)]
    assert ys == [train.indices[:4], train.indices[4:]]


def test_loader_fast_path_uses_one_index_per_tensor(monkeypatch):
    ds = make_dataset(8)
    calls = collections.Counter()
    for name in ("index_select", "__getitem__"):
        real = getattr(ember.Tensor, name)
        monkeypatch.setattr(
            ember.Tensor, name, lambda *a, _real=real, _name=name, **k: calls.update([_name]) or _real(*a, **k)
        )
    x, y = next(iter(DataLoader(ds, batch_size=4, shuffle=True, generator=gen(0))))
    assert calls == {"index_select": 2} and sorted(y.tolist()) != y.tolist()
    assert x[:, 0].tolist() == [3.0 * i for i in y.tolist()]
    calls.clear()
    next(iter(DataLoader(ds, batch_size=4, collate_fn=default_collate)))  # a custom collate_fn: per sample
    assert calls["__getitem__"] == 8 and calls["index_select"] == 0


def test_loader_generic_dataset_collate_fn_and_sampler():
    loader = DataLoader(Squares(5), batch_size=2)
    t, i, d = next(iter(loader))
    assert t.tolist() == [[0.0, 0.0], [1.0, 1.0]] and i.tolist() == [0, 1]
    assert d["name"] == ["s0", "s1"] and d["half"].dtype == ember.float64
    custom = DataLoader(Squares(5), batch_size=2, collate_fn=lambda batch: [s[1] for s in batch])
    assert list(custom) == [[0, 1], [2, 3], [4]]
    picked = DataLoader(Squares(5), batch_size=2, sampler=[4, 3, 0], collate_fn=lambda b: [s[1] for s in b])
    assert list(picked) == [[4, 3], [0]]
    by_batch = DataLoader(Squares(5), batch_sampler=[[1, 2], [0]], collate_fn=lambda b: [s[1] for s in b])
    assert list(by_batch) == [[1, 2], [0]] and len(by_batch) == 2


def test_loader_without_batching():
    loader = DataLoader([np.float32(1), np.float32(2)], batch_size=None)
    out = list(loader)
    assert len(loader) == 2 and all(isinstance(t, ember.Tensor) for t in out)


def test_loader_iterable_dataset():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    loader = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert len(list(loader)) == 2 == len(loader)
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)


def test_loader_argument_errors():
    ds = make_dataset(4)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    if not ember.cuda.is_available():  # with a GPU the batches are pinned (test_cuda.py)
        with pytest.warns(UserWarning, match="no accelerator is found, then device pinned memory won't be used"):
            loader = DataLoader(ds, batch_size=2, num_workers=4, pin_memory=True)
        assert len(list(loader)) == 2
    loader = DataLoader(ds, batch_size=2)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3


def test_loader_batch_sampler_with_negative_and_tensor_indices():
    ds = make_dataset(5)
    loader = DataLoader(ds, batch_sampler=[[-1, 0], [ember.tensor(2)]])
    assert [y.tolist() for _, y in loader] == [[4, 0], [2]]


# ------------------------------------------------------------------ worker processes
class WorkerTagged(Dataset):
    """Sample i is (i, id of the worker process that made it)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return ember.tensor([i, info.id if info else -1])


class Sharded(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (info.id, info.num_workers) if info else (0, 1)
        return iter(range(start, self.n, step))


class FailsAt(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise KeyError("sample 3 is missing")
        return i


def test_workers_give_the_same_batches_in_order():
    ds = make_dataset(37)
    g = ember.Generator()
    expect = [y.tolist() for _, y in DataLoader(ds, batch_size=5, shuffle=True, generator=g.manual_seed(3))]
    got = [y.tolist() for _, y in DataLoader(ds, batch_size=5, shuffle=True, num_workers=3, generator=g.manual_seed(3))]
    assert got == expect
    batches = list(DataLoader(WorkerTagged(), batch_size=2, num_workers=3))
    assert [b[:, 0].tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    assert {int(b[0, 1]) for b in batches} == {0, 1, 2}  # round robin over the workers


def test_worker_info_seed_and_init_fn():
    seen = DataLoader(
        WorkerTagged(), batch_size=None, num_workers=2, worker_init_fn=lambda i: ember.manual_seed(100 + i)
    )
    assert sorted(int(t[1]) for t in seen) == [0] * 6 + [1] * 6
    assert get_worker_info() is None  # in the main process


def test_iterable_dataset_sharded_by_worker_info():
    items = [t.tolist() for t in DataLoader(Sharded(10), batch_size=3, num_workers=2)]
    assert sorted(sum(items, [])) == list(range(10))
    assert sum(len(b) for b in items) == 10


def test_worker_exception_names_the_worker():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(FailsAt(), batch_size=1, num_workers=2))


def test_persistent_workers_and_out_of_order():
    loader = DataLoader(make_dataset(20), batch_size=4, num_workers=2, persistent_workers=True)
    first = [y.tolist() for _, y in loader]
    assert [y.tolist() for _, y in loader] == first
    pids = [p.pid for p in loader._workers.processes]
    list(loader)
    assert [p.pid for p in loader._workers.processes] == pids  # the same processes every epoch
    loader._workers.shutdown()
    unordered = DataLoader(make_dataset(20), batch_size=4, num_workers=2, in_order=False)
    assert sorted(sum((y.tolist() for _, y in unordered), [])) == list(range(20))


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        import time

        time.sleep(3)
        return i


def test_worker_timeout():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 1 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=1))


class Dies(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        import os

        os._exit(3)


def test_a_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=1, num_workers=1))


def test_stack_dataset_tuples_and_dicts():
    from ember.utils.data import DataLoader, StackDataset, TensorDataset

    images, labels = TensorDataset(ember.arange(10.0).reshape(5, 2)), TensorDataset(ember.arange(5))
    pairs = StackDataset(images, labels)
    (image,), (label,) = pairs[2]  # each part's sample: a TensorDataset gives a 1-tuple
    assert len(pairs) == 5 and image.tolist() == [4.0, 5.0] and label.item() == 2
    named = StackDataset(image=images, label=labels)
    assert named[4]["label"][0].item() == 4
    batch = next(iter(DataLoader(named, batch_size=3)))
    assert batch["image"][0].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert batch["label"][0].tolist() == [0, 1, 2]
    fetched = pairs.__getitems__([0, 3])
    assert [f[1][0].item() for f in fetched] == [0, 3] and fetched[1][0][0].tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(images, TensorDataset(ember.arange(4)))
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(images, label=labels)


def test_collate_takes_a_table_of_functions_per_type():
    # PyTorch's extensible collate: code copies default_collate_fn_map, adds its own types and calls collate
    from ember.utils.data._utils.collate import collate, default_collate_fn_map, np_str_obj_array_pattern

    class Box:
        def __init__(self, v):
            self.v = v

    table = {**default_collate_fn_map, Box: lambda batch, *, collate_fn_map=None: sum(b.v for b in batch)}
    batch = collate([{"box": Box(1), "x": ember.ones(2)}, {"box": Box(2), "x": ember.zeros(2)}], collate_fn_map=table)
    assert batch["box"] == 3 and batch["x"].tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert collate([np.float64(1.5), np.float64(2.5)], collate_fn_map=table).dtype == ember.float64
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        collate([Box(1)], collate_fn_map=default_collate_fn_map)
    assert np_str_obj_array_pattern.search(np.array(["a"]).dtype.str)
