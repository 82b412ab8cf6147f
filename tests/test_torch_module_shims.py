"""The torch modules that other libraries and scripts call around the model code, as ember answers them:
ember.jit, ember.compiler and ember._dynamo (nothing compiled: decorators return what they get, queries say
False), ember._assert, ember.utils._pytree, ember.nn.modules.utils, ember.utils.hooks, the collate module
path, ember.multiprocessing (spawn raising the child's error) and ember.hub (checkpoints fetched into the
hub's cache)."""

import collections
import hashlib
import os
import pathlib
import typing

import numpy as np
import pytest

import ember
from ember import nn
from ember.utils import _pytree as pytree


@pytest.mark.filterwarnings("ignore:ember.jit.trace returns")
def test_jit_returns_what_it_is_given_and_says_it_is_not_scripting():
    model = ember.nn.Linear(2, 2)
    with pytest.warns(UserWarning, match="ember has no TorchScript compiler"):
        assert ember.jit.script(model) is model
    ember.jit.script(model)  # warned once
    assert ember.jit.trace(model, ember.ones(1, 2)) is model
    assert not ember.jit.is_scripting() and not ember.jit.is_tracing()

    @ember.jit.ignore
    def helper(x):
        return x + 1

    @ember.jit.ignore(drop=True)
    def dropped(x):
        return x * 2

    assert helper(1) == 2 and dropped(2) == 4
    assert ember.jit.unused(helper) is helper and ember.jit.export(helper) is helper
    assert ember.jit.annotate(typing.List[int], []) == []
    assert ember.jit.isinstance([1, 2], typing.List[int]) and not ember.jit.isinstance([1, "a"], typing.List[int])
    assert ember.jit.isinstance({"a": 1}, typing.Dict[str, int])
    assert ember.jit.wait(ember.jit.fork(lambda a, b: a * b, 3, b=4)) == 12
    assert ember.jit.Attribute(5, int) == 5 and not isinstance(model, ember.jit.ScriptModule)
    assert ember.jit.Final[int] == typing.Final[int]
    with pytest.raises(NotImplementedError, match="needs a TorchScript program"):
        ember.jit.save(model, "m.pt")
    with pytest.raises(NotImplementedError, match="needs a TorchScript program"):
        ember.jit.load("m.pt")


def test_compiler_and_dynamo_compile_nothing():
    assert not ember.compiler.is_compiling() and not ember.compiler.is_dynamo_compiling()
    assert not ember._dynamo.is_compiling()

    def f(x):
        return x + 1

    assert ember.compiler.disable(f) is f and ember.compiler.disable()(f) is f
    assert ember._dynamo.disable(f) is f and ember.compiler.allow_in_graph(f) is f
    assert ember.compiler.compile is ember.compile
    ember._dynamo.config.cache_size_limit = 64  # scripts set it; it is kept
    assert ember._dynamo.config.cache_size_limit == 64
    ember._dynamo.mark_dynamic(ember.ones(3), 0)
    ember.compiler.reset()
    ember.compiler.cudagraph_mark_step_begin()


def test_assert_raises_assertion_error_with_the_message():
    ember._assert(True, "fine")
    ember._assert(ember.tensor(True), "fine")
    with pytest.raises(AssertionError, match="shapes differ"):
        ember._assert(ember.tensor(False), "shapes differ")


Point = collections.namedtuple("Point", "x y")


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


pytree.register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda v, _: Pair(*v))


