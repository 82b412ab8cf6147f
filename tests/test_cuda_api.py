"""ember.cuda's runtime API beyond tensors, as torch.cuda's: events and their timing, streams (ember runs a
device's work on one stream), device properties and memory, OutOfMemoryError, nvtx, ember.version.cuda."""

import os

import numpy as np
import pytest

import ember

pytestmark = pytest.mark.cuda

requires_gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")
without_gpu = pytest.mark.skipif(ember.cuda.is_available(), reason="a CUDA GPU is present")
requires_two_gpus = pytest.mark.skipif(ember.cuda.device_count() < 2, reason="fewer than two CUDA GPUs")
emulated = os.environ.get("EMBER_CUDA_BACKEND") == "emulated"


@requires_gpu
def test_events_time_and_order_the_work():
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    assert start.query()  # never recorded: nothing to wait for
    start.record()
    x = ember.randn(128, 128, device="cuda")
    y = x @ x
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0.0
    np.testing.assert_allclose(y.cpu().numpy(), x.cpu().numpy() @ x.cpu().numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        ember.cuda.Event().elapsed_time(end)
    with pytest.raises(RuntimeError, match="must be recorded"):
        ember.cuda.Event(enable_timing=True).elapsed_time(end)
    with pytest.raises(NotImplementedError):
        ember.cuda.Event(interprocess=True)


@requires_gpu
def test_streams_stand_for_the_devices_one_stream():
    s = ember.cuda.Stream()
    assert s == ember.cuda.current_stream() == ember.cuda.default_stream() and s.device == ember.device("cuda", 0)
    with ember.cuda.stream(s):
        out = ember.ones(3, device="cuda") * 2
    event = s.record_event()
    s.wait_event(event)
    s.wait_stream(ember.cuda.current_stream())
    s.synchronize()
    assert s.query() and event.query() and out.cpu().tolist() == [2.0, 2.0, 2.0]
    with ember.cuda.stream(None):  # PyTorch accepts None: no change
        pass
    assert s.cuda_stream != 0 and repr(s) == f"<ember.cuda.Stream device=cuda:0 cuda_stream={s.cuda_stream:#x}>"


@requires_gpu
def test_an_external_stream_is_ordered_with_embers_own():
    # ember's stream handle stands in for another library's stream: the ordering calls run, and the work with it
    own = ember.cuda.current_stream()
    external = ember.cuda.ExternalStream(own.cuda_stream)
    assert external == own and external.cuda_stream == own.cuda_stream and "ExternalStream" in repr(external)
    with ember.cuda.stream(external):
        out = ember.arange(4.0, device="cuda") * 3
    event = ember.cuda.Event()
    event.record(external)
    event.wait()
    own.wait_stream(external)
    assert out.cpu().tolist() == [0.0, 3.0, 6.0, 9.0]
    with pytest.raises(TypeError, match="stream_ptr must be an int"):
        ember.cuda.ExternalStream("0x1")
    if emulated:  # a handle that is no stream: CUDA's error, not a crash (a GPU's driver may not check it)
        with (
            pytest.raises(RuntimeError, match="invalid resource handle"),
            ember.cuda.stream(ember.cuda.ExternalStream(12345)),
        ):
            pass
        assert (ember.ones(2, device="cuda") * 2).tolist() == [2.0, 2.0]


@requires_gpu
def test_interop_handles_errors_and_raw_allocations():
    assert ember.cuda.current_blas_handle() != 0 and not ember.cuda.is_current_stream_capturing()
    error = ember.cuda.CudaError(2)
    assert isinstance(error, RuntimeError) and str(error) == "out of memory (2)"
    ember.cuda.check_error(0)
    with pytest.raises(ember.cuda.CudaError, match=r"invalid argument \(1\)"):
        ember.cuda.check_error(1)
    assert ember.cuda.get_allocator_backend() == "native"
    before = ember.cuda.memory_allocated()
    ptr = ember.cuda.caching_allocator_alloc(4 << 20, stream=ember.cuda.current_stream())
    assert ptr != 0 and ember.cuda.memory_allocated() == before + (4 << 20)  # a multiple of 2 MiB: not rounded
    ember.cuda.caching_allocator_delete(ptr)
    assert ember.cuda.memory_allocated() == before
    with pytest.raises(RuntimeError, match="was not allocated by caching_allocator_alloc"):
        ember.cuda.caching_allocator_delete(ptr)
    with pytest.raises(TypeError, match="Invalid type for stream argument"):
        ember.cuda.caching_allocator_alloc(16, stream="s")
    assert ember.cuda.caching_allocator_alloc(0) == 0  # no bytes: a null pointer, as PyTorch's
    ember.cuda.caching_allocator_delete(0)
    with pytest.raises(RuntimeError, match="size must be non-negative, got -1"):
        ember.cuda.caching_allocator_alloc(-1)
    with pytest.raises(TypeError):
        ember.cuda.caching_allocator_alloc(2.5)
    with pytest.raises(RuntimeError, match="None was not allocated by caching_allocator_alloc"):
        ember.cuda.caching_allocator_delete(None)
    with pytest.raises(ValueError, match="queues cuda:0's work on stream"):
        ember.cuda.caching_allocator_alloc(16, 0, stream=ember.cuda.current_stream().cuda_stream + 8)


def test_memory_and_random_are_modules_as_in_pytorch():
    import ember.cuda.memory
    import ember.cuda.random

    for name in ember.cuda.memory.__all__:
        assert getattr(ember.cuda, name) is getattr(ember.cuda.memory, name), name
    for name in ember.cuda.random.__all__:
        assert getattr(ember.cuda, name) is getattr(ember.cuda.random, name), name
    torch = pytest.importorskip("torch")
    missing = set(torch.cuda.random.__all__) - set(ember.cuda.random.__all__)
    assert not missing
    kept_out = {"CUDAPluggableAllocator", "change_current_allocator", "MemPool", "use_mem_pool", "memory_snapshot"}
    kept_out |= {"caching_allocator_enable", "caching_allocator_disabled", "host_memory_stats"}
    kept_out |= {n for n in torch.cuda.memory.__all__ if "host_memory" in n}
    assert set(torch.cuda.memory.__all__) - set(ember.cuda.memory.__all__) <= kept_out


@requires_gpu
def test_device_properties_memory_and_support_queries():
    p = ember.cuda.get_device_properties(0)
    assert isinstance(p.name, str) and p.total_memory > 0 and p.multi_processor_count > 0
    assert ember.cuda.get_device_capability(0) == (p.major, p.minor) and p.major >= 5
    assert repr(p).startswith("_CudaDeviceProperties(name='")
    for bad in (-3, -1, ember.cuda.device_count() + 5):  # PyTorch's check of the index
        with pytest.raises(AssertionError, match="Invalid device id"):
            ember.cuda.get_device_properties(bad)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        ember.cuda.mem_get_info(ember.cuda.device_count() + 5)
    assert (ember.ones(2, device="cuda") + 1).cpu().tolist() == [2.0, 2.0]  # the error is not left for the next op
    assert ember.cuda.is_tf32_supported() == (p.major >= 8) and ember.cuda.has_half
    free, total = ember.cuda.mem_get_info()
    assert 0 <= free <= total == p.total_memory
    assert ember.cuda.is_bf16_supported()
    # the build's architectures (none where the GPU is the host emulation of a build without nvcc)
    assert all(arch.startswith("sm_") for arch in ember.cuda.get_arch_list())
    assert "Allocated memory" in ember.cuda.memory_summary()
    ember.cuda.init()
    ember.cuda.ipc_collect()
    t = ember.zeros(1, device="cuda")
    with ember.cuda.device_of(t):
        assert ember.cuda.current_device() == t.get_device()


@requires_gpu
def test_running_out_of_device_memory_raises_out_of_memory_error():
    assert ember.OutOfMemoryError is ember.cuda.OutOfMemoryError and issubclass(ember.OutOfMemoryError, RuntimeError)
    with pytest.raises(ember.cuda.OutOfMemoryError, match="CUDA out of memory"):
        ember.empty(1 << 50, device="cuda")
    assert ember.ones(2, device="cuda").sum().item() == 2.0  # the allocator goes on


def test_nvtx_ranges_nest_and_version_names_the_toolkit():
    nvtx = ember.cuda.nvtx
    assert nvtx.range_push("outer") == 0 and nvtx.range_push("inner") == 1
    assert nvtx.range_pop() == 1 and nvtx.range_pop() == 0 and nvtx.range_pop() == -1
    with nvtx.range("step {}", 3):
        nvtx.mark("inside")
    cuda = ember.version.cuda
    assert cuda is None or (cuda.count(".") == 1 and ember.cuda.is_built())


@without_gpu
def test_without_a_gpu_the_queries_answer_as_pytorch():
    assert not ember.cuda.is_bf16_supported() and ember.cuda.get_arch_list() == []
    for call in (ember.cuda.init, lambda: ember.cuda.get_device_properties(0), ember.cuda.mem_get_info):
        with pytest.raises(RuntimeError):
            call()


@requires_gpu
def test_memory_fraction_caps_the_allocator():
    total = ember.cuda.get_device_properties(0).total_memory
    assert ember.cuda.get_per_process_memory_fraction() == 1.0
    ember.cuda.empty_cache()
    try:
        ember.cuda.set_per_process_memory_fraction(0.5)
        assert ember.cuda.get_per_process_memory_fraction() == 0.5
        with pytest.raises(ember.cuda.OutOfMemoryError, match=r"may hold at most .* \(memory fraction 0.5\)"):
            ember.empty(int(total * 0.6) // 4, device="cuda")
        assert ember.ones(3, device="cuda").sum().item() == 3.0  # small blocks still fit
    finally:
        ember.cuda.set_per_process_memory_fraction(1.0)
    for bad, error in [(1.5, ValueError), (1, TypeError)]:
        with pytest.raises(error):
            ember.cuda.set_per_process_memory_fraction(bad)


@requires_gpu
def test_memory_counters_under_pytorchs_older_names():
    ember.cuda.reset_max_memory_allocated()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()
    assert ember.cuda.memory_cached() == ember.cuda.memory_reserved()
    assert ember.cuda.max_memory_cached() >= ember.cuda.memory_cached()
    x = ember.ones(1000, device="cuda")
    nested = ember.cuda.memory_stats_as_nested_dict()
    assert nested["allocated_bytes"]["all"]["current"] == ember.cuda.memory_allocated() >= x.numel() * 4
    ember.cuda.reset_accumulated_memory_stats()
    assert ember.cuda.memory_stats()["allocation.all.allocated"] == 0
    ember.ones(3, device="cuda")
    assert ember.cuda.memory_stats()["allocation.all.allocated"] == 1


@requires_gpu
def test_sync_debug_mode_reports_waits_for_the_gpu():
    # Note [Sync debug mode]: copies to and from the host wait and are reported; kernels, index checks
    # included (Note [Deferred index errors]), are not
    emb = ember.nn.Embedding(10, 4).cuda()
    tokens = ember.tensor([1, 2, 3], device="cuda")
    assert ember.cuda.get_sync_debug_mode() == 0
    try:
        ember.cuda.set_sync_debug_mode("error")
        assert ember.cuda.get_sync_debug_mode() == 2
        loss = ember.nn.functional.cross_entropy(emb(tokens), tokens)
        loss.backward()
        ember.cuda.synchronize()  # asked for: not reported
        with pytest.raises(RuntimeError, match="called a synchronizing CUDA operation"):
            loss.item()
        with pytest.raises(RuntimeError, match="called a synchronizing CUDA operation"):
            ember.ones(1 << 19).cuda()  # 2 MiB from the host: waits
        ember.tensor([1.0], device="cuda")  # small: staged in pinned memory, no wait (Note [Staged host copies])
        ember.arange(5, device="cuda")
        ember.cuda.set_sync_debug_mode("warn")
        with pytest.warns(UserWarning, match="called a synchronizing CUDA operation"):
            assert loss.item() > 0
    finally:
        ember.cuda.set_sync_debug_mode("default")
    for bad in ("loud", 7):
        with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
            ember.cuda.set_sync_debug_mode(bad)
    assert ember.cuda.get_sync_debug_mode() == 0


def test_legacy_cuda_tensor_classes():
    c = ember.cuda
    cpu = ember.ones(2)
    assert repr(c.FloatTensor) == "<class 'ember.cuda.FloatTensor'>" and c.FloatTensor.is_cuda
    assert not isinstance(cpu, c.FloatTensor) and isinstance(cpu, ember.FloatTensor)
    with pytest.raises(RuntimeError, match="expects device type: cuda but device type: cpu"):
        c.FloatTensor(2, device="cpu")
    if not c.is_available():
        return
    t = c.FloatTensor(2, 3)
    assert t.device.type == "cuda" and t.dtype == ember.float32 and t.shape == (2, 3)
    assert (
        isinstance(t, c.FloatTensor) and not isinstance(t, ember.FloatTensor) and t.type() == "ember.cuda.FloatTensor"
    )
    assert c.LongTensor([1, 2]).cpu().tolist() == [1, 2] and c.BoolTensor(size=(4,)).dtype == ember.bool
    moved = cpu.type(c.DoubleTensor)
    assert moved.device.type == "cuda" and moved.dtype == ember.float64
    assert moved.type(ember.FloatTensor).device.type == "cpu"
    if c.device_count() > 1:
        assert c.can_device_access_peer(0, 1) and not c.can_device_access_peer(0, 0)


def test_nvml_queries_go_through_pynvml(monkeypatch):
    # ember's glue to NVML, with a stand-in for the nvidia-ml-py module: which handle (CUDA_VISIBLE_DEVICES maps
    # ember's index to NVML's), which query, and the missing module's error
    import sys
    import types

    calls = []
    fake = types.ModuleType("pynvml")
    fake.NVMLError_DriverNotLoaded = type("NVMLError_DriverNotLoaded", (Exception,), {})
    fake.nvmlInit = lambda: calls.append("init")
    fake.nvmlDeviceGetHandleByIndex = lambda i: ("index", i)
    fake.nvmlDeviceGetHandleByUUID = lambda u: ("uuid", u)
    fake.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=87, memory=41, handle=h)
    fake.nvmlDeviceGetTemperature = lambda h, sensor: 64 if sensor == 0 else -1
    fake.nvmlDeviceGetPowerUsage = lambda h: 312000
    fake.nvmlDeviceGetClockInfo = lambda h, kind: 1980 if kind == 1 else -1
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=123 << 20)
    fake.nvmlDeviceGetComputeRunningProcesses = lambda h: [types.SimpleNamespace(pid=4242, usedGpuMemory=3 << 20)]
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,GPU-abc")
    c = ember.cuda
    assert (c.utilization(0), c.memory_usage(0), c.temperature(0)) == (87, 41, 64)
    assert (c.power_draw(0), c.clock_rate(0), c.device_memory_used(0)) == (312000, 1980, 123 << 20)
    fake.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=h, memory=0)
    assert c.utilization(0) == ("index", 3) and c.utilization(1) == ("uuid", "GPU-abc")
    with pytest.raises(RuntimeError, match="device 2 is not visible"):
        c.utilization(2)
    assert c.list_gpu_processes(0) == "GPU:0\nprocess       4242 uses        3.000 MB GPU memory"
    assert "init" in calls
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed
    with pytest.raises(ModuleNotFoundError, match="nvidia-ml-py does not seem to be installed"):
        c.utilization()
    assert c.list_gpu_processes() == "pynvml module not found, please install nvidia-ml-py"


