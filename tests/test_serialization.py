"""ember.save / ember.load in PyTorch's zip format: round trips (bitwise), shared storages,
the weights-only unpickler's refusals, damaged files, mmap and map_location."""

import collections
import io
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest

import ember
from ember import serialization


def round_trip(obj, **load_kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kwargs)


def assert_same_tensor(a, b):
    assert isinstance(b, ember.Tensor)
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    assert b.requires_grad == a.requires_grad and b.is_leaf and b.grad is None
    x, y = a.detach().numpy(), b.detach().numpy()
    assert np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes()  # bitwise, NaNs included


def make_tensors():
    rng = np.random.default_rng(0)
    base = ember.tensor(rng.standard_normal((4, 6)).astype(np.float32))
    return {
        "float32": base,
        "float64": ember.tensor(rng.standard_normal(5)),
        "int32": ember.tensor(rng.integers(-9, 9, 7).astype(np.int32)),
        "int64": ember.tensor([2**62, -(2**63), 0]),
        "bool": ember.tensor([True, False, True]),
        "special": ember.tensor([float("nan"), float("inf"), -float("inf"), -0.0]),
        "zero_d": ember.tensor(3.25),
        "zero_d_int": ember.tensor(7),
        "empty": ember.zeros(0, 3),
        "empty_1d": ember.tensor([], dtype=ember.int64),
        "transposed": base.t(),
        "strided": base[1:, ::2],
        "expanded": ember.arange(3.0).expand(2, 3),
        "requires_grad": ember.randn(3, requires_grad=True),
        "non_leaf": ember.randn(2, requires_grad=True) * 2,
    }


@pytest.mark.parametrize("name", list(make_tensors()))
def test_tensor_round_trip(name):
    t = make_tensors()[name]
    out = round_trip(t)
    assert_same_tensor(t, out)
    if t.numel():
        assert out.stride() == t.stride()  # the layout is kept, as PyTorch


@pytest.mark.parametrize("kind", ["str", "pathlib", "file"])
def test_paths_and_file_objects(tmp_path, kind):
    tensors = make_tensors()
    path = tmp_path / "ckpt.pt"
    if kind == "file":
        with open(path, "wb") as fh:
            ember.save(tensors, fh)
        with open(path, "rb") as fh:
            out = ember.load(fh)
    else:
        target = str(path) if kind == "str" else path
        ember.save(tensors, target)
        out = ember.load(target)
    assert list(out) == list(tensors)
    for k in tensors:
        assert_same_tensor(tensors[k], out[k])


def test_file_is_pytorchs_zip_layout_with_aligned_records():
    buf = io.BytesIO()
    ember.save({"a": ember.arange(5.0), "b": ember.ones(3, dtype=ember.int64)}, buf)
    zf = zipfile.ZipFile(buf)
    names = zf.namelist()
    assert names[0] == "archive/data.pkl" and "archive/version" in names and "archive/byteorder" in names
    assert {"archive/data/0", "archive/data/1"} <= set(names)
    assert zf.read("archive/version") == b"3\n" and zf.read("archive/byteorder") == b"little"
    assert zf.read("archive/data/0") == np.arange(5, dtype="<f4").tobytes()
    raw = buf.getvalue()
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        name_len, extra_len = np.frombuffer(raw[info.header_offset + 26 : info.header_offset + 30], "<u2")
        assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0


