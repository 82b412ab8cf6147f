"""ember.save <-> torch.load and torch.save <-> ember.load: the same file format both ways."""

import collections
import io
import os
import pickle
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "int64", "int32", "bool"]


def ember_to_torch(obj, **kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, **kwargs)


def torch_to_ember(obj, **kwargs):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **kwargs)


def values(t):
    return t.detach().numpy()


def assert_same(e, t):
    """An ember tensor and a torch tensor with the same dtype, shape, strides and values."""
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    if e.numel():
        assert tuple(e.stride()) == tuple(t.stride())
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(values(e), values(t))


def sample(dtype, lib):
    data = {
        "float32": np.linspace(-2, 2, 12, dtype=np.float32),
        "float64": np.linspace(-1, 1, 12),
        "int64": np.arange(-6, 6, dtype=np.int64) * 2**40,
        "int32": np.arange(12, dtype=np.int32),
        "bool": np.arange(12) % 3 == 0,
    }[dtype]
    return lib.from_numpy(data.copy()).reshape(3, 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_ember_to_torch(dtype):
    e = sample(dtype, ember)
    out = ember_to_torch({"x": e, "dtype": e.dtype})
    assert_same(e, out["x"])
    assert out["dtype"] == getattr(torch, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_torch_to_ember(dtype):
    t = sample(dtype, torch)
    out = torch_to_ember({"x": t, "dtype": t.dtype})
    assert_same(out["x"], t)
    assert out["dtype"] == getattr(ember, dtype)


def test_views_and_non_contiguous_both_ways():
    for lib, to_other in ((ember, ember_to_torch), (torch, torch_to_ember)):
        base = lib.arange(24.0).reshape(4, 6)
        obj = {"base": base, "t": base.t(), "strided": base[1:, ::2], "row": base[2], "exp": base[0].expand(3, 6)}
        out = to_other(obj)
        for k in obj:
            e, t = (obj[k], out[k]) if lib is ember else (out[k], obj[k])
            assert_same(e, t)
        out["base"][2, 2] = -1.0  # the views came back sharing the base's memory
        assert out["row"][2].item() == -1.0 and out["t"][2, 2].item() == -1.0 and out["strided"][1, 1].item() == -1.0


def test_state_dict_of_a_model_both_ways():
    ember.manual_seed(0)
    em = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    em(ember.randn(5, 3))  # BatchNorm's running statistics move

    tm.load_state_dict(ember_to_torch(em.state_dict()))  # weights_only=True, torch's default
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    em.eval()
    tm.eval()
    np.testing.assert_allclose(
        tm(torch.from_numpy(x)).detach().numpy(), em(ember.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )

    sd = torch_to_ember(tm.state_dict())
    assert isinstance(sd, collections.OrderedDict) and list(sd) == list(tm.state_dict())
    assert sd._metadata == tm.state_dict()._metadata
    fresh = ember.nn.Sequential(
        ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.ReLU(), ember.nn.Linear(4, 2)
    ).eval()
    fresh.load_state_dict(sd)
    np.testing.assert_allclose(
        fresh(ember.from_numpy(x)).detach().numpy(), tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_parameters_and_sizes_both_ways():
    out = ember_to_torch({"p": ember.nn.Parameter(ember.ones(2)), "size": ember.Size([2, 3])})
    assert type(out["p"]) is torch.nn.Parameter and out["p"].requires_grad
    assert type(out["size"]) is torch.Size and out["size"] == (2, 3)
    back = torch_to_ember({"p": torch.nn.Parameter(torch.ones(2), requires_grad=False), "size": torch.Size([4])})
    assert type(back["p"]) is ember.nn.Parameter and not back["p"].requires_grad
    assert type(back["size"]) is ember.Size and back["size"] == (4,)


def test_optimizer_state_dict_both_ways():
    tp = torch.nn.Parameter(torch.ones(3))
    topt = torch.optim.Adam([tp], lr=0.01)
    tp.grad = torch.full((3,), 0.5)
    topt.step()
    sd = torch_to_ember(topt.state_dict())
    assert sd["param_groups"][0]["lr"] == 0.01 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    for k, v in topt.state_dict()["state"][0].items():
        assert_same(sd["state"][0][k], v)

    ep = ember.ones(3, requires_grad=True)
    eopt = ember.optim.SGD([ep], lr=0.1, momentum=0.9)
    ep.grad = ember.full((3,), 0.5)
    eopt.step()
    tsd = ember_to_torch(eopt.state_dict())
    assert tsd["param_groups"][0]["momentum"] == 0.9
    np.testing.assert_array_equal(tsd["state"][0]["momentum_buffer"].numpy(), np.full(3, 0.5, np.float32))


def test_nested_containers_both_ways():
    obj = {"list": [1, 2.5, None, True, "s"], "tuple": (1, (2, 3)), "dict": {1: "a", (2, "b"): [3]}, "bytes": b"\x01"}
    assert ember_to_torch(obj) == obj
    assert torch_to_ember(obj) == obj
    nested = {"a": [ember.ones(2), (ember.zeros(1, dtype=ember.int64),)]}
    out = ember_to_torch(nested)
    assert out["a"][0].tolist() == [1.0, 1.0] and out["a"][1][0].dtype == torch.int64


def test_torch_reads_ember_files_with_mmap_and_other_protocols(tmp_path):
    path = tmp_path / "e.pt"
    # torch's weights-only unpickler does not take protocol 4's FRAME opcode, even in its own files
    for protocol, weights_only in ((2, True), (4, False)):
        ember.save({"w": ember.arange(10.0), "i": ember.arange(3)}, path, pickle_protocol=protocol)
        out = torch.load(path, mmap=True, weights_only=weights_only)
        assert out["w"].tolist() == list(np.arange(10.0)) and out["i"].tolist() == [0, 1, 2]


def test_torch_files_on_disk_and_mmap(tmp_path):
    path = tmp_path / "t.pt"
    torch.save({"w": torch.arange(10.0)}, path)
    assert ember.load(path)["w"].tolist() == list(np.arange(10.0))
    assert ember.load(path, mmap=True)["w"].tolist() == list(np.arange(10.0))


def test_narrow_torch_dtypes_load_as_themselves_without_a_warning():
    obj = {
        "half": torch.tensor([1.5, -2.0], dtype=torch.float16),
        "bf16": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = torch_to_ember(obj)
    assert not caught
    assert out["half"].dtype == ember.float16 and out["half"].tolist() == [1.5, -2.0]
    assert out["bf16"].dtype == ember.bfloat16 and out["bf16"].tolist() == [1.5, -2.0]
    assert out["u8"].dtype == ember.uint8 and out["u8"].tolist() == [0, 255]
    # views of one storage stay views of one storage, bfloat16 (which numpy lacks) included
    base = torch.tensor([[1.5, -2.0, 3.25], [0.5, 7.0, -1.0]], dtype=torch.bfloat16)
    views = torch_to_ember({"all": base, "col": base[:, 1]})
    views["all"][1, 1] = 9.0
    assert views["col"].tolist() == [-2.0, 9.0]


def test_malicious_pickles_refused_by_both_with_the_same_kind_of_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch PWNED",))

    buf = io.BytesIO()
    torch.save({"x": Evil()}, buf)
    for load in (torch.load, ember.load):
        buf.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="(?s)Weights only load failed.*GLOBAL posix.system"):
            load(buf)
    buf = io.BytesIO()
    ember.save({"x": Evil()}, buf)
    for load in (torch.load, ember.load):
        buf.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            load(buf)
    assert not os.path.exists("PWNED")


def test_whole_modules_need_weights_only_false_in_both():
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        ember.load(buf)


def test_unsafe_globals_listed_as_pytorch_lists_them():
    buf = io.BytesIO()
    torch.save({"m": torch.nn.Linear(2, 2), "a": np.arange(3.0), "sd": torch.nn.Linear(2, 2).state_dict()}, buf)
    buf.seek(0)
    ours = ember.serialization.get_unsafe_globals_in_checkpoint(buf)
    buf.seek(0)
    assert sorted(ours) == sorted(torch.serialization.get_unsafe_globals_in_checkpoint(buf))