def test_stream_keywords():
    # PyTorch's keywords for a stream rebuilt from its parts are taken; others raise instead of being ignored
    with pytest.raises(TypeError, match="unexpected keyword argument 'devce'"):
        ember.cuda.Stream(devce=1)
    if not ember.cuda.is_available():
        return
    s = ember.cuda.Stream(stream_id=0, device_index=0, device_type=1)
    assert s.device == ember.device("cuda", 0) and s == ember.cuda.current_stream()
    with pytest.raises(ValueError, match="expected a CUDA stream"):
        ember.cuda.Stream(stream_id=0, device_index=0, device_type=0)


@pytest.mark.skipif(
    not emulated or "EMBER_CUDA_EMULATED_SYNC" in os.environ,
    reason="needs the asynchronous emulation's slow products to see the queue",
)
def test_the_emulated_stream_runs_work_after_the_call_that_queued_it():
    # Note [Asynchronous emulation]: the calls return while the products still wait on the stream's thread
    a = ember.randn(200, 200, device="cuda")
    ember.cuda.synchronize()
    products = [a @ a for _ in range(20)]
    assert not ember.cuda.current_stream().query()
    ember.cuda.synchronize()
    assert ember.cuda.current_stream().query()
    expected = a.cpu().numpy() @ a.cpu().numpy()
    np.testing.assert_allclose(products[-1].cpu().numpy(), expected, rtol=1e-4, atol=1e-3)