def test_nested_containers_and_python_values():
    t = ember.arange(4)
    obj = {
        "list": [1, 2.5, None, True, "s", t],
        "tuple": (t, (1, 2), []),
        "dict": {1: "int key", (2, "x"): "tuple key", None: 0, 2.5: float("nan"), "inf": float("-inf")},
        "size": t.shape,
        "dtype": ember.float64,
        "device": ember.device("cpu"),
        "big": 2**70,
        "unicode": "héllo ✓",
        "bytes": b"\x00\xff",
        "set": {1, 2},
        "complex": 1 + 2j,
        "counter": collections.Counter("aab"),
    }
    out = round_trip(obj)
    assert out["list"][:5] == [1, 2.5, None, True, "s"] and type(out["list"][3]) is bool
    assert_same_tensor(t, out["list"][5])
    assert out["list"][5] is out["tuple"][0]  # one object saved once comes back as one object
    assert isinstance(out["tuple"], tuple) and out["tuple"][1:] == ((1, 2), [])
    assert out["dict"][1] == "int key" and out["dict"][(2, "x")] == "tuple key" and out["dict"][None] == 0
    assert np.isnan(out["dict"][2.5]) and out["dict"]["inf"] == float("-inf")
    assert out["size"] == (4,) and type(out["size"]) is ember.Size
    assert out["dtype"] == ember.float64 and out["device"] == ember.device("cpu")
    assert out["big"] == 2**70 and out["unicode"] == obj["unicode"] and out["bytes"] == b"\x00\xff"
    assert out["set"] == {1, 2} and out["complex"] == 1 + 2j and out["counter"] == collections.Counter("aab")


def test_views_share_storage_after_loading():
    base = ember.arange(12.0).reshape(3, 4)
    obj = {"base": base, "row": base[1], "cols": base[:, 1::2], "t": base.t(), "same": base}
    buf = io.BytesIO()
    ember.save(obj, buf)
    assert len([n for n in zipfile.ZipFile(buf).namelist() if "/data/" in n]) == 1  # one storage, saved once
    buf.seek(0)
    out = ember.load(buf)
    assert out["same"] is out["base"]
    out["base"][1, 1] = 100.0
    assert out["row"].tolist() == [4.0, 100.0, 6.0, 7.0]
    assert out["cols"][1].tolist() == [100.0, 7.0]
    assert out["t"][1, 1].item() == 100.0
    assert obj["base"][1, 1].item() == 5.0  # the saved tensors are untouched


def test_a_view_alone_saves_only_what_it_uses():
    big = ember.arange(1000.0)
    buf = io.BytesIO()
    ember.save(big[500:502], buf)
    assert zipfile.ZipFile(buf).getinfo("archive/data/0").file_size == 8
    buf.seek(0)
    assert ember.load(buf).tolist() == [500.0, 501.0]


def test_unrelated_tensors_get_their_own_storages():
    a, b = ember.ones(3), ember.zeros(3)
    out = round_trip([a, b])
    out[0].add_(1)
    assert out[1].tolist() == [0.0, 0.0, 0.0]


def test_ordered_dict_state_dict_with_metadata():
    sd = collections.OrderedDict([("layer.weight", ember.randn(3, 2)), ("layer.bias", ember.zeros(3))])
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("layer", {"version": 1})])
    out = round_trip(sd)
    assert isinstance(out, collections.OrderedDict) and list(out) == list(sd)
    assert out._metadata == sd._metadata
    for k in sd:
        assert_same_tensor(sd[k], out[k])


def test_optimizer_state_dict_round_trip():
    p = ember.randn(3, requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    out = round_trip(sd)
    assert out["param_groups"] == sd["param_groups"]
    assert isinstance(out["param_groups"][0]["betas"], tuple)
    assert list(out["state"]) == [0]
    for k, v in sd["state"][0].items():
        if isinstance(v, ember.Tensor):
            assert_same_tensor(v, out["state"][0][k])
        else:
            assert out["state"][0][k] == v
    opt2 = ember.optim.Adam([ember.randn(3, requires_grad=True)], lr=0.5)
    opt2.load_state_dict(out)
    assert opt2.param_groups[0]["lr"] == 0.1


def test_parameter_round_trip():
    Parameter = ember.nn.Parameter
    p = Parameter(ember.randn(2, 3))
    frozen = Parameter(ember.randn(2), requires_grad=False)
    out = round_trip({"p": p, "frozen": frozen, "again": p})
    assert type(out["p"]) is Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is Parameter and not out["frozen"].requires_grad
    assert out["again"] is out["p"]
    assert_same_tensor(p, out["p"])


def test_model_state_dict_round_trip_reproduces_outputs_exactly(tmp_path):
    from ember import nn

    ember.manual_seed(0)

    def make():
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)
        )

    model = make()
    x = ember.randn(3, 1, 6, 6)
    model(x)  # training-mode pass: BatchNorm's running statistics change
    model.eval()
    expected = model(x)
    ember.save(model.state_dict(), tmp_path / "model.pt")

    restored = make()
    restored.load_state_dict(ember.load(tmp_path / "model.pt"))
    restored.eval()
    np.testing.assert_array_equal(restored(x).detach().numpy(), expected.detach().numpy())
    assert list(restored.state_dict()) == list(model.state_dict())


