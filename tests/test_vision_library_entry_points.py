"""The entry points torchvision and timm reach for at import and in their models, which stopped them on
ember: dispatch keys, ``__torch_function__`` switches, Tensor subclasses built in ``__new__``, fake
registrations before an op exists, the ONNX and TorchScript annotation modules, the hub's helpers, and the
float side of quantization (``QuantStub``, ``FloatFunctional``)."""

import os
import subprocess
import sys
import textwrap
import urllib.parse

import numpy as np
import pytest

import ember
from ember import DispatchKey, DispatchKeySet


# ------------------------------------------------------------------ dispatch keys
def test_dispatch_key_sets_combine_and_print_as_pytorchs():
    autocast = DispatchKeySet(DispatchKey.AutocastCPU) | DispatchKeySet(DispatchKey.AutocastCUDA)
    assert repr(autocast) == "DispatchKeySet(AutocastCPU, AutocastCUDA)"
    assert autocast.has(DispatchKey.AutocastCUDA) and not autocast.has(DispatchKey.CPU)
    assert autocast - DispatchKeySet(DispatchKey.AutocastCUDA) == DispatchKeySet(DispatchKey.AutocastCPU)
    assert (autocast & DispatchKeySet(DispatchKey.AutocastCPU)).has(DispatchKey.AutocastCPU)
    assert autocast.remove(DispatchKey.AutocastCPU).add(DispatchKey.CPU) == DispatchKeySet(
        DispatchKey.AutocastCUDA
    ) | DispatchKeySet(DispatchKey.CPU)
    assert repr(DispatchKeySet()) == "DispatchKeySet()"
    assert DispatchKey.EndOfDenseBackends is DispatchKey.Meta  # a block's end marker is its last key
    assert ember._C.DispatchKey is DispatchKey and ember._C.DispatchKeySet is DispatchKeySet
    with pytest.raises(TypeError, match="expected a DispatchKey"):
        DispatchKeySet("CPU")


def test_dispatch_keys_name_pytorchs_keys():
    torch = pytest.importorskip("torch")
    assert set(DispatchKey.__members__) == set(torch.DispatchKey.__members__)
    # keys of one functionality each (a set of per-backend keys PyTorch widens to every backend x functionality)
    names = ["AutocastCUDA", "Python", "AutocastCPU", "ADInplaceOrView", "FuncTorchBatched", "Functionalize"]
    ours, theirs = DispatchKeySet(DispatchKey.AutocastXPU), torch._C.DispatchKeySet(torch.DispatchKey.AutocastXPU)
    for name in names:
        ours, theirs = (
            ours | DispatchKeySet(DispatchKey[name]),
            theirs | torch._C.DispatchKeySet(getattr(torch.DispatchKey, name)),
        )
    assert repr(ours) == repr(theirs)


def test_excluding_the_autocast_keys_turns_autocast_off_in_the_block():
    """torchvision runs its ops in float32 this way inside an autocast region."""
    keys = DispatchKeySet(DispatchKey.AutocastCPU) | DispatchKeySet(DispatchKey.AutocastCUDA)
    a = ember.ones(4, 4)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert (a @ a).dtype == ember.bfloat16
        with ember._C._ExcludeDispatchKeyGuard(keys):
            assert (a @ a).dtype == ember.float32
            assert not ember.is_autocast_enabled("cpu")
        assert (a @ a).dtype == ember.bfloat16


def test_excluding_the_autograd_keys_records_no_graph():
    x = ember.ones(3, requires_grad=True)
    with ember._C._ExcludeDispatchKeyGuard(DispatchKeySet(DispatchKey.AutogradCPU)):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with ember._C._ExcludeDispatchKeyGuard(DispatchKeySet(DispatchKey.Python)):  # a layer ember does not have
        assert (x * 2).requires_grad
    with pytest.raises(TypeError, match="expected a DispatchKeySet"):
        ember._C._ExcludeDispatchKeyGuard(DispatchKey.AutogradCPU)


def test_torch_function_switches_run_the_block():
    a, b = ember.ones(2), ember.full((2,), 3.0)
    with ember.DisableTorchFunctionSubclass() as guard:
        assert isinstance(guard, ember._C.DisableTorchFunctionSubclass)
        np.testing.assert_array_equal((a + b).numpy(), [4.0, 4.0])
    with ember._C.DisableTorchFunction():
        pass
    result = ember._C._disabled_torch_function_impl(ember.add, (ember.Tensor,), (a, b), {"alpha": 2})
    np.testing.assert_array_equal(result.numpy(), [7.0, 7.0])


