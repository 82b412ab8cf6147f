"""The caching allocator's private pools and introspection, as torch.cuda's: MemPool and use_mem_pool
(Note [CUDA graph pools]), memory_snapshot, caching_allocator_enable and the pinned host allocator's
host_memory_stats."""

import gc

import pytest

import ember
from ember import cuda

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not cuda.is_available(), reason="no CUDA GPU")]


def blocks_of(pool):
    return {(s["address"], s["blocks"][0]["state"]) for s in pool.snapshot()}


def test_a_mempool_keeps_its_blocks_for_the_tensors_made_inside_use_mem_pool():
    pool = cuda.MemPool()
    assert pool.use_count() == 1 and pool.allocator is None and len(pool.id) == 2
    with cuda.use_mem_pool(pool):
        assert pool.use_count() == 2
        inside = ember.randn(1000, device="cuda")
        big = ember.randn(300_000, device="cuda")
    assert pool.use_count() == 1
    assert blocks_of(pool) == {(inside.data_ptr(), "active_allocated"), (big.data_ptr(), "active_allocated")}
    address = inside.data_ptr()
    del inside
    assert blocks_of(pool) == {(address, "inactive"), (big.data_ptr(), "active_allocated")}
    outside = ember.randn(1000, device="cuda")  # the pool's free block is not the cache's
    assert outside.data_ptr() != address
    with cuda.use_mem_pool(pool):
        again = ember.randn(1000, device="cuda")
    assert again.data_ptr() == address
    # the pool gone, its blocks join the cache (as their tensors free them)
    big_address = big.data_ptr()
    del pool, again, big
    gc.collect()
    later = [ember.randn(1000, device="cuda") for _ in range(2)], ember.randn(300_000, device="cuda")
    assert address in {t.data_ptr() for t in later[0]} and later[1].data_ptr() == big_address


def test_use_mem_pool_nests_and_refuses_what_is_not_a_pool():
    outer, inner = cuda.MemPool(), cuda.MemPool()
    with cuda.use_mem_pool(outer):
        with cuda.use_mem_pool(inner):
            a = ember.ones(10, device="cuda")
        b = ember.ones(10, device="cuda")
    c = ember.ones(10, device="cuda")
    assert {s["address"] for s in inner.snapshot()} == {a.data_ptr()}
    assert {s["address"] for s in outer.snapshot()} == {b.data_ptr()}
    assert c.data_ptr() not in {s["address"] for s in cuda.memory_snapshot() if s["segment_pool_id"] != (0, 0)}
    with pytest.raises(TypeError, match="pool must be a torch.cuda.MemPool"):
        with cuda.use_mem_pool(outer.id):
            pass
    with pytest.raises(NotImplementedError, match="pluggable allocators are not supported"):
        cuda.MemPool(allocator=object())


def test_a_graph_captures_into_a_mempool():
    pool = cuda.MemPool()
    x = ember.ones(64, device="cuda")
    g = cuda.CUDAGraph()
    with cuda.graph(g, pool=pool.id):
        y = x * 2 + 1
    assert pool.use_count() == 2  # the pool and the graph
    assert y.data_ptr() in {s["address"] for s in pool.snapshot()}
    x.fill_(3.0)
    g.replay()
    assert y.cpu().tolist() == [7.0] * 64
    g.reset()
    assert pool.use_count() == 1


def test_memory_snapshot_adds_up_to_the_allocators_counters():
    keep = [ember.empty(n, device="cuda") for n in (10, 5000, 400_000)]
    del keep[1]
    segments = cuda.memory_snapshot()
    assert sum(s["allocated_size"] for s in segments if s["device"] == 0) == cuda.memory_allocated(0)
    assert sum(s["total_size"] for s in segments if s["device"] == 0) == cuda.memory_reserved(0)
    by_address = {s["address"]: s for s in segments}
    big = by_address[keep[1].data_ptr()]
    assert big["requested_size"] == 1_600_000 and big["segment_type"] == "large"
    assert big["blocks"][0]["state"] == "active_allocated" and big["stream"] == cuda.current_stream().cuda_stream
    assert {"inactive"} <= {s["blocks"][0]["state"] for s in segments}  # the freed one stays cached


def test_caching_allocator_enable_false_gives_freed_blocks_back_at_once():
    cuda.synchronize()
    try:
        cuda.caching_allocator_enable(False)
        assert cuda.memory_reserved() == cuda.memory_allocated()  # the cache went back too
        x = ember.randn(100_000, device="cuda")
        assert cuda.memory_reserved() == cuda.memory_allocated()
        y = x * 2
        del x
        assert cuda.memory_reserved() == cuda.memory_allocated()
        assert y.sum().item() != 0  # the work queued on the freed block ran first
    finally:
        cuda.caching_allocator_enable(True)
    z = ember.randn(10, device="cuda")
    del z
    assert cuda.memory_reserved() > cuda.memory_allocated()  # cached again


def test_host_memory_stats_count_the_pinned_blocks():
    cuda.empty_cache()
    cuda.reset_accumulated_host_memory_stats()
    cuda.reset_peak_host_memory_stats()
    before = cuda.host_memory_stats()
    held = [ember.ones(50_000).pin_memory() for _ in range(3)]
    during = cuda.host_memory_stats()
    assert during["active_requests.current"] == before["active_requests.current"] + 3
    assert during["allocations.current"] >= 3
    assert during["active_bytes.current"] - before["active_bytes.current"] >= 3 * 200_000
    assert during["num_host_alloc"] == during["host_alloc_time.count"] >= 1
    assert during["active_requests.peak"] >= during["active_requests.current"]
    del held
    gc.collect()
    cuda.synchronize()
    cuda.empty_cache()
    after = cuda.host_memory_stats()
    assert after["active_requests.current"] == before["active_requests.current"]
    assert after["num_host_free"] >= 3 and after["allocations.freed"] >= 3
    nested = cuda.host_memory_stats_as_nested_dict()
    assert nested["allocations"]["current"] == after["allocations.current"]
    assert set(nested["host_alloc_time"]) == {"total", "max", "min", "count", "avg"}
    cuda.reset_accumulated_host_memory_stats()
    assert cuda.host_memory_stats()["num_host_alloc"] == 0
