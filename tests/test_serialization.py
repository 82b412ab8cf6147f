"""ember.save / ember.load: round trips (bitwise), refusal of corrupted files, and no code on load."""

import collections
import io
import struct

import numpy as np
import pytest

import ember


def round_trip(obj):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf)


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
        "requires_grad": ember.randn(3, requires_grad=True),
        "non_leaf": ember.randn(2, requires_grad=True) * 2,
    }


@pytest.mark.parametrize("name", list(make_tensors()))
def test_tensor_round_trip(name):
    t = make_tensors()[name]
    out = round_trip(t)
    assert_same_tensor(t, out)
    assert out.is_contiguous()


def test_file_path_round_trip(tmp_path):
    tensors = make_tensors()
    path = tmp_path / "ckpt.ember"
    ember.save(tensors, path)
    out = ember.load(str(path))
    assert list(out) == list(tensors)
    for k in tensors:
        assert_same_tensor(tensors[k], out[k])


def test_nested_containers():
    t = ember.arange(4)
    obj = {
        "list": [1, 2.5, None, True, "s", t],
        "tuple": (t, (1, 2), []),
        "dict": {1: "int key", (2, "x"): "tuple key", None: 0, 2.5: float("nan"), "inf": float("-inf")},
        "size": t.shape,
        "dtype": ember.float64,
        "big": 2**70,
        "unicode": "héllo ✓",
    }
    out = round_trip(obj)
    assert out["list"][:5] == [1, 2.5, None, True, "s"] and type(out["list"][3]) is bool
    assert_same_tensor(t, out["list"][5])
    assert isinstance(out["tuple"], tuple) and out["tuple"][1:] == ((1, 2), [])
    assert out["dict"][1] == "int key" and out["dict"][(2, "x")] == "tuple key" and out["dict"][None] == 0
    assert np.isnan(out["dict"][2.5]) and out["dict"]["inf"] == float("-inf")
    assert out["size"] == (4,) and type(out["size"]).__name__ == "Size"
    assert out["dtype"] == ember.float64 and out["big"] == 2**70 and out["unicode"] == obj["unicode"]


def test_shared_tensor_loads_as_one_object_but_views_do_not_share():
    t = ember.arange(6.0)
    out = round_trip({"a": t, "b": t, "view": t[2:]})
    assert out["a"] is out["b"]
    out["a"].add_(1)
    assert out["view"].tolist() == [2.0, 3.0, 4.0, 5.0]  # storage sharing is not preserved (documented)


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
        assert_same_tensor(v, out["state"][0][k])


def test_parameter_round_trip():
    Parameter = getattr(ember.nn, "Parameter", None)
    if Parameter is None:
        pytest.skip("ember.nn.Parameter does not exist yet")
    p = Parameter(ember.randn(2, 3))
    frozen = Parameter(ember.randn(2), requires_grad=False)
    out = round_trip({"p": p, "frozen": frozen})
    assert type(out["p"]) is Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is Parameter and not out["frozen"].requires_grad
    assert_same_tensor(p, out["p"])


def test_several_objects_in_one_stream():
    buf = io.BytesIO()
    ember.save({"n": 1}, buf)
    ember.save(ember.ones(2), buf)
    buf.seek(0)
    assert ember.load(buf) == {"n": 1}
    assert ember.load(buf).tolist() == [1.0, 1.0]


def test_unsupported_objects_raise_type_error():
    with pytest.raises(TypeError, match=r"cannot save an object of type builtins.object at root\['x'\]\[1\]"):
        ember.save({"x": [1, object()]}, io.BytesIO())
    with pytest.raises(TypeError, match="cannot save an object of type numpy.ndarray"):
        ember.save(np.zeros(2), io.BytesIO())
    with pytest.raises(TypeError, match="dict key"):
        ember.save({ember.ones(1).item: 1}, io.BytesIO())
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        ember.save(loop, io.BytesIO())
    with pytest.raises(ValueError, match="does not use pickle"):
        ember.save(1, io.BytesIO(), pickle_module=object())


# ----------------------------------------------------------------------------- corrupted files


def saved_bytes():
    buf = io.BytesIO()
    ember.save({"w": ember.arange(20.0), "b": ember.tensor([True, False]), "n": [1, "x"]}, buf)
    return buf.getvalue()


def load_bytes(data):
    return ember.load(io.BytesIO(data))


def header_length(data):
    return struct.unpack_from("<Q", data, 16)[0]


def test_saved_file_loads():
    assert load_bytes(saved_bytes())["n"] == [1, "x"]