@requires_two_gpus
def test_a_copy_between_devices_reads_its_source_before_the_source_device_reuses_it():
    # The copy is queued on cuda:1's stream, busy with a product; the source's memory, freed on the host
    # at once, goes to the next tensor of cuda:0, whose stream must wait for the copy before writing it.
    sources = [ember.arange(50000.0, device="cuda:0")]
    busy = ember.randn(200, 200, device="cuda:1")
    for round_, expected in enumerate((np.arange(50000.0), -1.0, -2.0)):
        busy @ busy
        copied = sources.pop().to("cuda:1")  # the source is freed here
        sources.append(ember.full((50000,), -1.0 - round_, device="cuda:0"))  # may reuse the source's memory
        np.testing.assert_array_equal(copied.cpu().numpy(), expected)


@requires_gpu
def test_the_profilers_cuda_activity_measures_the_gpu_time_of_ops_and_nodes():
    # Note [Profiler device time]: a timing event on the op's stream when it opens and when it closes
    from ember.profiler import ProfilerActivity, profile, record_function, supported_activities

    assert ProfilerActivity.CUDA in supported_activities()
    model = ember.nn.Sequential(ember.nn.Linear(64, 128), ember.nn.ReLU(), ember.nn.Linear(128, 4)).cuda()
    x = ember.randn(32, 64, device="cuda")
    model(x).sum().backward()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        with record_function("step"):
            model(x).sum().backward()
        ember.ones(3, device="cpu").exp()  # a CPU op: no GPU time
    events = prof.events()
    addmm = [e for e in events if e.name == "aten::addmm"]
    assert len(addmm) == 2 and all(e.device_index == 0 and e.cuda_time_total > 0 for e in addmm)
    assert all(e.self_device_time_total == e.device_time_total for e in addmm)  # no children
    backward = [e for e in events if e.name == "AddmmBackward0"]
    assert len(backward) == 2 and all(e.device_time_total > 0 for e in backward)
    cpu_exp = next(e for e in events if e.name == "aten::exp")
    assert not cpu_exp.device_timed and cpu_exp.device_time_total == 0
    step = next(e for e in events if e.name == "step")  # a range: its children's GPU time on its thread
    assert step.self_device_time_total == 0
    assert step.device_time_total == pytest.approx(sum(c.device_time_total for c in step.cpu_children))
    averages = prof.key_averages()
    table = averages.table(sort_by="cuda_time_total", row_limit=5)
    assert "Self CUDA" in table and "CUDA total" in table and "Self CUDA time total" in table
    rows = sorted(averages, key=lambda e: e.cuda_time_total, reverse=True)
    assert rows[0].key in table.splitlines()[3]  # sorted by it
    assert next(a for a in averages if a.key == "aten::addmm").cuda_time == pytest.approx(
        sum(e.device_time_total for e in addmm) / 2
    )
    with profile(activities=[ProfilerActivity.CPU]) as cpu_only:
        model(x)
    assert "CUDA total" not in cpu_only.key_averages().table()
    assert not any(e.device_timed for e in cpu_only.events())
    with ember.autograd.profiler.profile(use_device="cuda") as legacy:
        model(x)
    assert any(e.device_timed for e in legacy.function_events)
    # none recorded while the device captures a CUDA graph (an event there would break the capture)
    with profile(activities=[ProfilerActivity.CUDA]) as during_capture:
        with ember.cuda.graph(ember.cuda.CUDAGraph()):
            model(x)
    assert not any(e.device_timed for e in during_capture.events())
