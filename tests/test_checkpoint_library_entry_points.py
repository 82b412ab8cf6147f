"""What loading a Hugging Face checkpoint and running sentence-transformers, open_clip and accelerate took:
safetensors' memory-mapped storages (``UntypedStorage.from_file``, storage slices, ``asarray`` of a storage),
modules' extra state in state_dicts, buffers of models built on the meta device, ``to_dense``,
``TensorType``, checkpointing's device-state helpers, and the module paths accelerate imports."""

import numpy as np
import pytest

import ember


def _load_as_safetensors_does(path, start, stop, dtype, shape):
    """The calls safetensors' Rust loader makes (framework="pt", backend="mmap") for one tensor."""
    storage = ember.UntypedStorage.from_file(str(path), shared=False, nbytes=path.stat().st_size).untyped()
    piece = storage[start:stop]
    return ember.asarray(piece, dtype=ember.uint8, device="cpu").view(dtype=dtype).reshape(shape), storage


def test_a_checkpoint_loads_through_a_memory_mapped_storage(tmp_path):
    header = np.zeros(8, np.uint8)  # the file's first bytes, which the tensors follow
    weights = np.arange(6, dtype=np.float32).reshape(2, 3)
    ids = np.array([7, -1], dtype=np.int64)
    path = tmp_path / "model.safetensors"
    path.write_bytes(header.tobytes() + weights.tobytes() + ids.tobytes())
    w, storage = _load_as_safetensors_does(path, 8, 32, ember.float32, [2, 3])
    i, _ = _load_as_safetensors_does(path, 32, 48, ember.int64, [2])
    np.testing.assert_array_equal(w.numpy(), weights)
    np.testing.assert_array_equal(i.numpy(), ids)
    assert storage.nbytes() == 48 and storage[8:32].nbytes() == 24
    assert storage[8:32].data_ptr() == storage.data_ptr() + 8 == w.data_ptr()  # shared, not copied
    assert storage[8:32][4:8].data_ptr() == storage.data_ptr() + 12  # a slice of a slice
    assert [storage[i] for i in range(12, 16)] == [0, 0, 128, 63]  # 1.0f's bytes, little-endian
    w.mul_(2)  # copy-on-write: the tensor changes, the file does not
    assert np.fromfile(path, dtype=np.float32, count=2, offset=8)[1] == 1.0
    assert w[0, 1].item() == 2.0
    with pytest.raises(RuntimeError, match="only a step of 1"):
        storage[0:8:2]
    with pytest.raises(RuntimeError, match="fewer than"):
        ember.UntypedStorage.from_file(str(path), nbytes=100)
    with pytest.raises(RuntimeError, match="size must be non-negative, got -5"):
        ember.UntypedStorage.from_file(str(path), nbytes=-5)


def test_asarray_reads_a_storage_in_any_dtype():
    t = ember.tensor([1.0, 2.0], dtype=ember.float32)
    untyped = t.untyped_storage()
    assert ember.asarray(untyped).dtype == ember.uint8 and ember.asarray(untyped).shape == (8,)
    as_float = ember.asarray(untyped, dtype=ember.float32)
    assert as_float.tolist() == [1.0, 2.0] and as_float.data_ptr() == t.data_ptr()
    copied = ember.asarray(untyped, dtype=ember.float32, copy=True)
    assert copied.data_ptr() != t.data_ptr() and copied.tolist() == [1.0, 2.0]


