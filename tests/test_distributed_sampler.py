"""DistributedSampler (ember.utils.data.distributed) against PyTorch's: the same shares per rank, the same
padding and truncation, and the same errors."""

import itertools
import math
import sys
from collections import Counter

import pytest

import ember
from ember.utils.data import DataLoader, TensorDataset
from ember.utils.data.distributed import DistributedSampler

# (dataset length, num_replicas): divisible, not divisible, fewer samples than ranks, far fewer, empty, one rank
SIZES = [(12, 3), (10, 3), (10, 4), (7, 2), (3, 5), (2, 7), (1, 4), (5, 1), (0, 3), (13, 13), (100, 8)]


def _shares(n, num_replicas, **kwargs):
    return [
        list(DistributedSampler(range(n), num_replicas=num_replicas, rank=r, **kwargs)) for r in range(num_replicas)
    ]


def test_exported_from_utils_data():
    import ember.utils.data
    import ember.utils.data.distributed

    assert ember.utils.data.DistributedSampler is ember.utils.data.distributed.DistributedSampler
    assert "DistributedSampler" in ember.utils.data.__all__
    assert issubclass(DistributedSampler, ember.utils.data.Sampler)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n,num_replicas", SIZES)
def test_unshuffled_shares_equal_pytorch(n, num_replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(num_replicas):
        ours = DistributedSampler(range(n), num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == ours.num_samples == theirs.num_samples
        assert ours.total_size == theirs.total_size
    del torch


def test_unshuffled_shares_by_hand():
    # 10 samples on 4 ranks: padded to 12 with indices 0 and 1, rank r takes r, r + 4, r + 8
    assert _shares(10, 4, shuffle=False) == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    # with drop_last the tail 8, 9 is dropped instead
    assert _shares(10, 4, shuffle=False, drop_last=True) == [[0, 4], [1, 5], [2, 6], [3, 7]]
    # 2 samples on 5 ranks: the padding (3) exceeds the dataset, so the whole list is repeated
    assert _shares(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]
    assert _shares(2, 5, shuffle=False, drop_last=True) == [[], [], [], [], []]


@pytest.mark.parametrize("n,num_replicas", SIZES)
def test_num_samples_and_total_size(n, num_replicas):
    s = DistributedSampler(range(n), num_replicas=num_replicas, rank=num_replicas - 1)
    assert s.num_samples == math.ceil(n / num_replicas) == len(s) == len(list(s))
    assert s.total_size == s.num_samples * num_replicas
    d = DistributedSampler(range(n), num_replicas=num_replicas, rank=0, drop_last=True)
    assert d.num_samples == n // num_replicas == len(d) == len(list(d))
    assert d.total_size == d.num_samples * num_replicas


def test_attributes():
    data = list(range(9))
    s = DistributedSampler(data, num_replicas=4, rank=2, shuffle=False, seed=7, drop_last=True)
    assert s.dataset is data
    assert (s.num_replicas, s.rank, s.epoch, s.drop_last, s.shuffle, s.seed) == (4, 2, 0, True, False, 7)
    assert (s.num_samples, s.total_size) == (2, 8)
    s.set_epoch(5)
    assert s.epoch == 5


@pytest.mark.parametrize("n,num_replicas", [(12, 3), (10, 3), (10, 4), (3, 5), (2, 7), (100, 8)])
def test_shuffled_shares_partition_the_padded_dataset(n, num_replicas):
    shares = _shares(n, num_replicas, seed=3)
    counts = Counter(itertools.chain.from_iterable(shares))
    assert all(len(share) == math.ceil(n / num_replicas) for share in shares)
    # every index appears; the padding repeats some, never more often than PyTorch's padding does
    total = num_replicas * math.ceil(n / num_replicas)
    assert set(counts) == set(range(n))
    assert sum(counts.values()) == total
    assert max(counts.values()) - min(counts.values()) <= 1 or n < num_replicas
    assert max(counts.values()) == math.ceil(total / n)
    # the shares are the same permutation dealt round-robin: rebuild it and check it is one
    dealt = [shares[i % num_replicas][i // num_replicas] for i in range(total)]
    assert sorted(dealt[:n]) == list(range(n))
    if n >= total - n:  # padding repeats the head of the permutation
        assert dealt[n:] == dealt[: total - n]


def test_shuffled_drop_last_shares_are_disjoint():
    shares = _shares(10, 4, seed=11, drop_last=True)
    flat = list(itertools.chain.from_iterable(shares))
    assert all(len(share) == 2 for share in shares)
    assert len(set(flat)) == len(flat) == 8  # 2 of the 10 dropped, none repeated


def test_shuffle_is_reproducible_and_depends_on_seed_and_epoch():
    def order(seed=0, epoch=0, rank=0):
        s = DistributedSampler(range(50), num_replicas=2, rank=rank, seed=seed)
        s.set_epoch(epoch)
        return list(s)

    assert order() == order()  # same seed and epoch, a fresh sampler: the same order
    assert order(seed=5, epoch=2) == order(seed=5, epoch=2)
    assert order(epoch=1) != order(epoch=0)
    assert order(seed=1) != order(seed=0)
    assert order() != list(range(0, 50, 2))  # shuffled at all
    # the permutation is seeded by seed + epoch, as PyTorch: (seed 1, epoch 2) and (seed 3, epoch 0) agree
    assert order(seed=1, epoch=2) == order(seed=3, epoch=0)
    # iterating twice in one epoch repeats the order; set_epoch moves it on
    s = DistributedSampler(range(50), num_replicas=2, rank=1, seed=4)
    first = list(s)
    assert list(s) == first
    s.set_epoch(1)
    assert list(s) != first


def test_shuffled_order_is_an_ember_randperm():
    s = DistributedSampler(range(20), num_replicas=1, rank=0, seed=3)
    s.set_epoch(4)
    g = ember.Generator()
    g.manual_seed(7)
    assert list(s) == ember.randperm(20, generator=g).tolist()


def test_global_generator_is_untouched():
    ember.manual_seed(123)
    expected = ember.rand(3).tolist()
    ember.manual_seed(123)
    list(DistributedSampler(range(30), num_replicas=3, rank=0))
    assert ember.rand(3).tolist() == expected


@pytest.mark.parametrize("rank,num_replicas", [(3, 3), (5, 3), (-1, 3), (0, 0), (1, 1)])
def test_invalid_rank(rank, num_replicas):
    with pytest.raises(ValueError) as info:
        DistributedSampler(range(10), num_replicas=num_replicas, rank=rank)
    assert str(info.value) == f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"


def test_invalid_rank_message_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(10), num_replicas=2, rank=2)
    with pytest.raises(ValueError) as theirs:
        TorchSampler(range(10), num_replicas=2, rank=2)
    assert str(ours.value) == str(theirs.value)
    del torch


def test_without_process_group_num_replicas_and_rank_are_required():
    # as PyTorch: the default comes from the process group, and there is none
    for kwargs in [{}, {"num_replicas": 2}, {"rank": 0}]:
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            DistributedSampler(range(10), **kwargs)


def test_without_mpi4py_pytorchs_runtime_error(monkeypatch):
    monkeypatch.setattr(ember.distributed, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
        DistributedSampler(range(10))


def test_with_dataloader():
    x = ember.arange(10, dtype=ember.float32).reshape(10, 1)
    y = ember.arange(10)
    dataset = TensorDataset(x, y)
    seen = []
    for rank in range(3):
        sampler = DistributedSampler(dataset, num_replicas=3, rank=rank, shuffle=True, seed=1)
        loader = DataLoader(dataset, batch_size=2, sampler=sampler)
        assert len(loader) == 2  # 4 samples per rank, in batches of 2
        labels = []
        for xb, yb in loader:
            assert tuple(xb.shape) == (2, 1) and tuple(yb.shape) == (2,)
            assert xb[:, 0].tolist() == [float(v) for v in yb.tolist()]  # rows stay paired
            labels += yb.tolist()
        assert labels == list(sampler)
        seen += labels
    # 10 samples on 3 ranks: 12 seen, two of them twice (the padding)
    counts = Counter(seen)
    assert set(counts) == set(range(10)) and sorted(counts.values()) == [1] * 8 + [2] * 2


def test_with_dataloader_unshuffled_drop_last():
    dataset = TensorDataset(ember.arange(11))
    sampler = DistributedSampler(dataset, num_replicas=2, rank=1, shuffle=False, drop_last=True)
    batches = [b[0].tolist() for b in DataLoader(dataset, batch_size=2, sampler=sampler)]
    assert batches == [[1, 3], [5, 7], [9]]


def _fake_distributed(monkeypatch, initialized):
    import types

    fake = types.ModuleType("ember.distributed")
    fake.is_available = lambda: True
    fake.is_initialized = lambda: initialized
    fake.get_world_size = lambda: 4
    fake.get_rank = lambda: 2
    monkeypatch.setitem(sys.modules, "ember.distributed", fake)
    monkeypatch.setattr(ember, "distributed", fake, raising=False)


def test_num_replicas_and_rank_from_process_group(monkeypatch):
    _fake_distributed(monkeypatch, initialized=True)
    s = DistributedSampler(range(10), shuffle=False)
    assert (s.num_replicas, s.rank, s.num_samples) == (4, 2, 3)
    assert list(s) == [2, 6, 0]
    s = DistributedSampler(range(10), rank=0, shuffle=False)  # an explicit value wins
    assert (s.num_replicas, s.rank) == (4, 0)
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(10), num_replicas=2)