def test_pytree_flattens_nested_containers_and_registered_types():
    tree = {"a": [1, (2, 3)], "b": Point(4, {"c": 5}), "d": None, "e": collections.OrderedDict(z=6, y=7)}
    leaves, spec = pytree.tree_flatten(tree)
    assert leaves == [1, 2, 3, 4, 5, None, 6, 7] and spec.num_leaves == 8  # None is a leaf, as PyTorch's
    rebuilt = pytree.tree_unflatten([v * 10 if v is not None else v for v in leaves], spec)
    assert rebuilt["b"] == Point(40, {"c": 50}) and rebuilt["d"] is None
    assert list(rebuilt["e"].items()) == [("z", 60), ("y", 70)] and type(rebuilt["e"]) is collections.OrderedDict
    assert pytree.tree_map(lambda a, b: a + b, [1, (2,)], [10, (20,)]) == [11, (22,)]
    mapped = pytree.tree_map(lambda p: p, Pair(1, [2]))
    assert isinstance(mapped, Pair) and mapped.b == [2]
    assert pytree.tree_map_only(int, lambda v: -v, [1, "s", 2.5]) == [-1, "s", 2.5]
    assert pytree.tree_leaves([1, [2]], is_leaf=lambda x: isinstance(x, list) and len(x) == 1) == [1, [2]]
    assert pytree.tree_all(lambda v: v > 0, [1, (2,)]) and pytree.tree_any(lambda v: v > 1, [1, (2,)])
    with pytest.raises(ValueError, match="has length 1 but the spec refers to a pytree that holds 2 items"):
        pytree.tree_unflatten([1], pytree.tree_structure([1, 2]))
    with pytest.raises(ValueError, match="structures differ"):
        pytree.tree_map(lambda a, b: a, [1, 2], [1, [2]])
    with pytest.raises(ValueError, match="already registered"):
        pytree.register_pytree_node(Pair, lambda p: ([], None), lambda v, _: None)
    torch_pytree = pytest.importorskip("torch.utils._pytree")

    same = {"a": [1, (2, 3)], "b": Point(4, {"c": 5}), "d": None}
    assert pytree.tree_leaves(same) == torch_pytree.tree_leaves(same)


def test_module_paths_other_libraries_import():
    from ember.nn.modules.utils import _ntuple, _pair, _quadruple, _reverse_repeat_tuple, _single, _triple

    assert (_single(2), _pair(3), _triple((1, 2, 3)), _quadruple(0)) == ((2,), (3, 3), (1, 2, 3), (0, 0, 0, 0))
    assert _ntuple(5)(1) == (1,) * 5 and _reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)
    from ember.utils.data._utils.collate import default_collate
    from ember.utils.hooks import RemovableHandle

    handle = ember.nn.Linear(1, 1).register_forward_hook(lambda *a: None)
    assert isinstance(handle, RemovableHandle)
    assert default_collate([ember.ones(2), ember.zeros(2)]).shape == (2, 2)


def _child(i, queue, fail):
    if fail and i == 1:
        raise ValueError(f"process {i} refuses")
    queue.put((i, float(ember.ones(2).sum() * i)))


def test_multiprocessing_spawns_and_raises_a_childs_error():
    mp = ember.multiprocessing
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies() and mp.Queue is not None
    mp.set_sharing_strategy("file_system")
    assert mp.get_sharing_strategy() == "file_system"
    mp.set_sharing_strategy("file_descriptor")
    context = mp.get_context("fork")
    queue = context.SimpleQueue()
    mp.start_processes(_child, args=(queue, False), nprocs=2, start_method="fork")
    assert sorted(queue.get() for _ in range(2)) == [(0, 0.0), (1, 2.0)]
    with pytest.raises(mp.ProcessRaisedException, match="ValueError: process 1 refuses"):
        mp.start_processes(_child, args=(context.SimpleQueue(), True), nprocs=2, start_method="fork")