# ------------------------------------------------------------------ extra state
class Counter(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = ember.nn.Linear(2, 2)
        self.count = 3

    def get_extra_state(self):
        return {"count": self.count}

    def set_extra_state(self, state):
        self.count = state["count"]


def test_extra_state_is_saved_and_loaded_as_pytorchs():
    outer = ember.nn.Sequential(Counter())
    state = outer.state_dict()
    assert list(state) == ["0._extra_state", "0.linear.weight", "0.linear.bias"]
    assert state["0._extra_state"] == {"count": 3}
    fresh = ember.nn.Sequential(Counter())
    fresh[0].count = 0
    assert fresh.load_state_dict(state) == ([], []) and fresh[0].count == 3
    del state["0._extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0._extra_state"'):
        fresh.load_state_dict(state)
    assert fresh.load_state_dict(state, strict=False).missing_keys == ["0._extra_state"]  # listed, not raised
    plain = ember.nn.Linear(2, 2)
    extra = dict(plain.state_dict(), _extra_state=1)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "_extra_state"'):
        plain.load_state_dict(extra)
    with pytest.raises(RuntimeError, match="should never be called"):
        plain.get_extra_state()
    from ember.nn.modules.module import _EXTRA_STATE_KEY_SUFFIX

    assert _EXTRA_STATE_KEY_SUFFIX == "_extra_state"


def test_extra_state_matches_pytorch():
    torch = pytest.importorskip("torch")

    class TorchCounter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)

        def get_extra_state(self):
            return 5

        def set_extra_state(self, state):
            pass

    theirs = torch.nn.Sequential(TorchCounter()).state_dict()
    ours = ember.nn.Sequential(Counter()).state_dict()
    assert list(ours) == list(theirs)


# ------------------------------------------------------------------ models on the meta device
def test_buffers_of_meta_tensors_register_as_buffers():
    """transformers builds a model on the meta device before loading its weights (BERT's position ids)."""

    class WithPositions(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.positions = ember.nn.Buffer(ember.arange(4, device="meta"), persistent=False)
            self.scale = ember.nn.Buffer(ember.ones(2))

    module = WithPositions()
    assert dict(module.named_buffers())["positions"].device.type == "meta"
    assert list(module.state_dict()) == ["scale"]
    meta = ember.empty(2, device="meta")
    meta.tag = "kept"  # a meta tensor takes attributes, as any tensor
    assert meta.tag == "kept"


# ------------------------------------------------------------------ smaller names
def test_to_dense_of_a_strided_tensor_is_itself():
    x = ember.ones(2, requires_grad=True)
    assert x.to_dense() is x
    y = x.to_dense(ember.float64)
    assert y.dtype == ember.float64 and y.grad_fn is not None
    with pytest.raises(TypeError, match="argument 'dtype' \\(position 1\\) must be torch.dtype, not str"):
        x.to_dense("float")


def test_tensor_type_is_a_name_for_annotations():
    assert str(ember.TensorType.get()) == "Tensor" and ember.TensorType.get() is ember.TensorType.get()


def test_device_states_of_cpu_arguments_are_empty():
    from ember.utils.checkpoint import get_device_states, set_device_states

    assert get_device_states(ember.ones(2), [ember.zeros(1)], 3) == ([], [])
    set_device_states([], [])  # nothing to set


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a CUDA device (or the emulation)")
def test_device_states_replay_a_gpu_draw():
    from ember.utils.checkpoint import get_device_states, set_device_states

    x = ember.ones(2, device="cuda")
    devices, states = get_device_states({"a": [x]}, x)
    assert devices == [0, 0] and len(states) == 2
    first = ember.rand(3, device="cuda")
    set_device_states(devices[:1], states[:1])
    assert ember.equal(ember.rand(3, device="cuda"), first)


def test_the_module_paths_accelerate_imports():
    from ember._dynamo.eval_frame import OptimizedModule
    from ember.distributed.fsdp.fully_sharded_data_parallel import FullyShardedDataParallel

    assert ember._dynamo.eval_frame.OptimizedModule is OptimizedModule
    assert not isinstance(ember.nn.Linear(1, 1), OptimizedModule)
    with pytest.raises(NotImplementedError, match="shards no parameters"):
        FullyShardedDataParallel(ember.nn.Linear(1, 1))


# ------------------------------------------------------------------ devices and meta parameters
def test_pytorchs_other_device_types_parse_and_refuse_tensors():
    """Note [Other device types]: peft compares a device with ``torch.device("mps")`` on any machine."""
    import pickle

    mps = ember.device("mps")
    assert str(mps) == "mps" and mps.type == "mps" and mps.index is None
    assert repr(ember.device("xpu", 1)) == "device(type='xpu', index=1)" and str(ember.device("hip:2")) == "hip:2"
    assert mps == "mps" and mps != ember.device("cpu") and ember.device("mps:0") == ember.device("mps", 0)
    assert ember.device("cuda") != ember.device("xpu") and hash(mps) == hash(ember.device("mps"))
    assert pickle.loads(pickle.dumps(ember.device("xla:1"))) == ember.device("xla:1")
    for make in (lambda: ember.zeros(1, device="mps"), lambda: ember.ones(1).to("mps"),
                 lambda: ember.nn.Linear(1, 1).to("xpu"), lambda: ember.tensor([1.0], device="hpu:0")):  # fmt: skip
        with pytest.raises(RuntimeError, match="ember has no (mps|xpu|hpu) backend"):
            make()
    with pytest.raises(RuntimeError, match="Device index must not be negative"):
        ember.device("mps", -2)
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, ipu, xpu, .* device type at start of device"):
        ember.device("npu")
    assert ember.device("cpu") != "npu"


def test_the_class_of_a_meta_parameter_remakes_a_parameter_from_data():
    """accelerate loads weights into a model built on the meta device as type(p)(data, requires_grad=...)."""
    with ember.device("meta"):
        layer = ember.nn.Linear(2, 3)
    meta_weight = layer._parameters["weight"]
    assert isinstance(meta_weight, ember.nn.Parameter) and meta_weight.device.type == "meta"
    loaded = type(meta_weight)(ember.ones(3, 2), requires_grad=False)
    assert type(loaded) is ember.nn.Parameter and not loaded.requires_grad and loaded.device.type == "cpu"
    layer._parameters["weight"] = loaded
    assert type(meta_weight)(ember.empty(2, device="meta")).device.type == "meta"


def test_instance_norm_is_a_norm_base_not_a_batch_norm():
    """As PyTorch's classes: thop counts norms by _NormBase; convert_sync_batchnorm finds batch norms by
    _BatchNorm and must leave an InstanceNorm alone (ember's derived from _BatchNorm and was converted)."""
    from ember.nn.modules.batchnorm import _BatchNorm, _NormBase

    instance, batch = ember.nn.InstanceNorm2d(3, affine=True), ember.nn.BatchNorm2d(3)
    assert isinstance(instance, _NormBase) and not isinstance(instance, _BatchNorm)
    assert isinstance(batch, _NormBase) and isinstance(ember.nn.LazyBatchNorm2d(), _BatchNorm)
    converted = ember.nn.SyncBatchNorm.convert_sync_batchnorm(ember.nn.Sequential(instance, batch))
    assert type(converted[0]) is ember.nn.InstanceNorm2d and type(converted[1]) is ember.nn.SyncBatchNorm
