"""Behaviour the library probes of the fourteenth session found different from PyTorch's, each against
PyTorch's documented behaviour: a uint8 condition in where (deprecated, still accepted), an assignment mixing
tensor indices with slices or integers under autograd (values and gradients against numpy), a distribution
without arg_constraints (a warning, no check), argument validation inside vmap (one answer for the batch),
and torchelastic's error recording."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck


def test_where_reads_a_uint8_condition_as_a_mask_with_pytorchs_warning():
    mask = ember.tensor([1, 0, 1], dtype=ember.uint8)
    with pytest.warns(UserWarning, match="where received a uint8 condition tensor"):
        out = ember.where(mask, ember.ones(3), ember.zeros(3))
    assert out.tolist() == [1.0, 0.0, 1.0]
    with pytest.warns(UserWarning, match="uint8 condition"):
        assert ember.ones(3).where(mask, 5.0).tolist() == [1.0, 5.0, 1.0]
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
        ember.where(ember.tensor([1, 0]), ember.ones(2), ember.zeros(2))


MIXED = [
    ((slice(None), [0, 2]), (3, 2, 5, 4)),
    ((slice(None), slice(None), [1, 0], 0), (3, 4, 2)),
    ((0, [1, 2], slice(None), [3, 3]), (2, 5)),
    ((Ellipsis, [2, 1]), (3, 4, 5, 2)),
    ((slice(1, 3), [[0], [1]], [0, 2]), (2, 2, 2, 4)),
    ((None, slice(None), [0, 2, 1]), (1, 3, 3, 5, 4)),
    ((slice(None), [0, 2]), (1, 1, 3, 2, 5, 4)),  # leading 1s beyond the selection's rank
]


def _numpy_index(index):
    return tuple(np.array(i) if isinstance(i, list) else i for i in index)


@pytest.mark.parametrize("index,value_shape", MIXED)
def test_assignment_mixing_tensor_and_basic_indices_under_autograd(index, value_shape):
    base = np.arange(3 * 4 * 5 * 4, dtype=np.float64).reshape(3, 4, 5, 4) / 7
    value = np.linspace(-1, 1, int(np.prod(value_shape))).reshape(value_shape)
    expected = base.copy()
    selection = expected[_numpy_index(index)]
    expected[_numpy_index(index)] = value.reshape(selection.shape) if value.ndim > selection.ndim else value
    ember_index = tuple(ember.tensor(i) if isinstance(i, list) else i for i in index)

    def assign(x, v):
        out = x * 1
        out[ember_index] = v
        return out

    x = ember.tensor(base, requires_grad=True)
    v = ember.tensor(value, requires_grad=True)
    np.testing.assert_allclose(assign(x, v).detach().numpy(), expected)
    small = [ember.tensor(base, requires_grad=True), ember.tensor(value, requires_grad=True)]
    assert gradcheck(assign, small, atol=1e-6)


def test_mixed_assignment_refuses_a_value_that_does_not_fit():
    x = ember.zeros(3, 4, 5, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3, 5\] cannot be broadcast"):
        x[:, ember.tensor([0, 2])] = ember.ones(3, 5, requires_grad=True)


def test_a_distribution_without_arg_constraints_warns_and_is_not_checked():
    class Plain(ember.distributions.Distribution):
        def __init__(self):
            super().__init__(validate_args=True)

    with pytest.warns(UserWarning, match="does not define `arg_constraints`"):
        Plain()


def test_argument_validation_inside_vmap_checks_the_whole_batch():
    logits = ember.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
    out = ember.func.vmap(lambda z: ember.distributions.Categorical(logits=z).log_prob(ember.tensor(1)))(logits)
    expected = [row[1] - np.log(np.exp(row).sum()) for row in np.linspace(-1, 1, 12).reshape(3, 4)]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        ember.func.vmap(lambda z: ember.distributions.Normal(z, -1.0).log_prob(z))(logits)
    assert bool(ember._is_all_true(ember.tensor([], dtype=ember.bool)))
    assert not bool(ember._is_any_true(ember.tensor([False, False])))
    with pytest.raises(RuntimeError, match="_is_all_true: expected a boolean tensor"):
        ember._is_all_true(ember.ones(2))


def test_elastic_record_writes_the_error_file_and_reraises(tmp_path, monkeypatch):
    from ember.distributed.elastic.multiprocessing.errors import record

    error_file = tmp_path / "error.json"
    monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(error_file))

    @record
    def main():
        raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"):
        main()
    assert json.loads(error_file.read_text())["message"]["message"] == "ValueError: bad batch"
    assert record(lambda: 3)() == 3


def test_distributed_autograd_is_unavailable_as_without_rpc():
    from ember.distributed import autograd

    assert autograd.is_available() is False
    with pytest.raises(RuntimeError, match="no RPC framework"), autograd.context():
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import ember.distributed.elastic  # noqa: F401


def test_a_named_tuple_with_torch_function_dispatches_as_pytorch():
    """brevitas's QuantTensor is a NamedTuple with __torch_function__: ember's functions hand it the call,
    where they used to read it as a tuple of arguments."""
    from typing import NamedTuple

    class Quantized(NamedTuple):
        value: ember.Tensor
        scale: ember.Tensor

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            plain = [a.value * a.scale if isinstance(a, Quantized) else a for a in args]
            return ("handled", func.__name__, func(*plain, **(kwargs or {})))

    q = Quantized(ember.ones(2, 3), ember.tensor(2.0))
    tag, name, out = ember.nn.functional.linear(q, ember.ones(4, 3))
    assert (tag, name) == ("handled", "linear") and out.tolist() == [[6.0] * 4] * 2
    tag, name, out = ember.add(q, 1.0)
    assert (tag, name) == ("handled", "add") and out.tolist() == [[3.0] * 3] * 2
    assert ember.stack((ember.ones(2), ember.zeros(2))).shape == (2, 2)  # a plain tuple is still a list of tensors


def test_compiler_settings_modules_patch_and_refuse_unknown_names():
    import ember._dynamo.config as dynamo_config
    import ember._inductor.config as inductor_config

    with dynamo_config.patch(cache_size_limit=3):
        assert dynamo_config.cache_size_limit == 3
    assert dynamo_config.cache_size_limit == 8

    @inductor_config.patch("max_autotune", True)
    def inside():
        return inductor_config.max_autotune

    assert inside() is True and inductor_config.max_autotune is False
    with (
        pytest.raises(AttributeError, match="does not have attribute 'no_such_flag'"),
        dynamo_config.patch(no_such_flag=1),
    ):
        pass
    assert ember._dynamo.config is dynamo_config


def test_cpp_extension_refuses_to_build_and_device_context_steers_creation():
    from ember.utils import _device, cpp_extension

    with pytest.raises(RuntimeError, match="ember cannot build PyTorch C\\+\\+/CUDA extensions"):
        cpp_extension.load("ops", ["ops.cpp"])
    assert cpp_extension.include_paths() == [] and isinstance(cpp_extension.is_ninja_available(), bool)
    assert _device.CURRENT_DEVICE is None and ember.zeros in _device._device_constructors()
    with _device.DeviceContext("meta"):
        assert ember.zeros(2).device.type == "meta" and _device.CURRENT_DEVICE.type == "meta"
    assert _device.set_device("meta")(lambda: ember.ones(1))().device.type == "meta"
    assert ember.ones(1).device.type == "cpu"


def test_jit_state_switch_and_storage_type_normalising(monkeypatch):
    from ember.jit import _state
    from ember.serialization import normalize_storage_type

    assert bool(_state._enabled)
    _state.disable()
    assert not _state._enabled
    _state.enable()
    monkeypatch.setenv("PYTORCH_JIT", "0")
    assert not _state.EnabledProxy()
    assert normalize_storage_type(ember.FloatStorage) is ember.FloatStorage


def test_take_tensors_chunks_by_type_and_size_and_reorder_restores_order():
    from ember._utils import _reorder_tensors_as, _take_tensors

    tensors = [ember.zeros(4), ember.zeros(2, dtype=ember.float64), ember.zeros(3), ember.zeros(5), ember.zeros(1)]
    chunks = list(_take_tensors(tensors, size_limit=28))  # float32: 16 + 12 bytes fit, then 20 + 4
    assert [[t.numel() for t in c] for c in chunks] == [[4, 3], [5, 1], [2]]
    flat = [t for c in chunks for t in c]
    assert [t.numel() for t in _reorder_tensors_as(flat, tensors)] == [4, 2, 3, 5, 1]


def test_conv_transpose_mixin_is_pytorchs_deprecated_base():
    from ember.nn.modules.conv import _ConvTransposeMixin, _ConvTransposeNd

    assert issubclass(ember.nn.ConvTranspose2d, _ConvTransposeNd)
    with pytest.warns(FutureWarning, match="_ConvTransposeMixin` is a deprecated internal class"):

        class Deconv(_ConvTransposeMixin):
            _dims = 2
            _conv_transpose = staticmethod(ember.nn.functional.conv_transpose2d)

        layer = Deconv(2, 3, 3)
    assert layer(ember.ones(1, 2, 4, 4)).shape == (1, 3, 6, 6)


def test_fsdp_state_dict_configs_have_pytorchs_fields():
    from ember.distributed.fsdp import api

    assert api.FullStateDictConfig(rank0_only=True) == api.FullStateDictConfig(False, True)
    assert api.OptimStateDictConfig().offload_to_cpu and not api.LocalOptimStateDictConfig().offload_to_cpu
    settings = api.StateDictSettings(
        api.StateDictType.FULL_STATE_DICT, api.StateDictConfig(), api.OptimStateDictConfig()
    )
    assert settings.state_dict_type is api.StateDictType.FULL_STATE_DICT


def test_common_types_and_plain_str_of_a_tensor():
    from ember._tensor_str import _str
    from ember.nn.common_types import _size_2_t, _tensor_list_t

    assert int in _size_2_t.__args__ and ember.Tensor in _tensor_list_t.__args__
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    assert _str(x) == repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert _str(x, tensor_contents="[...]") == "tensor([...], requires_grad=True)"


def test_quantization_names_load_and_refuse_to_quantize():
    """bayesian-torch imports observers, QConfig and quantized layers for its optional quantized paths."""
    from ember.nn.quantized import BatchNorm2d, FloatFunctional
    from ember.quantization.observer import HistogramObserver, MinMaxObserver
    from ember.quantization.qconfig import QConfig

    factory = MinMaxObserver.with_args(dtype=ember.qint8, qscheme=ember.per_tensor_symmetric)
    config = QConfig(activation=factory, weight=factory)
    with pytest.raises(NotImplementedError, match="MinMaxObserver: ember has no quantized tensors"):
        config.weight()
    with pytest.raises(NotImplementedError, match="HistogramObserver"):
        HistogramObserver()
    with pytest.raises(NotImplementedError, match="nn.quantized.BatchNorm2d"):
        BatchNorm2d(3)
    assert FloatFunctional().add(ember.ones(1), ember.ones(1)).item() == 2.0
    assert repr(ember.per_tensor_affine).endswith(".per_tensor_affine") and ember.quantization.QuantStub
    assert ember.per_channel_symmetric is not ember.per_tensor_symmetric


def test_torchscript_class_names_cannot_be_made():
    for name in ("ScriptMethod", "ScriptFunction", "ScriptObject"):
        cls = getattr(ember._C, name)
        with pytest.raises(TypeError, match="No constructor defined"):
            cls()


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_fft_starts_no_thread_pool_a_fork_would_have_to_stop():
    """scipy's FFT thread pool is stopped before every fork, and that stop can hang: ember runs scipy's
    transforms on one thread, so a DataLoader may fork after an FFT (a fresh process: no pool yet)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import os
        import ember
        x = ember.randn(64, 64, 8)
        (x * 2).sum()  # ember's own threads, started by its first ops
        try:
            import scipy.fft  # (its import starts a thread of its own, not the pool)
        except ImportError:
            pass
        before = len(os.listdir("/proc/self/task"))
        ember.fft.fftn(x)  # a transform over several axes: one that a pool would split
        ember.fft.rfft(ember.randn(256, 512), dim=0)
        print(len(os.listdir("/proc/self/task")) - before)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "0", result.stdout + result.stderr