# ------------------------------------------------------------------ Tensor subclasses built in __new__
class BoxLike(ember.Tensor):
    """As torchvision's tv_tensors.BoundingBoxes: built in __new__, with keywords of its own."""

    def __new__(cls, data, *, format, canvas_size):
        boxes = ember.as_tensor(data, dtype=ember.float32).as_subclass(cls)
        boxes.format, boxes.canvas_size = format, canvas_size
        return boxes


def test_a_subclass_built_in_new_keeps_its_keywords_from_init():
    boxes = BoxLike([[1, 2, 3, 4]], format="XYXY", canvas_size=(10, 10))
    assert type(boxes) is BoxLike and boxes.format == "XYXY" and boxes.canvas_size == (10, 10)
    np.testing.assert_array_equal(boxes.numpy(), [[1, 2, 3, 4]])
    with pytest.raises(TypeError, match="unexpected keyword argument 'format'"):
        ember.Tensor([1.0], format="XYXY")
    assert ember.Tensor(2, 3).shape == (2, 3)  # the legacy constructor is unchanged
    p = ember.nn.Parameter(ember.ones(2))
    assert p.requires_grad and type(p) is ember.nn.Parameter


def test_make_subclass_is_a_new_leaf_sharing_memory():
    data = ember.ones(3, requires_grad=True) * 2
    made = ember.Tensor._make_subclass(BoxLike, data, True)
    assert type(made) is BoxLike and made.is_leaf and made.requires_grad
    assert made.data_ptr() == data.data_ptr()
    assert not ember.Tensor._make_subclass(BoxLike, data).requires_grad


# ------------------------------------------------------------------ custom-op registry
def test_a_fake_registered_before_its_op_is_defined_is_used():
    """torchvision registers its ops' shape functions at import, whether or not its compiled ops loaded."""
    ember.library.register_fake("entrytest::double_rows")(lambda x: x.new_empty((2 * x.shape[0], *x.shape[1:])))

    @ember.library.custom_op("entrytest::double_rows", mutates_args=())
    def double_rows(x: ember.Tensor) -> ember.Tensor:
        return ember.cat([x, x])

    assert double_rows(ember.empty(3, 4, device="meta")).shape == (6, 4)
    np.testing.assert_array_equal(double_rows(ember.arange(2.0)).numpy(), [0, 1, 0, 1])


def test_compiled_operator_libraries_are_refused_with_oserror():
    with pytest.raises(OSError, match="cannot load the compiled operator library '/x/_C.so'"):
        ember.ops.load_library("/x/_C.so")
    assert ember.library.get_ctx() is None
    from ember import _custom_ops

    assert _custom_ops.get_ctx() is None


# ------------------------------------------------------------------ ONNX, TorchScript and compile names
def test_onnx_translations_register_without_an_exporter():
    from ember.onnx import symbolic_opset11
    from ember.onnx.symbolic_helper import parse_args

    def translate(g, boxes):
        return symbolic_opset11.unsqueeze(g, boxes, 0)

    assert parse_args("v", "f")(translate) is translate
    ember.onnx.register_custom_op_symbolic("entrytest::nms", translate, 11)
    assert ember.onnx._custom_symbolics[("entrytest::nms", 11)] is translate
    ember.onnx.unregister_custom_op_symbolic("entrytest::nms", 11)
    with pytest.raises(ValueError, match="domain::name"):
        ember.onnx.register_custom_op_symbolic("nms", translate, 11)
    assert ember.onnx.TensorProtoDataType.FLOAT == 1 and ember.onnx.TensorProtoDataType.INT64 == 7
    import ember.onnx.symbolic_opset9 as opset9

    assert opset9.__name__ == "ember.onnx.symbolic_opset9"
    with pytest.raises(AttributeError):
        ember.onnx.symbolic_opset99  # noqa: B018


def test_torchscript_annotation_helpers():
    import typing

    from ember.jit.annotations import BroadcastingList2, List, Optional

    def f(x):
        return x

    assert ember.jit._script_if_tracing(f) is f
    assert BroadcastingList2[int] is None and List is typing.List and Optional is typing.Optional


