"""The CPU caching allocator (Note [Caching allocator]): freed buffers are reused
by size, never handed out twice, and memory ember does not own is never cached."""

import gc

import numpy as np
import pytest

import ember


def stats():
    return ember._C._allocator_stats()


# A sanitizer build (tools/sanitize.sh) allocates exactly and never reuses: nothing to cache.
pytestmark = pytest.mark.skipif(stats()["exact"], reason="sanitizer build: the cache is off by design")


def test_freed_buffer_is_reused_for_the_same_size():
    ember._C._empty_cache()
    a = ember.ones(1000)
    del a
    assert stats()["cached_bytes"] >= 4000
    hits = stats()["hits"]
    b = ember.zeros(1000)  # same size: from the cache, and zero-filled all the same
    assert stats()["hits"] == hits + 1
    np.testing.assert_array_equal(b.numpy(), np.zeros(1000, np.float32))


def test_live_buffers_are_never_shared():
    ember._C._empty_cache()
    ts = [ember.full((257,), float(i)) for i in range(20)]
    del ts[::2]
    more = [ember.full((257,), -1.0) for _ in range(10)]
    ptrs = [t.data_ptr() for t in ts + more]
    assert len(set(ptrs)) == len(ptrs)
    for i, t in zip(range(1, 20, 2), ts):
        assert (t == float(i)).all()


def test_empty_cache_and_switch():
    ember.ones(4096)
    ember._C._empty_cache()
    assert stats()["cached_bytes"] == 0
    ember._C._set_caching_allocator(False)
    try:
        hits = stats()["hits"]
        for _ in range(3):
            ember.ones(4096)
        assert stats()["hits"] == hits and stats()["cached_bytes"] == 0
    finally:
        ember._C._set_caching_allocator(True)


def test_numpy_memory_is_released_to_numpy_not_cached():
    ember._C._empty_cache()
    arr = np.arange(10000, dtype=np.float32)
    t = ember.from_numpy(arr)
    del t
    gc.collect()
    assert stats()["cached_bytes"] == 0
    assert arr[9999] == 9999.0  # the array still owns its memory