@pytest.mark.parametrize(
    "where, message",
    [
        (0, "bad magic number"),
        (8, "format version"),
        (13, "corrupted header: checksum mismatch"),  # the header's CRC field
        (16, "truncated: the header length says"),  # the header length, made longer
        (40, "corrupted header: checksum mismatch"),  # inside the JSON header
        (-1, "data of tensor 1 .* is corrupted: checksum mismatch"),
        (-4, "corrupted data: non-zero bytes in the padding"),
    ],
)
def test_flipped_byte_names_the_problem(where, message):
    data = bytearray(saved_bytes())
    if where == 16:  # a length flip that does not fit the file
        data[where + 3] ^= 0x01
    else:
        data[where] ^= 0x01
    with pytest.raises(RuntimeError, match="is not a valid ember file: " + message):
        load_bytes(bytes(data))


def test_every_flipped_byte_is_detected():
    data = saved_bytes()
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            bad = bytearray(data)
            bad[i] ^= bit
            with pytest.raises(RuntimeError, match="not a valid ember file"):
                load_bytes(bytes(bad))


def test_every_truncation_is_detected(tmp_path):
    data = saved_bytes()
    for n in range(len(data)):
        with pytest.raises(RuntimeError, match="truncated"):
            load_bytes(data[:n])
    path = tmp_path / "x.ember"
    path.write_bytes(data + b"\0")
    with pytest.raises(RuntimeError, match=r"x.ember.*1 unexpected bytes after the end"):
        ember.load(path)


def test_wrong_magic_and_foreign_files():
    with pytest.raises(RuntimeError, match="bad magic number"):
        load_bytes(b"NOTEMBER" + saved_bytes()[8:])
    with pytest.raises(RuntimeError, match="zip archive"):
        load_bytes(b"PK\x03\x04" + b"\0" * 60)
    with pytest.raises(RuntimeError, match="truncated"):
        load_bytes(b"")


def forge(header_obj, data=b""):
    """A file with a valid checksum around an arbitrary header: what an attacker could write."""
    import json
    import zlib

    h = header_obj if isinstance(header_obj, bytes) else json.dumps(header_obj).encode()
    h += b" " * (-(len(h) + 24) % 8)
    return struct.pack("<8sIIQ", b"EMBERSAV", 1, zlib.crc32(h), len(h)) + h + data


def header(obj, tensors=(), data_size=0):
    return {"format": "ember", "version": 1, "data_size": data_size, "tensors": list(tensors), "object": obj}


@pytest.mark.parametrize(
    "obj, tensors, message",
    [
        ({"type": "module", "name": "os.system"}, [], "unknown node type 'module'"),
        ({"type": "tensor", "index": 3}, [], "tensor reference 3 out of range"),
        ({"type": "dtype", "name": "object"}, [], "unknown dtype 'object'"),
        ({"type": "dtype", "name": ["float32"]}, [], r"unknown dtype \['float32'\]"),
        (
            {"type": "tensor", "index": 0},
            [
                {
                    "dtype": ["float32"],
                    "shape": [0],
                    "offset": 0,
                    "nbytes": 0,
                    "crc32": 0,
                    "requires_grad": False,
                    "parameter": False,
                }
            ],
            r"tensor 0 has unknown dtype \['float32'\]",
        ),
        ({"type": "list"}, [], "list without an item list"),
        (
            {"type": "tensor", "index": 0},
            [
                {
                    "dtype": "float32",
                    "shape": [4],
                    "offset": 0,
                    "nbytes": 16,
                    "crc32": 0,
                    "requires_grad": False,
                    "parameter": False,
                }
            ],
            "past its end",
        ),
        (
            {"type": "tensor", "index": 0},
            [
                {
                    "dtype": "int64",
                    "shape": [0],
                    "offset": 0,
                    "nbytes": 0,
                    "crc32": 0,
                    "requires_grad": True,
                    "parameter": False,
                }
            ],
            "cannot require grad",
        ),
        (
            {"type": "tensor", "index": 0},
            [
                {
                    "dtype": "float32",
                    "shape": [-1],
                    "offset": 0,
                    "nbytes": 0,
                    "crc32": 0,
                    "requires_grad": False,
                    "parameter": False,
                }
            ],
            "invalid shape",
        ),
    ],
)
def test_forged_headers_are_refused(obj, tensors, message):
    with pytest.raises(RuntimeError, match=message):
        load_bytes(forge(header(obj, tensors)))


def test_nothing_runs_on_load():
    # a pickle payload where the header should be is refused as data, never unpickled
    pickled = b"\x80\x04\x95\x15\x00cos\nsystem\n(S'echo pwned'\ntR."
    with pytest.raises(RuntimeError, match="not valid JSON"):
        load_bytes(forge(pickled))
    with pytest.raises(RuntimeError, match="unknown node type '__reduce__'"):
        load_bytes(forge(header({"type": "OrderedDict", "items": [], "metadata": {"type": "__reduce__"}})))


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
    ember.save(model.state_dict(), tmp_path / "model.ember")

    restored = make()
    restored.load_state_dict(ember.load(tmp_path / "model.ember"))
    restored.eval()
    np.testing.assert_array_equal(restored(x).detach().numpy(), expected.detach().numpy())
    assert list(restored.state_dict()) == list(model.state_dict())
