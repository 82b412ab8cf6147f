"""Class-level API that PyTorch's classes have and programs call: nn.Module's state_dict pre/post hooks,
set_submodule, share_memory, compile, global backward hooks and global forward hooks with kwargs, the RNNs'
public checks (check_forward_args, permute_hidden, ...), container and embedding helpers,
MultiheadAttention.merge_masks, PackedSequence conversions, Generator.clone_state, Tensor.record_stream and the
absent devices (xpu, mtia, ipu); each against PyTorch's behaviour, and compared with PyTorch when importable."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import ember
from ember import nn


def _state_dict_hook_log(lib):
    net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
    log = []
    net.register_state_dict_pre_hook(lambda m, prefix, keep_vars: log.append(("pre", type(m).__name__, prefix)))
    net[0].register_state_dict_pre_hook(lambda m, prefix, keep_vars: log.append(("pre", type(m).__name__, prefix)))

    def post(m, sd, prefix, meta):
        sd[prefix + "extra"] = 1
        log.append(("post", type(m).__name__, prefix))

    net[0].register_state_dict_post_hook(post)
    keys = list(net.state_dict())
    bad = net.register_state_dict_post_hook(lambda m, sd, prefix, meta: {})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        net.state_dict()
    bad.remove()
    return log, keys


def test_state_dict_pre_and_post_hooks():
    log, keys = _state_dict_hook_log(ember)
    one_call = [("pre", "Sequential", ""), ("pre", "Linear", "0."), ("post", "Linear", "0.")]
    assert log == one_call * 2  # the second call raises at the root's post-hook, after the others ran
    assert keys == ["0.weight", "0.bias", "0.extra"]


def test_state_dict_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _state_dict_hook_log(ember) == _state_dict_hook_log(torch)


def test_set_submodule_replaces_and_adds_with_pytorchs_errors():
    net = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.ReLU())
    net.set_submodule("0.0", nn.Tanh())
    assert isinstance(net[0][0], nn.Tanh)
    net.set_submodule("0.extra", nn.Identity())
    assert isinstance(net.get_submodule("0.extra"), nn.Identity)
    with pytest.raises(AttributeError, match="Sequential has no attribute `missing`"):
        net.set_submodule("0.missing", nn.Identity(), strict=True)
    with pytest.raises(ValueError, match="Cannot set the submodule without a target name"):
        net.set_submodule("", nn.Identity())
    with pytest.raises(ValueError, match="`module` is not an nn.Module"):
        net.set_submodule("1", 3)
    net.weight_like = 1  # not a module: cannot be replaced by one
    with pytest.raises(AttributeError, match="`weight_like` is not an nn.Module"):
        net.set_submodule("weight_like", nn.Identity())


def test_compile_share_memory_and_call_entry_points():
    net = nn.Linear(3, 2)
    x = ember.ones(4, 3)
    expected = net(x).detach().numpy()
    assert net.compile() is None and net._compiled_call_impl is not None
    np.testing.assert_array_equal(net._wrapped_call_impl(x).detach().numpy(), expected)
    np.testing.assert_array_equal(net._slow_forward(x).detach().numpy(), expected)
    assert net.share_memory() is net  # a no-op, as Tensor.share_memory_ (README: ember shares nothing)
    replica = net._replicate_for_data_parallel()
    assert replica._parameters == {} and replica._is_replica and replica._buffers is not net._buffers


@pytest.mark.parametrize(
    ("method", "error"), [("xpu", AssertionError), ("mtia", AssertionError), ("ipu", RuntimeError)]
)
def test_absent_devices_raise_as_pytorch(method, error):
    with pytest.raises(error, match=method.upper() if method != "ipu" else "ipu"):
        getattr(nn.Linear(1, 1), method)()
    with pytest.raises(error):
        getattr(ember.ones(1), method)()


def test_record_stream_checks_its_arguments():
    with pytest.raises(TypeError, match="argument 'stream' must be a Stream, not NoneType"):
        ember.ones(1).record_stream(None)


def _global_hook_log(lib):
    module = importlib.import_module(f"{lib.__name__}.nn.modules.module")
    net = lib.nn.Linear(2, 1)
    log = []
    handles = [
        module.register_module_full_backward_pre_hook(lambda m, go: log.append(("bw pre", type(m).__name__))),
        module.register_module_full_backward_hook(lambda m, gi, go: log.append(("bw", type(m).__name__))),
        net.register_full_backward_hook(lambda m, gi, go: log.append(("own bw", type(m).__name__))),
        module.register_module_forward_hook(
            lambda m, args, kwargs, out: log.append(("fw", sorted(kwargs))), with_kwargs=True
        ),
    ]
    try:
        net(lib.ones(1, 2, requires_grad=True)).sum().backward()
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
            module.register_module_backward_hook(lambda m, gi, go: None)
    finally:
        for h in handles:
            h.remove()
    net(lib.ones(1, 2, requires_grad=True)).sum().backward()
    return log


def test_global_backward_and_forward_hooks():
    assert _global_hook_log(ember) == [("fw", []), ("bw pre", "Linear"), ("bw", "Linear"), ("own bw", "Linear")]


def test_global_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _global_hook_log(ember) == _global_hook_log(torch)


def test_global_always_call_forward_hook_runs_when_forward_raises():
    module = importlib.import_module("ember.nn.modules.module")
    seen = []
    handle = module.register_module_forward_hook(lambda m, args, out: seen.append(out), always_call=True)
    try:
        with pytest.raises(RuntimeError):
            nn.Linear(2, 1)(ember.ones(3))
    finally:
        handle.remove()
    assert seen == [None]


def _rnn_checks(lib):
    lstm, gru = lib.nn.LSTM(3, 4, num_layers=2, batch_first=True), lib.nn.GRU(3, 4, bidirectional=True)
    x = lib.zeros(5, 6, 3)
    out = [lstm.get_expected_hidden_size(x, None), lstm.get_expected_cell_size(x, None),
           gru.get_expected_hidden_size(x, None)]  # fmt: skip
    for call in (
        lambda: lstm.check_forward_args(x, (lib.zeros(2, 5, 4), lib.zeros(2, 6, 4)), None),
        lambda: gru.check_forward_args(x, lib.zeros(1, 6, 4), None),
        lambda: gru.check_input(lib.zeros(5, 6, 2), None),
        lambda: gru.check_hidden_size(lib.zeros(1), (2, 6, 4), "custom {} {}"),
        lambda: lstm(x, (lib.zeros(2, 5, 4), lib.zeros(2, 4, 4))),
    ):
        try:
            call()
            out.append(None)
        except RuntimeError as e:
            out.append(str(e))
    perm = lib.tensor([1, 0])
    h = lib.arange(4.0).reshape(1, 2, 2)
    out.append(gru.permute_hidden(h, perm).tolist())
    out.append([t.tolist() for t in lstm.permute_hidden((h, h * 2), perm)])
    out.append(gru.permute_hidden(h, None) is h)
    return out


def test_rnn_public_checks():
    got = _rnn_checks(ember)
    assert got[:3] == [(2, 5, 4), (2, 5, 4), (2, 6, 4)]
    assert got[3] == "Expected hidden[1] size (2, 5, 4), got [2, 6, 4]"
    assert got[4] == "Expected hidden size (2, 6, 4), got [1, 6, 4]"
    assert got[5] == "input.size(-1) must be equal to input_size. Expected 3, got 2"
    assert got[6] == "custom (2, 6, 4) [1]" and got[7] == "Expected hidden[1] size (2, 5, 4), got [2, 4, 4]"
    assert got[8] == [[[2.0, 3.0], [0.0, 1.0]]]


def test_rnn_public_checks_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _rnn_checks(ember) == _rnn_checks(torch)


def test_an_rnn_subclass_overriding_a_check_changes_forward():
    class Lenient(nn.GRU):
        def check_forward_args(self, input, hidden, batch_sizes):
            self.calls = getattr(self, "calls", 0) + 1

    gru = Lenient(3, 4)
    gru(ember.zeros(5, 2, 3))
    assert gru.calls == 1


def test_container_embedding_and_attention_helpers():
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    assert isinstance(seq._get_item_by_idx(seq._modules.values(), -1), nn.Tanh)
    with pytest.raises(IndexError, match="index 2 is out of range"):
        seq._get_item_by_idx(seq._modules.values(), 2)
    assert nn.ModuleList([nn.ReLU(), nn.ReLU()])._get_abs_string_index(-1) == "1"
    assert nn.ParameterList([ember.ones(1)])._get_abs_string_index(-1) == "0"
    for layer in (nn.Embedding(4, 2, padding_idx=1), nn.EmbeddingBag(4, 2, padding_idx=1)):
        with ember.no_grad():
            layer.weight.fill_(3.0)
        layer._fill_padding_idx_with_zero()
        np.testing.assert_array_equal(layer.weight.detach().numpy(), [[3, 3], [0, 0], [3, 3], [3, 3]])
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    q = ember.zeros(3, 5, 4)
    attn = ember.tensor(np.triu(np.ones((5, 5)), 1) * -1e4, dtype=ember.float32)
    pad = ember.tensor(np.arange(15.0).reshape(3, 5), dtype=ember.float32)
    assert mha.merge_masks(None, None, q) == (None, None)
    merged, kind = mha.merge_masks(None, pad, q)
    assert kind == 1 and merged is pad
    merged, kind = mha.merge_masks(attn, pad, q)
    expected = attn.numpy()[None, None] + pad.numpy()[:, None, None, :]
    assert kind == 2 and merged.shape == (3, 2, 5, 5)
    np.testing.assert_array_equal(merged.numpy(), np.broadcast_to(expected, (3, 2, 5, 5)))


def test_packed_sequence_conversions_and_generator_clone_state():
    packed = nn.utils.rnn.pack_padded_sequence(ember.ones(3, 2, 1), ember.tensor([3, 2]))
    for method, dtype in (("half", ember.float16), ("short", ember.int16), ("char", ember.int8), ("byte", ember.uint8)):
        converted = getattr(packed, method)()
        assert converted.data.dtype == dtype and converted.batch_sizes.tolist() == [2, 2, 1]
    g = ember.Generator().manual_seed(7)
    clone = g.clone_state()
    assert ember.rand(3, generator=g).tolist() == ember.rand(3, generator=clone).tolist()
    with pytest.raises(NotImplementedError, match="graphsafe_get_state is not supported in this Generator"):
        g.graphsafe_get_state()
