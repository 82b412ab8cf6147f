"""ember.profiler and ember.autograd.profiler: the events of known programs (names, order, shapes, threads,
memory), the summaries (key_averages, table), the Chrome trace, record_function, schedules and errors."""

from __future__ import annotations

import gc
import json

import pytest

import ember
from ember.autograd.profiler import profile as autograd_profile
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule, supported_activities


def ops(events):
    return [e.name for e in events if e.kind == "cpu_op"]


def test_every_op_in_order_with_input_shapes():
    x = ember.randn(3, 4, requires_grad=True)
    w = ember.randn(4, 2, requires_grad=True)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        y = (x @ w).relu()
        z = y * 2 + 1
        z.sum().backward()
    events = prof.events()
    assert ops(events) == ["aten::matmul", "aten::relu", "aten::mul", "aten::add", "aten::sum"]
    shapes = {e.name: e.input_shapes for e in events if e.kind == "cpu_op"}
    assert shapes["aten::matmul"] == [[3, 4], [4, 2]] and shapes["aten::mul"] == [[3, 2], []]
    backward = [e.name for e in events if e.kind == "backward"]
    assert backward[:4] == ["SumBackward0", "AddBackward0", "MulBackward0", "ReluBackward0"]
    assert "MmBackward0" in backward and backward.count("torch::autograd::AccumulateGrad") == 2
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total


def test_nothing_is_recorded_without_a_profiler():
    with record_function("outside"):  # a no-op
        ember.ones(3) * 2
    with profile() as prof:
        pass
    assert list(prof.events()) == []
    assert not ember._C._profiler_enabled()


def test_record_function_nests_and_decorates():
    @record_function("decorated")
    def inner():
        return ember.ones(2) + 1

    with profile() as prof:
        with record_function("outer"):
            inner()
    by_name = {e.name: e for e in prof.events()}
    assert by_name["decorated"].cpu_parent is by_name["outer"]
    assert by_name["aten::add"].cpu_parent is by_name["decorated"]
    assert by_name["outer"].kind == by_name["decorated"].kind == "user_annotation"
    outer = by_name["outer"]
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - by_name["decorated"].cpu_time_total)


def test_memory_is_charged_to_the_innermost_event():
    a = ember.ones(1000)
    gc.collect()  # a collection inside the block would charge it the frees of earlier tests' tensors
    gc.disable()
    try:
        with profile(profile_memory=True) as prof:
            with record_function("block"):
                b = a * 2  # one float32 result of 1000 elements
                c = ember.ones(250, dtype=ember.float64)  # not an op: charged to the block itself
            del b
    finally:
        gc.enable()
    by_name = {e.name: e for e in prof.events()}
    assert by_name["aten::mul"].self_cpu_memory_usage == 4000
    assert by_name["block"].self_cpu_memory_usage == 2000 and by_name["block"].cpu_memory_usage == 6000
    del c


def test_key_averages_and_table_have_pytorchs_columns():
    x = ember.randn(8, 8)
    with profile(record_shapes=True, profile_memory=True) as prof:
        for _ in range(3):
            (x * x).sum()
    averages = prof.key_averages()
    rows = {a.key: a for a in averages}
    assert rows["aten::mul"].count == 3 and rows["aten::sum"].count == 3
    assert rows["aten::mul"].cpu_time == pytest.approx(rows["aten::mul"].cpu_time_total / 3)
    table = averages.table(sort_by="self_cpu_time_total", row_limit=1)
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "CPU Mem",
                   "Self CPU Mem", "# of Calls", "Self CPU time total:"):  # fmt: skip
        assert column in table
    assert len([line for line in table.splitlines() if "aten::" in line]) == 1  # row_limit
    grouped = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in grouped and "[[8, 8], [8, 8]]" in grouped
    with pytest.raises(AttributeError, match="sort_by"):
        averages.table(sort_by="nonsense")


def test_optimizer_steps_are_named_as_pytorch():
    model = ember.nn.Linear(4, 2)
    opt = ember.optim.Adam(model.parameters())
    model(ember.randn(3, 4)).sum().backward()
    with profile() as prof:
        opt.step()
        opt.zero_grad()
    names = [e.name for e in prof.events()]
    assert "Optimizer.step#Adam.step" in names and "Optimizer.zero_grad#Adam.zero_grad" in names


def test_parallel_backward_nodes_carry_their_executor_threads():
    if ember.get_num_threads() < 2:
        pytest.skip("the parallel executor needs 2 threads")
    # An explicit budget: a default one would go serial on a machine busy with the other tests (Note [Busy machine]);
    # and the executor set on, as by default it waits for 4 threads (Note [Parallel backward]).
    ember.set_num_threads(ember.get_num_threads())
    ember.autograd.set_parallel_backward(True)
    ember.manual_seed(0)
    x = ember.randn(256, 256, requires_grad=True)
    branches = [ember.randn(256, 256, requires_grad=True) for _ in range(4)]
    seen = []
    for _ in range(5):  # on a loaded machine a helper thread may wake too late to take a branch: try again
        loss = sum(((x @ w).tanh() @ w).sum() for w in branches)
        with profile() as prof:
            loss.backward()
        seen.append({e.thread for e in prof.events() if e.kind == "backward"})
        if len(seen[-1]) >= 2:
            break
    ember.autograd.set_parallel_backward(None)
    assert len(seen[-1]) >= 2, seen  # branches ran side by side, on different executor threads