def test_whole_module_needs_weights_only_false():
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.Tanh())
    buf = io.BytesIO()
    ember.save(model, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="(?s)Weights only load failed.*Unsupported global.*Sequential"):
        ember.load(buf)
    buf.seek(0)
    restored = ember.load(buf, weights_only=False)
    assert type(restored) is ember.nn.Sequential and type(restored[0].weight) is ember.nn.Parameter
    x = ember.randn(4, 2)
    np.testing.assert_array_equal(restored(x).detach().numpy(), model(x).detach().numpy())


def test_numpy_arrays_need_safe_globals():
    arr = np.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    ember.save({"arr": arr}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"add_safe_globals\(\[numpy.*_reconstruct\]\)"):
        ember.load(buf)
    needed = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.float64))]
    with serialization.safe_globals(needed):
        assert len(serialization.get_safe_globals()) == 4
        buf.seek(0)
        np.testing.assert_array_equal(ember.load(buf)["arr"], arr)
    assert serialization.get_safe_globals() == []
    serialization.add_safe_globals(needed)
    try:
        buf.seek(0)
        np.testing.assert_array_equal(ember.load(buf)["arr"], arr)
    finally:
        serialization.clear_safe_globals()
    buf.seek(0)
    assert ember.load(buf, weights_only=False)["arr"].tolist() == arr.tolist()


def test_get_unsafe_globals_in_checkpoint_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buf = io.BytesIO()
    ember.save({"model": ember.nn.Linear(2, 2), "arr": np.arange(3.0), "t": ember.ones(2)}, buf)
    buf.seek(0)
    unsafe = serialization.get_unsafe_globals_in_checkpoint(buf)
    assert unsafe[0] == "ember.nn.modules.linear.Linear" and "numpy.ndarray" in unsafe
    with serialization.safe_globals([np.ndarray]):
        buf.seek(0)
        assert "numpy.ndarray" not in serialization.get_unsafe_globals_in_checkpoint(buf)
    buf = io.BytesIO()
    ember.save(collections.OrderedDict(w=ember.ones(1)), buf)
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(buf.getvalue())) == []
    evil = archive(b"cos\nsystem\n(S'touch PWNED'\ntR.")
    assert serialization.get_unsafe_globals_in_checkpoint(evil) == ["os.system"]
    assert not os.path.exists("PWNED")


class Point:
    def __init__(self, x):
        self.x = x


def test_add_safe_globals_allows_a_user_class():
    buf = io.BytesIO()
    ember.save([Point(ember.ones(2))], buf)
    with serialization.safe_globals([Point]):
        buf.seek(0)
        out = ember.load(buf)
    assert type(out[0]) is Point and out[0].x.tolist() == [1.0, 1.0]
    with serialization.safe_globals([(Point, "elsewhere.Point")]):
        assert serialization.get_safe_globals() == [(Point, "elsewhere.Point")]


# ----------------------------------------------------------------------------- hostile and damaged files


