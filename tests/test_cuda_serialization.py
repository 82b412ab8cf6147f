"""ember.save / ember.load of CUDA tensors, as PyTorch 2.x: each storage's location ('cpu', 'cuda:N')
is recorded, and load puts the storage back on that device, or where map_location says.

The device tests run on a GPU or on the host emulation (EMBER_CUDA_BACKEND=emulated; with
EMBER_CUDA_EMULATED_DEVICES=2 the two-device tests run too).  The test of the error a machine
without CUDA gives runs only where CUDA is not available: its CUDA-located files are CPU-saved
files whose data.pkl says 'cuda:0' instead of 'cpu', as a file saved from a GPU does."""

import io
import pickletools
import re
import zipfile

import pytest

import ember

pytestmark = pytest.mark.cuda

needs_cuda = pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a CUDA device (or the host emulation)")
needs_two = pytest.mark.skipif(
    ember.cuda.device_count() < 2, reason="needs two CUDA devices (EMBER_CUDA_EMULATED_DEVICES=2)"
)
without_cuda = pytest.mark.skipif(ember.cuda.is_available(), reason="checks what a machine without CUDA does")

NO_CUDA = (
    "Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is False. If you are "
    "running on a CPU-only machine, please use ember.load with map_location=ember.device('cpu') to map your "
    "storages to the CPU."
)


def saved(obj):
    buf = io.BytesIO()
    ember.save(obj, buf)
    return buf.getvalue()


def load(data, **kwargs):
    return ember.load(io.BytesIO(data), **kwargs)


def data_pkl(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))


def locations(data):
    """The storage locations the file records."""
    strings = (arg for _, arg, _ in pickletools.genops(data_pkl(data)) if isinstance(arg, str))
    return {s for s in strings if re.fullmatch(r"cpu|cuda:\d+", s)}


def storage_count(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return sum("/data/" in n for n in zf.namelist())


def relocated(data, location):
    """The checkpoint `data` (protocol 2, every storage on the CPU) with its storages' location `location`."""
    cpu = b"X\x03\x00\x00\x00cpu"  # BINUNICODE 'cpu', as ember's and PyTorch's picklers write it
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            record = src.read(info)
            if info.filename.endswith("/data.pkl"):
                assert cpu in record
                record = record.replace(cpu, b"X" + len(location).to_bytes(4, "little") + location.encode())
            dst.writestr(info.filename, record)
    return out.getvalue()


def values(t):
    return t.detach().cpu().tolist()


def views(base):
    """Three views of one tensor's memory."""
    return {"a": base[2:8].view(2, 3), "b": base[4:], "t": base[2:8].view(2, 3).t()}


def assert_views_share(out, device):
    assert {str(t.device) for t in out.values()} == {device}
    out["b"][1] = -1.0  # base[5]: a[1, 0] and t[0, 1] too
    assert out["a"][1, 0].item() == -1.0 and out["t"][0, 1].item() == -1.0


# ----------------------------------------------------------------------------- CPU tensors


def test_cpu_tensors_stay_on_the_cpu():
    data = saved({"w": ember.arange(6.0).reshape(2, 3), "i": ember.tensor([1, 2]), "e": ember.zeros(0)})
    assert locations(data) == {"cpu"}
    out = load(data)
    assert {str(t.device) for t in out.values()} == {"cpu"}
    assert values(out["w"]) == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and values(out["i"]) == [1, 2]


# ----------------------------------------------------------------------------- round trips on the device


@needs_cuda
def test_cuda_tensor_round_trip():
    t = ember.randn(3, 4).cuda().requires_grad_()
    data = saved(t)
    assert locations(data) == {"cuda:0"}
    out = load(data)
    assert str(out.device) == "cuda:0" and out.requires_grad and out.is_leaf
    assert values(out) == values(t)


@needs_cuda
@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int8", "uint8", "uint16", "bool"]
)
def test_dtypes_round_trip_on_the_device(dtype):
    t = (ember.arange(6) % 2 if dtype == "bool" else ember.arange(6)).to(getattr(ember, dtype)).cuda()
    out = load(saved({"t": t, "empty": ember.zeros(0, 2, dtype=getattr(ember, dtype)).cuda()}))
    assert str(out["t"].device) == "cuda:0" and out["t"].dtype == t.dtype and values(out["t"]) == values(t)
    assert str(out["empty"].device) == "cuda:0" and tuple(out["empty"].shape) == (0, 2)


@needs_cuda
@needs_two
def test_state_dict_on_the_second_device():
    model = ember.nn.Linear(4, 3).to("cuda:1")
    data = saved({"params": dict(model.named_parameters()), "state": model.state_dict(), "cpu": ember.ones(2)})
    assert locations(data) == {"cuda:1", "cpu"}
    out = load(data)
    for name, p in out["params"].items():
        assert isinstance(p, ember.nn.Parameter) and p.requires_grad
        assert str(p.device) == "cuda:1" and values(p) == values(getattr(model, name))
    assert {str(t.device) for t in out["state"].values()} == {"cuda:1"}
    assert str(out["cpu"].device) == "cpu"
    fresh = ember.nn.Linear(4, 3).to("cuda:1")
    fresh.load_state_dict(out["state"])
    x = ember.randn(2, 4).to("cuda:1")
    assert values(fresh(x)) == values(model(x))


@needs_cuda
@pytest.mark.parametrize(
    "saved_on, map_location, device",
    [("cuda", None, "cuda:0"), ("cpu", "cuda:0", "cuda:0"), ("cuda", "cpu", "cpu"), ("cpu", None, "cpu")],
)
def test_views_share_memory_after_load(saved_on, map_location, device):
    data = saved(views(ember.arange(12.0).to(saved_on)))
    assert storage_count(data) == 1
    assert_views_share(load(data, map_location=map_location), device)