def test_chrome_trace_is_json_with_a_track_per_thread(tmp_path):
    x = ember.randn(4, 4, requires_grad=True)
    with profile(record_shapes=True) as prof:
        with record_function("step"):
            (x * x).sum().backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    complete = [t for t in trace if t["ph"] == "X"]
    assert {t["name"] for t in complete} >= {"step", "aten::mul", "aten::sum", "MulBackward0"}
    assert all(t["dur"] >= 0 and "tid" in t and "ts" in t for t in complete)
    mul = next(t for t in complete if t["name"] == "aten::mul")
    assert mul["args"]["Input Dims"] == [[4, 4], [4, 4]] and mul["cat"] == "cpu_op"
    assert {t["tid"] for t in trace if t["ph"] == "M"} == {t["tid"] for t in complete}


def test_schedule_records_only_the_active_steps():
    steps = schedule(wait=1, warmup=1, active=2, repeat=1)
    assert [steps(i) for i in range(5)] == [ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
                                            ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE]  # fmt: skip
    traces = []
    with profile(schedule=steps, on_trace_ready=lambda p: traces.append([e.name for e in p.events()])) as prof:
        for i in range(5):
            with record_function(f"step {i}"):
                ember.ones(2) + i
            prof.step()
    assert len(traces) == 1
    assert [n for n in traces[0] if n.startswith("step")] == ["step 2", "step 3"]


def test_nested_profilers_raise_pytorchs_error():
    with profile():
        with pytest.raises(RuntimeError, match="Profiler is already enabled"):
            with autograd_profile():
                pass
    with autograd_profile(enabled=False) as off:  # enabled=False records nothing and nests freely
        pass
    assert off.function_events is None


def test_autograd_profiler_api():
    x = ember.randn(5, requires_grad=True)
    with autograd_profile(record_shapes=True) as prof:
        (x.exp() * 3).sum().backward()
    assert "aten::exp" in [e.name for e in prof.function_events]
    assert "ExpBackward0" in prof.key_averages().table()
    assert prof.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in prof.function_events))
    assert prof.total_average().count == len(prof.function_events)


def test_tensorboard_trace_handler_writes_trace_files(tmp_path):
    handler = ember.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w0")
    with profile(schedule=schedule(wait=0, warmup=1, active=1), on_trace_ready=handler) as prof:
        for _ in range(2):
            ember.ones(3) * 2
            prof.step()
    files = list(tmp_path.glob("w0.*.pt.trace.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["traceEvents"]


def test_op_names_are_pytorchs():
    torch = pytest.importorskip("torch")

    def program(lib):
        x = lib.ones(4, 3, requires_grad=True)
        y = (x * 2 - 1).exp().sum(dim=1)
        return y.mean()

    with profile() as ours:
        program(ember)
    with torch.profiler.profile() as theirs:
        program(torch)
    theirs_names = {e.name for e in theirs.events()}
    assert set(ops(ours.events())) <= theirs_names, set(ops(ours.events())) - theirs_names


def test_custom_functions_and_python_threads_are_recorded():
    import threading

    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * grad

    x = ember.randn(4, requires_grad=True)

    def work():
        for _ in range(20):
            ember.ones(4) * 3

    with profile() as prof:
        helper = threading.Thread(target=work)
        helper.start()
        Cube.apply(x).sum().backward()
        work()
        helper.join()
    events = prof.events()
    assert any(e.kind == "backward" and e.name.startswith("Cube") for e in events), [e.name for e in events]
    mul_threads = {e.thread for e in events if e.name == "aten::mul"}
    assert len(mul_threads) == 2 and sum(e.name == "aten::mul" for e in events) >= 40


def test_options_ember_does_not_record_warn_instead_of_being_silently_ignored():
    with pytest.warns(UserWarning, match="does not record with_flops, with_stack: ignored"):
        profile(with_stack=True, with_flops=True)
    # the CUDA activity is recorded where a GPU is (test_cuda_api.py); PyTorch's deprecations are kept
    with pytest.warns(FutureWarning, match="please use ``use_device = 'cuda'`` instead"):
        autograd_profile(use_cuda=True)
    with pytest.warns(FutureWarning, match="`use_cuda` is deprecated, use `activities` argument instead"):
        profile(use_cuda=False)
    with pytest.warns(UserWarning, match="the other activities record nothing"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.XPU])
    with pytest.raises(AssertionError, match="No valid profiler activities found"):
        profile(activities=[ProfilerActivity.CUDA], use_cuda=False)
    if not ember.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available, disabling CUDA profiling"):
            autograd_profile(use_device="cuda")
        assert supported_activities() == {ProfilerActivity.CPU}