def test_compile_is_supported_where_ember_compile_runs():
    from ember._dynamo.utils import is_compile_supported

    assert is_compile_supported("cpu") and is_compile_supported("cuda:0")
    assert not is_compile_supported("meta")


# ------------------------------------------------------------------ hub
def test_torch_home_and_hub_dir_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert ember.hub._get_torch_home() == str(tmp_path / "th")
    assert ember.hub.get_dir() == os.path.join(str(tmp_path / "th"), "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ember.hub._get_torch_home() == str(tmp_path / "cache" / "torch")
    assert ember.hub.urlparse is urllib.parse.urlparse


def test_hub_progress_bar_is_tqdms_and_download_reports_progress(tmp_path, capsys):
    tqdm = pytest.importorskip("tqdm")
    assert ember.hub.tqdm is tqdm.tqdm and ember.utils.model_zoo.tqdm is tqdm.tqdm
    source = tmp_path / "weights.bin"
    source.write_bytes(b"x" * 5000)
    ember.hub.download_url_to_file(source.as_uri(), str(tmp_path / "copy.bin"), hash_prefix="", progress=True)
    assert (tmp_path / "copy.bin").read_bytes() == b"x" * 5000
    assert "100%" in capsys.readouterr().err


def test_hub_fallback_progress_prints_percentages(capsys):
    with ember.hub._Progress(total=200) as bar:
        bar.update(50)
        bar.update(150)
    assert capsys.readouterr().err == "\r25.0%\r100.0%\n"
    with ember.hub._Progress(total=10, disable=True) as bar:
        bar.update(10)
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ quantization's float side
def test_quant_stubs_pass_their_input_and_quantizing_raises():
    from ember.ao.quantization import DeQuantStub, QConfig, QuantStub, prepare

    x = ember.ones(2)
    assert QuantStub()(x) is x and DeQuantStub()(x) is x
    config = QConfig(activation="a", weight="w")
    assert config.activation == "a" and config.weight == "w"
    model = ember.nn.Sequential(QuantStub(), ember.nn.Linear(2, 2), DeQuantStub())
    with pytest.raises(NotImplementedError, match="no quantized tensors"):
        prepare(model)


def test_float_functional_computes_in_float():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    ta, tb = ember.tensor(a), ember.tensor(b)
    ff = ember.nn.quantized.FloatFunctional()
    np.testing.assert_allclose(ff.add(ta, tb).numpy(), a + b)
    np.testing.assert_allclose(ff.mul(ta, tb).numpy(), a * b)
    np.testing.assert_allclose(ff.add_relu(ta, tb).numpy(), np.maximum(a + b, 0))
    np.testing.assert_allclose(ff.matmul(ta, tb).numpy(), a @ b)
    np.testing.assert_allclose(ff.cat([ta, tb], dim=1).numpy(), np.concatenate([a, b], 1))
    np.testing.assert_allclose(ff.add_scalar(ta, 2.0).numpy(), a + 2)
    np.testing.assert_allclose(ff.mul_scalar(ta, 2.0).numpy(), a * 2)
    with pytest.raises(RuntimeError, match="FloatFunctional is not intended to use the 'forward'"):
        ff(ta)
    x = ember.tensor(a, requires_grad=True)
    y = ember.tensor(b, requires_grad=True)
    assert ember.autograd.gradcheck(lambda p, q: ff.add_relu(p, q) * ff.mul(p, q), (x, y))


# ------------------------------------------------------------------ as torch
def test_the_modules_resolve_under_as_torch():
    code = """
        import ember.as_torch
        import torch
        from torch.ao.quantization import QuantStub
        from torch.jit.annotations import BroadcastingList2
        from torch.onnx import symbolic_opset11
        from torch.onnx.symbolic_helper import parse_args
        from torch._dynamo.utils import is_compile_supported
        from torch.hub import _get_torch_home, tqdm, urlparse
        from torch.utils.model_zoo import tqdm
        import torch._custom_ops
        keys = torch._C.DispatchKeySet(torch._C.DispatchKey.AutocastCPU)
        with torch._C._ExcludeDispatchKeyGuard(keys), torch._C.DisableTorchFunctionSubclass():
            pass
        # reached as attributes after `import torch` alone, as PyTorch imports them (Lightning's loader)
        assert torch._utils._element_size(torch.float32) == 4 and callable(torch._higher_order_ops.scan)
        print("ok", type(torch.nn.quantized.FloatFunctional()).__name__)
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ok FloatFunctional" in result.stdout


# ------------------------------------------------------------------ ultralytics
def test_arange_takes_end_as_a_keyword():
    """ultralytics' assigner writes torch.arange(end=batch_size)."""
    assert ember.arange(end=4).tolist() == [0, 1, 2, 3] and ember.arange(end=4).dtype == ember.int64
    assert ember.arange(2, end=5).tolist() == [2, 3, 4] and ember.arange(start=1, end=3).tolist() == [1, 2]
    assert ember.arange(end=3, dtype=ember.float64, device="meta").shape == (3,)
    with pytest.raises(TypeError, match='missing 1 required positional arguments: "end"'):
        ember.arange()


def test_tracer_warning_is_a_warning_category():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=ember.jit.TracerWarning)
        warnings.warn("a trace", ember.jit.TracerWarning, stacklevel=1)
        warnings.warn("kept", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["kept"]


# ------------------------------------------------------------------ fastai
class _LoaderOfItsOwn:
    """As fastai's _FakeLoader: not a DataLoader, it hands PyTorch's iterator classes the attributes they read;
    its dataset is itself, iterating ready batches."""

    _IterableDataset_len_called, _auto_collation, drop_last, in_order = None, False, False, True
    prefetch_factor, generator, timeout, pin_memory = 2, None, 0, False
    _dataset_kind = 1  # _DatasetKind.Iterable

    def __init__(self, batches, num_workers=0):
        self.dataset, self.batches, self.num_workers = self, batches, num_workers
        self._index_sampler = iter(int, 1)  # endless, as fastai's Inf.count
        self.worker_init_fn = self.multiprocessing_context = None

    @staticmethod
    def collate_fn(batch):
        return batch

    def __iter__(self):
        return iter(self.batches)


@pytest.mark.parametrize("workers", [0, 2])
def test_pytorchs_iterator_classes_read_a_loader_of_its_own(workers):
    from ember.utils.data.dataloader import (
        _DatasetKind,
        _MultiProcessingDataLoaderIter,
        _SingleProcessDataLoaderIter,
    )

    assert (_DatasetKind.Map, _DatasetKind.Iterable) == (0, 1)
    batches = [ember.full((2,), float(i)) for i in range(3)]
    kind = _MultiProcessingDataLoaderIter if workers else _SingleProcessDataLoaderIter
    got = list(kind(_LoaderOfItsOwn(batches, workers)))
    want = batches * (workers or 1)  # every worker iterates its own copy of an iterable dataset, as PyTorch's
    assert sorted(b[0].item() for b in got) == sorted(b[0].item() for b in want)


def test_dataset_kind_fetchers_batch_as_pytorchs():
    from ember.utils.data.dataloader import _DatasetKind

    squares = [i * i for i in range(5)]
    fetch = _DatasetKind.create_fetcher(_DatasetKind.Map, squares, True, list, False)
    assert fetch.fetch([1, 3]) == [1, 9]
    counted = _DatasetKind.create_fetcher(_DatasetKind.Iterable, iter(range(5)), True, list, True)
    assert counted.fetch([0, 0]) == [0, 1] and counted.fetch([7, 7]) == [2, 3]
    with pytest.raises(StopIteration):
        counted.fetch([0, 0])  # one left: dropped with drop_last
    single = _DatasetKind.create_fetcher(_DatasetKind.Iterable, range(2), False, lambda x: x * 10, False)
    assert single.fetch(None) == 0 and single.fetch(None) == 10


def test_flatten_and_unflatten_dense_tensors():
    from ember._utils import _element_size, _flatten_dense_tensors, _get_device_index, _unflatten_dense_tensors

    a, b = ember.arange(6.0).reshape(2, 3), ember.tensor([7.0, 8.0])
    flat = _flatten_dense_tensors([a, b.t()])
    assert flat.tolist() == [0, 1, 2, 3, 4, 5, 7, 8]
    back = _unflatten_dense_tensors(flat, [a, b])
    assert ember.equal(back[0], a) and ember.equal(back[1], b) and back[0].data_ptr() == flat.data_ptr()
    assert _element_size(ember.float16) == 2 and _get_device_index("cuda:1") == 1
    assert _get_device_index(ember.device("cpu"), allow_cpu=True) == -1
    with pytest.raises(ValueError, match="Expected a non cpu device"):
        _get_device_index("cpu")