@needs_cuda
def test_a_parameter_and_a_view_of_it():
    p = ember.nn.Parameter(ember.randn(3).cuda())
    out = load(saved({"p": p, "tail": p.detach()[1:]}))
    assert isinstance(out["p"], ember.nn.Parameter) and str(out["p"].device) == "cuda:0"
    assert values(out["tail"]) == values(p)[1:]
    out["tail"][0] = 7.0
    assert out["p"][1].item() == 7.0


# ----------------------------------------------------------------------------- map_location


@needs_cuda
@pytest.mark.parametrize(
    "map_location",
    ["cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s, lambda s, loc: s.cpu()],
    ids=["str", "device", "dict", "callable", "callable_cpu"],
)
def test_map_location_to_the_cpu(map_location):
    t = ember.arange(4.0).cuda()
    out = load(saved({"t": t}), map_location=map_location)["t"]
    assert str(out.device) == "cpu" and values(out) == [0.0, 1.0, 2.0, 3.0]


@needs_cuda
@needs_two
def test_map_location_between_devices():
    on_1 = saved(views(ember.arange(12.0).to("cuda:1")))
    assert_views_share(load(on_1, map_location={"cuda:1": "cuda:0"}), "cuda:0")
    assert_views_share(load(on_1, map_location={"cuda:0": "cpu"}), "cuda:1")  # other locations: unchanged
    on_0 = saved(views(ember.arange(12.0).cuda()))
    assert_views_share(load(on_0, map_location="cuda:1"), "cuda:1")
    assert_views_share(load(on_0, map_location=ember.device("cuda", 1)), "cuda:1")


@needs_cuda
def test_map_location_callable_receives_the_saved_location():
    data = saved({"gpu": ember.arange(3.0).cuda(), "cpu": ember.arange(2)})
    seen = []

    def record(storage, location):
        seen.append((location, str(storage.device), tuple(storage.shape)))

    out = load(data, map_location=record)  # None: each storage where it was saved
    assert sorted(seen) == [("cpu", "cpu", (2,)), ("cuda:0", "cpu", (3,))]
    assert str(out["gpu"].device) == "cuda:0" and str(out["cpu"].device) == "cpu"
    out = load(data, map_location=lambda s, loc: s.cuda() if loc == "cpu" else s * 2)
    assert str(out["cpu"].device) == "cuda:0" and values(out["cpu"]) == [0, 1]
    assert str(out["gpu"].device) == "cpu" and values(out["gpu"]) == [0.0, 2.0, 4.0]
    with pytest.raises(RuntimeError, match="map_location returned an object of type int"):
        load(data, map_location=lambda s, loc: 3)


# ----------------------------------------------------------------------------- missing devices


@needs_cuda
@pytest.mark.parametrize("weights_only", [True, False])
def test_a_device_index_past_the_count_raises(weights_only):
    count = ember.cuda.device_count()
    message = re.escape(
        f"Attempting to deserialize object on CUDA device {count} but ember.cuda.device_count() is {count}. "
        "Please use ember.load with map_location to map your storages to an existing device."
    )
    data = saved({"t": ember.arange(3.0)})
    with pytest.raises(RuntimeError, match=message):
        load(relocated(data, f"cuda:{count}"), weights_only=weights_only)
    with pytest.raises(RuntimeError, match=message):
        load(data, map_location=f"cuda:{count}", weights_only=weights_only)
    out = load(relocated(data, f"cuda:{count}"), map_location={f"cuda:{count}": "cuda:0"})
    assert str(out["t"].device) == "cuda:0" and values(out["t"]) == [0.0, 1.0, 2.0]


@without_cuda
@pytest.mark.parametrize("weights_only", [True, False])
def test_a_cuda_file_without_cuda_raises(weights_only):
    data = relocated(saved(views(ember.arange(12.0))), "cuda:0")
    assert locations(data) == {"cuda:0"}
    with pytest.raises(RuntimeError, match=re.escape(NO_CUDA)):
        load(data, weights_only=weights_only)
    with pytest.raises(RuntimeError, match=re.escape(NO_CUDA)):
        load(saved({"t": ember.arange(3.0)}), map_location="cuda:0", weights_only=weights_only)
    for map_location in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        assert_views_share(load(data, map_location=map_location, weights_only=weights_only), "cpu")
    seen = []
    load(data, map_location=lambda s, loc: seen.append(loc) or s)
    assert seen == ["cuda:0"]


def test_a_file_torch_saved_on_cuda():
    torch = pytest.importorskip("torch")
    base = torch.arange(12.0)
    buf = io.BytesIO()
    torch.save({"a": base[2:8].view(2, 3), "b": base[4:], "t": base[2:8].view(2, 3).t()}, buf)
    data = relocated(buf.getvalue(), "cuda:0")  # as torch.save writes it from cuda:0
    assert torch.load(io.BytesIO(data), map_location="cpu")["a"].tolist() == [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]
    if ember.cuda.is_available():
        assert_views_share(load(data), "cuda:0")
    else:
        with pytest.raises(RuntimeError, match=re.escape(NO_CUDA)):
            load(data)
    assert_views_share(load(data, map_location="cpu"), "cpu")


@needs_cuda
def test_torch_reads_ember_cuda_files():
    torch = pytest.importorskip("torch")
    data = saved({"w": ember.arange(6.0).reshape(2, 3).cuda(), "i": ember.tensor([1, 2])})
    out = torch.load(io.BytesIO(data), map_location="cpu")
    assert out["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and out["i"].tolist() == [1, 2]
    if not torch.cuda.is_available():  # the location it reads is 'cuda:0'
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
            torch.load(io.BytesIO(data))