def archive(data_pkl, records=None):
    """A zip checkpoint around an arbitrary data.pkl: what an attacker could write."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        for key, data in (records or {}).items():
            zf.writestr(f"archive/data/{key}", data)
        zf.writestr("archive/version", b"3\n")
    buf.seek(0)
    return buf


def forged_pickle(reduce_value):
    """data.pkl holding an object that reduces to `reduce_value`, with ember's names for torch's globals."""

    class Forged:
        def __reduce__(self):
            return reduce_value

    buf = io.BytesIO()
    serialization._Pickler(buf, 2, None, {}).dump(Forged())
    return buf.getvalue()


@pytest.mark.parametrize(
    "payload",
    [
        b"cos\nsystem\n(S'touch PWNED'\ntR.",
        b'cbuiltins\neval\n(S\'open("PWNED", "w")\'\ntR.',
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93S'touch PWNED'\n\x85R.",
        b"cbuiltins\ngetattr\n(cbuiltins\nobject\nS'__subclasses__'\ntR.",
    ],
)
def test_malicious_pickles_are_refused_and_nothing_runs(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="(?s)Weights only load failed.*Unsupported global"):
        ember.load(archive(payload))
    assert not os.path.exists("PWNED")


def test_forged_tensor_views_cannot_reach_outside_their_storage():
    storage = serialization._StorageRef("0", "float32", 4)
    hooks = collections.OrderedDict()
    for offset, size, stride in [(0, (5,), (1,)), (0, (2,), (10**12,)), (4, (1,), (1,)), (-1, (1,), (1,))]:
        pkl = forged_pickle((serialization._rebuild_tensor_v2, (storage, offset, size, stride, False, hooks)))
        with pytest.raises(pickle.UnpicklingError, match="invalid tensor view"):
            ember.load(archive(pkl, {"0": b"\0" * 16}))
    pkl = forged_pickle((serialization._rebuild_tensor_v2, (storage, 1, (3,), (1,), False, hooks)))
    assert ember.load(archive(pkl, {"0": np.arange(4, dtype="<f4").tobytes()})).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(pickle.UnpicklingError, match="should hold 4 elements"):
        ember.load(archive(pkl, {"0": b"\0" * 8}))
    with pytest.raises(RuntimeError, match="data/0: file not found"):
        ember.load(archive(pkl))
    pkl = forged_pickle((serialization._rebuild_tensor_v2, (storage, 0, 3, (1,), False, hooks)))
    with pytest.raises(pickle.UnpicklingError, match="invalid tensor size"):
        ember.load(archive(pkl, {"0": b"\0" * 16}))
    bools = serialization._StorageRef("0", "bool", 2)
    pkl = forged_pickle((serialization._rebuild_tensor_v2, (bools, 0, (2,), (1,), False, hooks)))
    assert ember.load(archive(pkl, {"0": b"\x01\x00"})).tolist() == [True, False]
    with pytest.raises(pickle.UnpicklingError, match="bytes other than 0 and 1"):
        ember.load(archive(pkl, {"0": b"\x01\x02"}))


def saved_bytes():
    buf = io.BytesIO()
    ember.save({"w": ember.arange(20.0), "b": ember.tensor([True, False]), "n": [1, "x"]}, buf)
    return buf.getvalue()


def test_no_flipped_byte_silently_changes_what_loads():
    # Zip has a CRC-32 per record: a damaged record is refused; damage elsewhere (unused
    # header fields) may load, but then the values are exactly the saved ones.
    data = saved_bytes()
    refused = 0
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x01
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = ember.load(io.BytesIO(bytes(bad)))
        except (RuntimeError, pickle.UnpicklingError):
            refused += 1
            continue
        assert out["n"] == [1, "x"] and out["w"].tolist() == list(range(20)) and out["b"].tolist() == [True, False]
    assert refused > len(data) // 4


def test_mutated_data_pkl_fails_only_with_clean_errors():
    # data.pkl rewritten with valid CRCs, as an attacker would: only UnpicklingError
    # (weights-only failures, as PyTorch) or RuntimeError (a missing record), never a crash
    buf = io.BytesIO()
    base = ember.arange(12.0).reshape(3, 4)
    ember.save({"w": base, "v": base[:, 1:], "b": ember.tensor([True]), "p": ember.nn.Parameter(ember.ones(2))}, buf)
    records = {n: zipfile.ZipFile(buf).read(n) for n in zipfile.ZipFile(buf).namelist()}
    rng = np.random.default_rng(0)
    for _ in range(300):
        pkl = bytearray(records["archive/data.pkl"])
        for i in rng.integers(0, len(pkl), 2):
            pkl[i] = rng.integers(0, 256)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ember.load(archive(bytes(pkl), {k.split("/")[-1]: v for k, v in records.items() if "/data/" in k}))
        except (pickle.UnpicklingError, RuntimeError):
            pass


def test_every_truncation_is_refused():
    data = saved_bytes()
    for n in range(len(data)):
        with pytest.raises((RuntimeError, pickle.UnpicklingError)):
            ember.load(io.BytesIO(data[:n]))


def test_damaged_record_names_the_problem(tmp_path):
    data = bytearray(saved_bytes())
    pos = data.index(np.arange(20, dtype="<f4").tobytes())
    data[pos + 5] ^= 0x10
    path = tmp_path / "bad.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"bad.pt.*PytorchStreamReader failed reading zip archive.*CRC"):
        ember.load(path)


def test_files_that_are_not_checkpoints():
    with pytest.raises(pickle.UnpicklingError, match="invalid load key"):
        ember.load(io.BytesIO(b"hello world"))
    with pytest.raises(pickle.UnpicklingError, match="invalid load key"):
        ember.load(io.BytesIO(b""))
    with pytest.raises(pickle.UnpicklingError, match="former EMBERSAV format"):
        ember.load(io.BytesIO(b"EMBERSAV" + b"\0" * 40))
    with pytest.raises(RuntimeError, match="failed reading zip archive"):
        ember.load(io.BytesIO(b"PK\x03\x04" + b"\0" * 60))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model/constants.pkl", b"")
    with pytest.raises(RuntimeError, match="TorchScript"):
        ember.load(io.BytesIO(buf.getvalue()))


# ----------------------------------------------------------------------------- arguments


def test_map_location_forms():
    t = ember.arange(3.0)
    seen = []

    def mapper(storage, location):
        seen.append(location)
        return storage

    for map_location in ("cpu", ember.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s, mapper):
        assert round_trip({"t": t}, map_location=map_location)["t"].tolist() == [0.0, 1.0, 2.0]
    assert seen == ["cpu"]
    doubled = round_trip([t, t], map_location=lambda s, loc: s * 2)
    assert doubled[0].tolist() == [0.0, 2.0, 4.0] and doubled[0] is doubled[1]


def test_mmap_loads_copy_on_write(tmp_path):
    path = tmp_path / "m.pt"
    ember.save({"w": ember.arange(100.0).reshape(10, 10), "i": ember.arange(5)}, path)
    out = ember.load(path, mmap=True)
    assert out["w"][3].tolist() == list(np.arange(30.0, 40.0)) and out["i"].tolist() == [0, 1, 2, 3, 4]
    out["w"][0, 0] = -1.0  # private to this process: the file is unchanged
    assert ember.load(path)["w"][0, 0].item() == 0.0
    with pytest.raises(ValueError, match="mmap"):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)


def test_pickle_protocols():
    for protocol in (2, 3, 4, 5):
        buf = io.BytesIO()
        ember.save({"t": ember.arange(3), "s": ember.Size([2])}, buf, pickle_protocol=protocol)
        buf.seek(0)
        out = ember.load(buf)
        assert out["t"].tolist() == [0, 1, 2] and out["s"] == (2,)


def test_argument_errors():
    with pytest.raises(ValueError, match="pickle module"):
        ember.save(1, io.BytesIO(), pickle_module=object())
    with pytest.raises(ValueError, match="zip format"):
        ember.save(1, io.BytesIO(), _use_new_zipfile_serialization=False)
    with pytest.raises(TypeError, match="binary file object"):
        ember.save(1, 42)
    with pytest.raises(TypeError, match="binary file object"):
        ember.load(42)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        ember.save(lambda: 1, io.BytesIO())
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(io.BytesIO(saved_bytes()), pickle_module=pickle, weights_only=True)
    # naming a pickle module makes PyTorch's default a full unpickling
    assert ember.load(io.BytesIO(saved_bytes()), pickle_module=pickle)["n"] == [1, "x"]
    assert ember.load(io.BytesIO(saved_bytes()), pickle_module=pickle, weights_only=False)["n"] == [1, "x"]