def test_hub_fetches_a_checkpoint_into_its_cache_once(tmp_path, monkeypatch):
    state = ember.nn.Linear(3, 2).state_dict()
    source = tmp_path / "source.pth"
    ember.save(state, source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    named = tmp_path / f"linear-{digest[:8]}.pth"  # torchvision's naming: the digest's first hex digits
    named.write_bytes(source.read_bytes())
    ember.hub.set_dir(tmp_path / "hub")
    try:
        assert ember.hub.get_dir() == str(tmp_path / "hub")
        loaded = ember.hub.load_state_dict_from_url(named.as_uri(), check_hash=True, progress=False)
        assert all(ember.equal(loaded[k], state[k]) for k in state)
        cached = pathlib.Path(ember.hub.get_dir()) / "checkpoints" / named.name
        assert cached.exists()
        named.unlink()  # a second call reads the cache
        assert ember.utils.model_zoo.load_url(named.as_uri(), progress=False).keys() == state.keys()
        wrong = tmp_path / "linear-00000000.pth"
        wrong.write_bytes(source.read_bytes())
        with pytest.raises(RuntimeError, match="invalid hash value"):
            ember.hub.load_state_dict_from_url(wrong.as_uri(), check_hash=True, progress=False)
        assert not (cached.parent / wrong.name).exists()  # no partial file left behind
    finally:
        ember.hub._hub_dir[0] = None
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert ember.hub.get_dir() == os.path.join(str(tmp_path / "th"), "hub")
    with pytest.raises(NotImplementedError, match="runs no repository's hubconf.py"):
        ember.hub.load("pytorch/vision", "resnet18")


def test_usage_logging_entry_points_exist_and_do_nothing():
    # torchmetrics, Lightning and torchvision call torch._C._log_api_usage_once on import and use
    assert ember._C._log_api_usage_once("torchmetrics.metric") is None
    assert ember._C._log_api_usage_metadata("x", {"k": "v"}) is None
    assert ember._C._get_tracing_state() is None  # pyro asks whether the TorchScript tracer runs


def test_overrides_and_other_import_time_names():
    # a plain tensor and a number do not dispatch; a mode sees the block's calls (tests/test_torch_function.py)
    assert not ember.overrides.has_torch_function((ember.ones(1),))
    assert ember.overrides.is_tensor_like(ember.ones(1)) and not ember.overrides.is_tensor_like(1.0)

    class Counting(ember.overrides.TorchFunctionMode):
        calls = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            Counting.calls += 1
            return func(*args, **(kwargs or {}))

    with Counting():
        assert ember.add(ember.ones(1), 1).item() == 2.0
    assert Counting.calls == 2  # ones, add (item, bound outside the registry, does not dispatch: README)
    from ember.distributed.constants import default_pg_timeout

    assert default_pg_timeout == ember.distributed.default_pg_timeout
    assert isinstance(ember.Tensor, ember._C._TensorMeta)
    from ember.storage import TypedStorage, UntypedStorage

    assert isinstance(ember.ones(2).untyped_storage(), UntypedStorage) and TypedStorage is ember.TypedStorage


def test_pytorch_file_reader_and_writer_copy_a_checkpoints_records(tmp_path):
    state = {"w": ember.arange(6.0).reshape(2, 3), "n": 3}
    ember.save(state, tmp_path / "ckpt.pt")
    reader = ember.PyTorchFileReader(str(tmp_path / "ckpt.pt"))
    records = reader.get_all_records()
    assert "data.pkl" in records and reader.has_record("data/0") and not reader.has_record("nothing")
    assert reader.get_storage_from_record("data/0", 6, ember.float32).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(RuntimeError, match="failed locating file nothing"):
        reader.get_record("nothing")
    raw = (tmp_path / "ckpt.pt").read_bytes()
    offset = reader.get_record_offset("data.pkl")
    assert raw[offset : offset + 2] == reader.get_record("data.pkl")[:2]
    writer = ember.PyTorchFileWriter(str(tmp_path / "copy.pt"))
    for name in records:
        if name != ".data/version":
            writer.write_record(name, reader.get_record(name), len(reader.get_record(name)))
    writer.write_end_of_file()
    extra = ember.PyTorchFileWriter(str(tmp_path / "storage.pt"))
    extra.write_record("s", ember.arange(3.0).untyped_storage(), 12)  # a storage's bytes, as PyTorch's
    extra.write_end_of_file()
    stored = ember.PyTorchFileReader(str(tmp_path / "storage.pt")).get_storage_from_record("s", 3, ember.float32)
    assert stored.tolist() == [0.0, 1.0, 2.0]
    copied = ember.load(tmp_path / "copy.pt")
    assert copied["n"] == 3 and ember.equal(copied["w"], state["w"])
    torch = pytest.importorskip("torch")
    assert torch.load(tmp_path / "copy.pt")["w"].tolist() == state["w"].tolist()


def test_names_lightning_imports():
    # with these (and the modules above) PyTorch Lightning's Trainer.fit runs through an import alias
    assert not isinstance(ember.nn.Linear(1, 1), (ember.ScriptModule, ember.ScriptFunction))
    assert isinstance(ember.fx.symbolic_trace(ember.nn.Linear(1, 1)), ember.fx.GraphModule)  # tests/test_fx.py
    counter = ember.utils.flop_counter.FlopCounterMode(display=False)
    assert counter.get_total_flops() == 0 and counter.get_flop_counts() == {}
    with pytest.raises(NotImplementedError, match="needs a __torch_dispatch__ hook"):
        with counter:
            pass
    with ember.autograd.profiler.emit_nvtx(record_shapes=True):
        ember.ones(2).exp()
    parse = ember._C._nn._parse_to
    assert parse("cpu", ember.float16, True) == (ember.device("cpu"), ember.float16, True, None)
    assert parse(ember.ones(1, dtype=ember.float64)) == (ember.device("cpu"), ember.float64, False, None)
    assert parse(dtype=ember.float32, memory_format=ember.channels_last)[3] is ember.channels_last


def test_names_kornia_imports():
    # kornia asks whether a tensor is fake or a proxy mode traces, and reads the hub's checkpoint-name pattern
    from ember._subclasses.fake_tensor import FakeTensor, FakeTensorMode, is_fake
    from ember.fx.experimental.proxy_tensor import get_proxy_mode, make_fx

    assert not is_fake(ember.ones(1)) and not isinstance(ember.ones(1), FakeTensor)
    assert get_proxy_mode() is None
    with pytest.raises(NotImplementedError, match="needs a __torch_dispatch__ hook"):
        with FakeTensorMode():
            pass
    with pytest.raises(NotImplementedError, match="__torch_dispatch__"):
        make_fx(lambda x: x)
    assert ember.hub.HASH_REGEX.search("resnet18-f37072fd.pth").group(1) == "f37072fd"
    assert ember.hub.ENV_TORCH_HOME == "TORCH_HOME"


def test_futures_complete_once_chain_and_collect():
    from ember.futures import Future, collect_all, wait_all

    f = Future()
    seen = []
    f.add_done_callback(lambda done: seen.append(done.value()))
    chained = f.then(lambda done: done.value() + 1)
    assert not f.done() and not chained.done()
    with pytest.raises(RuntimeError, match="has not completed yet"):
        f.value()
    f.set_result(3)
    assert f.done() and f.wait() == 3 and chained.wait() == 4 and seen == [3]
    with pytest.raises(RuntimeError, match="can only be marked completed once"):
        f.set_result(4)
    failed = Future()
    after = failed.then(lambda done: done.value())
    failed.set_exception(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        failed.wait()
    with pytest.raises(RuntimeError, match="Got the following error when running the callback: ValueError: bad"):
        after.wait()
    assert wait_all([f, chained]) == [3, 4] and collect_all([]).wait() == []
    # a Future completed from another thread wakes its waiter
    import threading

    later = Future()
    threading.Timer(0.01, later.set_result, args=("done",)).start()
    assert later.wait() == "done"
    assert ember.jit.fork(lambda x: x * 2, 3).wait() == 6 and ember.Future is Future


def test_tensor_methods_are_hashable_as_pytorchs_method_descriptors():
    # __torch_function__ tables key dicts by Tensor methods (linear_operator: HANDLED[torch.Tensor.matmul])
    import collections.abc

    handled = {ember.Tensor.matmul: "matmul", ember.Tensor.add: "add"}
    assert handled[ember.Tensor.matmul] == "matmul" and ember.Tensor.add in handled
    assert isinstance(ember.Tensor.matmul, collections.abc.Hashable)
    assert ember.Tensor.matmul == ember.Tensor.matmul and ember.Tensor.matmul != ember.Tensor.add
    assert ember.ones(2).add(1).tolist() == [2.0, 2.0]  # binding to an instance is unchanged


def test_serialization_names_libraries_import(tmp_path):
    from ember import serialization as ser

    assert ser.MAP_LOCATION is not None and ser.FileLike is not None and issubclass(ser.SourceChangeWarning, Warning)
    assert ser.get_default_load_endianness() is None
    ser.set_default_load_endianness(ser.LoadEndianness.LITTLE)
    assert ser.get_default_load_endianness() is ser.LoadEndianness.LITTLE
    ser.set_default_load_endianness(None)
    with pytest.raises(TypeError, match="Invalid argument type"):
        ser.set_default_load_endianness("big")
    assert ser.location_tag(ember.ones(1)) == "cpu"
    assert ser.check_module_version_greater_or_equal(np, (1, 0)) and not ser.check_module_version_greater_or_equal(
        np, (999,)
    )


def test_pytree_key_paths_name_each_leaf():
    tree = {"a": [1, (2, 3)], "b": Point(4, 5), "c": collections.OrderedDict(z=6)}
    keyed, spec = pytree.tree_flatten_with_path(tree)
    assert [pytree.keystr(path) for path, _ in keyed] == [
        "['a'][0]", "['a'][1][0]", "['a'][1][1]", "['b'].x", "['b'].y", "['c']['z']"
    ]  # fmt: skip
    assert [leaf for _, leaf in keyed] == [1, 2, 3, 4, 5, 6] and spec == pytree.tree_structure(tree)
    assert keyed[0][0] == (pytree.MappingKey("a"), pytree.SequenceKey(0)) and keyed[0][0][1].get([7]) == 7
    assert pytree.tree_map_with_path(lambda path, x: pytree.keystr(path), {"k": [0, 0]}) == {
        "k": ["['k'][0]", "['k'][1]"]
    }
    assert pytree._dict_flatten_with_keys({"a": 1}) == ([(pytree.MappingKey("a"), 1)], ["a"])
    # a node registered without flatten_with_keys_fn has no paths (PyTorch's error)
    with pytest.raises(ValueError, match="Did not find a flatten_with_keys_fn"):
        pytree.tree_flatten_with_path(Pair(1, 2))


def test_distributed_sharding_names_are_values_and_sharding_raises():
    from ember.distributed import _functional_collectives as funcol
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
    from ember.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
    from ember.distributed.tensor.placement_types import _StridedShard

    assert (
        Shard(1) == Shard(1) and Shard(0) != Shard(1) and str(Shard(0)) == "S(0)" and repr(Replicate()) == "Replicate()"
    )
    assert (
        Partial().reduce_op == "sum"
        and Shard(0).is_shard()
        and Replicate().is_replicate()
        and len({Shard(2), Shard(2)}) == 1
    )
    assert [Shard.local_shard_size_and_offset(10, 3, r) for r in range(3)] == [(4, 0), (4, 4), (2, 8)]
    assert _StridedShard(0, split_factor=2).split_factor == 2
    assert not isinstance(ember.ones(1), DTensor) and not isinstance(ember.nn.Linear(1, 1), FSDPModule)
    assert MixedPrecisionPolicy(param_dtype=ember.bfloat16).param_dtype is ember.bfloat16
    for make in (lambda: distribute_tensor(ember.ones(2), None, [Shard(0)]), lambda: fully_shard(ember.nn.Linear(1, 1)),
                 lambda: init_device_mesh("cpu", (2,)), lambda: DTensor()):  # fmt: skip
        with pytest.raises(NotImplementedError, match="ember"):
            make()
    t = ember.ones(2)
    assert funcol.wait_tensor(t) is t
    from ember._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex

    with TransformGetItemToIndex():  # ember's vmap indexes by 0-d batched tensors already
        picked = ember.func.vmap(lambda i: t.cumsum(0)[i])(ember.tensor([1, 0]))
    assert picked.tolist() == [2.0, 1.0]


def test_join_and_generic_streams_as_single_process_code_meets_them():
    from ember.distributed.algorithms.join import Join, Joinable, JoinHook

    assert JoinHook().main_hook() is None and JoinHook().post_hook(True) is None
    with pytest.raises(TypeError, match="abstract"):
        Joinable()  # a joinable names its hook, device and process group
    with pytest.raises(ValueError, match="requires at least one joinable"):
        Join([])
    with Join([object()], enable=True):  # one process (no MPI job): nothing to shadow
        pass
    stream = ember.Stream()  # the CPU's: nothing queued
    assert stream.query() and stream.synchronize() is None and stream.device_type == "cpu"
    assert repr(stream) == "ember.Stream device_type=cpu, device_index=-1, stream_id=0"
    event = stream.record_event()
    assert isinstance(event, ember.Event) and event.query() and ember.Stream(device="cpu") == stream
    with pytest.raises(RuntimeError, match="CPU events record no time"):
        event.elapsed_time(ember.Event())
    # a device string ember has no such device for names none of its devices (accelerate asks device == "npu")
    assert ember.device("cpu") != "npu" and not (ember.device("cpu") == "xpu:0") and ember.device("cpu") == "cpu"
    assert pytree._dict_flatten({"a": 1, "b": 2}) == ([1, 2], ["a", "b"])
    with pytest.raises(TypeError, match="to\\(\\) received an invalid combination of arguments: list"):
        ember.ones(1).to([1])  # an unhashable argument keeps to()'s own error


def test_annotation_aliases_and_factory_keywords_libraries_use():
    import ember.types as types
    from ember.distributed._tensor.experimental import implicit_replication
    from ember.utils.data.dataloader import T_co, _collate_fn_t, _worker_init_fn_t

    assert types.Number == typing.Union[int, float, bool] and types._dtype is ember.dtype and types._int is int
    assert typing.get_args(_collate_fn_t)[1] is typing.Any and _worker_init_fn_t is not None and T_co.__covariant__
    with implicit_replication():  # every ember tensor is plain: nothing to replicate
        pass
    ember.manual_seed(0)
    drawn = ember.normal(0.0, 2.0, size=(4000,), device="cpu", dtype=ember.float64)  # opacus' noise
    assert drawn.dtype == ember.float64 and abs(drawn.std().item() - 2.0) < 0.1
    with pytest.raises(RuntimeError, match="supports only the strided layout"):
        ember.normal(0.0, 1.0, size=(2,), layout="sparse")


def test_config_describes_this_build():
    shown = ember.__config__.show()
    assert "USE_MKL=OFF" in shown and "OpenBLAS" in shown and ember.version.__version__ in shown
    assert f"at::get_num_threads() : {ember.get_num_threads()}" in ember.__config__.parallel_info()


def test_misuse_of_the_added_modules_names_what_is_wrong():
    import ember.distributed.nn as dist_nn

    with pytest.raises(TypeError, match=r"ember.distributed.nn.all_reduce\(\): expected a Tensor, got NoneType"):
        dist_nn.all_reduce(None)
    with pytest.raises(TypeError, match=r"ember.distributed.nn.scatter\(\): expected a Tensor, got list"):
        dist_nn.scatter([[1.0]])
    with pytest.raises(TypeError, match="Expected `treespec` to be instance of TreeSpec"):
        pytree.tree_unflatten([1], None)


def test_functorch_batching_entry_points_act_on_vmaps_batches():
    """``torch._C._functorch`` (tensordict imports from it): levels numbered from 1 for the outermost vmap."""
    from ember._C._functorch import (
        _add_batch_dim,
        _remove_batch_dim,
        current_level,
        get_unwrapped,
        is_batchedtensor,
        maybe_get_level,
    )
    from ember._C._nn import _parse_to

    assert current_level() == -1 and not is_batchedtensor(ember.ones(2)) and maybe_get_level(ember.ones(2)) == -1
    weights = ember.arange(12.0).reshape(3, 4)

    def per_row(r):
        level = current_level()
        w = _add_batch_dim(weights, 1, level)  # column j of weights for entry j
        assert is_batchedtensor(w) and maybe_get_level(w) == level and tuple(w.shape) == (3,)
        assert tuple(get_unwrapped(w).shape) == (4, 3)
        return r * w.sum()

    np.testing.assert_allclose(ember.vmap(per_row)(ember.ones(4)).numpy(), weights.sum(0).numpy())
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        ember.vmap(lambda r: _add_batch_dim(weights, 0, current_level()) * r)(ember.ones(4))
    with pytest.raises(RuntimeError, match="no vmap of level 3 is running"):
        _add_batch_dim(weights, 0, 3)
    with pytest.raises(RuntimeError, match="expected a tensor wrapped"):
        get_unwrapped(weights)
    assert tuple(_remove_batch_dim(ember.ones(2, 3), 1, 5, 1).shape) == (2, 5, 3)  # not batched: repeated
    assert tuple(_remove_batch_dim(ember.ones(2, 3), 1, 5, -1).shape) == (2, 3, 5)
    with pytest.raises(TypeError, match="_add_batch_dim\\(\\): argument 'self' must be Tensor, not NoneType"):
        ember.vmap(lambda r: _add_batch_dim(None, 0, current_level()) * r)(ember.ones(4))
    with pytest.raises(TypeError, match="argument 'data' \\(position 2\\) must be Tensor, not list"):
        ember.Tensor._make_subclass(nn.Parameter, [1.0])
    assert _parse_to("cpu", ember.float64)[1] == ember.float64


def test_weak_id_key_dictionary_forgets_collected_tensors():
    import gc

    from ember.utils.weak import TensorWeakRef, WeakIdKeyDictionary, WeakIdRef, WeakTensorKeyDictionary

    cache = WeakTensorKeyDictionary()
    assert WeakTensorKeyDictionary is WeakIdKeyDictionary
    a, b = ember.ones(2), ember.ones(2)  # equal values, two keys: tensors are told apart by identity
    cache[a], cache[b] = "a", "b"
    assert len(cache) == 2 and cache[a] == "a" and b in cache and ember.ones(2) not in cache and 3 not in cache
    assert WeakIdRef(a) == WeakIdRef(a) and WeakIdRef(a) != WeakIdRef(b) and hash(WeakIdRef(a)) == id(a)
    ref = TensorWeakRef(b)
    del a
    gc.collect()
    assert list(cache.values()) == ["b"] and ref() is b
    copied = cache.copy()
    del cache[b]
    assert len(cache) == 0 and copied[b] == "b"


def test_worker_seeds_numpy_with_pytorchs_words():
    """``_utils.worker._generate_state``: numpy's SeedSequence of (worker id, base seed halves, 0), as PyTorch's
    DataLoader seeds each worker's numpy; a worker's numpy draws follow from it."""
    from ember.utils.data._utils.worker import _generate_state

    base = 2**40 + 12345
    words = _generate_state(base, 3)
    assert len(words) == 4 and all(0 <= w < 2**32 for w in words) and words != _generate_state(base, 2)
    want = np.random.SeedSequence([3, base & 0xFFFFFFFF, base >> 32, 0]).generate_state(4).tolist()
    assert words == want

    class Draws(ember.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            info = ember.utils.data.get_worker_info()
            return np.random.randint(0, 2**31), info.seed - info.id

    # item i is fetched by worker i (round robin, as PyTorch's)
    drawn = [(int(d), int(s)) for d, s in ember.utils.data.DataLoader(Draws(), batch_size=None, num_workers=2)]
    for worker_id, (value, base_seed) in enumerate(drawn):
        np.random.seed(_generate_state(base_seed, worker_id))
        assert value == np.random.randint(0, 2**31)


def test_return_types_are_pytorchs_structseqs():
    """x.max(0) & co are ember.return_types classes: fields by name, built from one sequence too (tensordict
    rebuilds them so), pickled by name, printed field by field, structseqs for pytree."""
    import pickle

    from ember.utils._pytree import is_structseq_instance, tree_flatten, tree_unflatten

    x = ember.tensor([[1.0, 5.0], [3.0, 2.0]])
    r = x.max(0)
    assert type(r) is ember.return_types.max and r.values.tolist() == [3.0, 5.0] and r.indices.tolist() == [1, 0]
    again = pickle.loads(pickle.dumps(r))
    assert type(again) is ember.return_types.max and again.indices.tolist() == [1, 0]
    rebuilt = ember.return_types.max([r.values, r.indices])
    assert type(rebuilt) is ember.return_types.max and rebuilt.values is r.values
    assert repr(r) == "ember.return_types.max(\nvalues=tensor([3., 5.]),\nindices=tensor([1, 0]))"
    assert is_structseq_instance(r) and type(tree_unflatten(*tree_flatten(r))) is ember.return_types.max
    with pytest.raises(TypeError, match="takes a 2-sequence"):
        ember.return_types.max([r.values])
    made = {
        "sort": x.sort(),
        "topk": x.topk(1),
        "mode": x.mode(0),
        "aminmax": ember.aminmax(x),
        "linalg_qr": ember.linalg.qr(x),
        "slogdet": ember.slogdet(x),
        "histogram": ember.histogram(x),
    }
    for name, result in made.items():
        assert type(result) is getattr(ember.return_types, name), name
        assert type(pickle.loads(pickle.dumps(result))) is type(result)


def test_module_registration_hooks_see_and_replace_what_is_registered():
    seen = []

    def double_params(module, name, param):
        seen.append(("param", type(module).__name__, name))
        return nn.Parameter(param.detach() * 2)

    def note(kind):
        return lambda module, name, value: seen.append((kind, type(module).__name__, name))

    handles = [
        nn.modules.module.register_module_parameter_registration_hook(double_params),
        ember.nn.register_module_buffer_registration_hook(note("buffer")),
        ember.nn.register_module_module_registration_hook(note("module")),
    ]
    try:
        block = nn.Sequential(nn.BatchNorm1d(2))
        block.extra = nn.Parameter(ember.ones(1))
    finally:
        for h in handles:
            h.remove()
    assert ("param", "BatchNorm1d", "weight") in seen and ("buffer", "BatchNorm1d", "running_mean") in seen
    assert ("module", "Sequential", "0") in seen and block.extra.item() == 2.0
    seen.clear()
    nn.Linear(2, 2)
    assert seen == []  # removed


def test_named_member_accessor_swaps_a_modules_tensors_by_name():
    from ember.nn.utils._named_member_accessor import NamedMemberAccessor, swap_submodule, swap_tensor

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    accessor = NamedMemberAccessor(model)
    weight = accessor.get_tensor("0.weight")
    assert weight is model[0].weight
    new = ember.zeros(3, 2)
    old = accessor.swap_tensor("0.weight", new)
    assert old is weight and model[0].weight is new
    orig, missing = accessor.swap_tensors_dict({"0.weight": weight, "1.running_mean": ember.ones(3)})
    assert orig["0.weight"] is new and missing == [] and model[1].running_mean.sum().item() == 3.0
    assert accessor.check_keys(["0.weight", "nope"]) == (
        ["0.bias", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight"],
        ["nope"],
    )
    with pytest.raises(AttributeError, match="Linear has no attribute `missing`"):
        swap_tensor(model[0], "missing", ember.ones(1))
    with pytest.raises(KeyError, match="contain"):
        swap_tensor(model, "0.weight", ember.ones(1))
    assert isinstance(swap_submodule(model, "1", nn.Identity()), nn.BatchNorm1d)


def test_functorch_package_and_its_functional_modules():
    """``import functorch`` under ember.as_torch is ember.functorch: the transforms and make_functional."""
    from ember import functorch

    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    fmodel, params = functorch.make_functional(model)
    x = ember.randn(4, 3)
    np.testing.assert_allclose(fmodel(params, x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    zeros = tuple(ember.zeros_like(p) for p in params)
    assert fmodel(zeros, x).abs().sum().item() == 0.0
    g = functorch.grad(lambda ps: fmodel(ps, x).sum())(params)
    assert [tuple(t.shape) for t in g] == [(2, 3), (2,)]
    with pytest.raises(RuntimeError, match="has buffers"):
        functorch.make_functional(nn.BatchNorm1d(2))
    models = [nn.Linear(3, 2) for _ in range(4)]
    fmodel, params, buffers = functorch.combine_state_for_ensemble(models)
    out = functorch.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    np.testing.assert_allclose(out[2].detach().numpy(), models[2](x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_contextlib_python_dispatch_and_device_helpers():
    from ember.utils._contextlib import _DecoratorContextManager, _NoParamDecoratorContextManager, context_decorator
    from ember.utils._python_dispatch import (
        TorchDispatchMode,
        _get_current_dispatch_mode,
        is_traceable_wrapper_subclass,
    )

    log = []

    class Logged(_NoParamDecoratorContextManager):
        def __enter__(self):
            log.append("in")

        def __exit__(self, *exc):
            log.append("out")

    @Logged
    def f(v):
        log.append(v)
        return v

    @Logged()
    def gen():
        yield 1
        yield 2

    assert f(3) == 3 and list(gen()) == [1, 2]
    assert log == ["in", 3, "out", "in", "out", "in", "out", "in", "out"]
    assert issubclass(ember.no_grad, _DecoratorContextManager)
    with pytest.raises(TypeError, match="both callable and also a valid context manager"):

        class Both:
            def __call__(self):
                return self

            def __enter__(self):
                return None

        context_decorator(Both(), f)
    assert not is_traceable_wrapper_subclass(ember.ones(1)) and _get_current_dispatch_mode() is None
    with pytest.raises(NotImplementedError, match="no __torch_dispatch__ modes"):
        with TorchDispatchMode():
            pass
    assert ember._utils._get_device_module("cuda") is ember.cuda
    assert ember._utils._get_available_device_type() in (None, "cuda")
