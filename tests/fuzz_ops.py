"""Random op programs for tests/test_fuzz.py: hypothesis strategies that build
them (JSON-able data) and an interpreter that runs them on ember, and on
PyTorch for the differential mode.

A program is a list of input tensors (shape, dtype, layout: contiguous,
transposed, strided, broadcast, 0-d, empty; requires_grad) and a list of
steps, each calling one registered op in one of its forms (function, method,
in-place, out=) with arguments of every kind: tensors of the program, Python
numbers (including huge and negative ones), None, strings, lists, dtypes.
Expected failures are Python exceptions; what must never happen is a crash, a
hang, or an internal assert reaching Python.

    python tests/fuzz_ops.py PROGRAMS.json [--torch]

runs a batch and prints one JSON line of results (what test_fuzz.py reads).
"""

from __future__ import annotations

import json
import sys
import warnings

from hypothesis import strategies as st

DTYPES = ["float32", "float64", "int64", "int32", "bool"]
# The storage dtypes (Note [Storage dtypes]) join the crash search; the differential test keeps DTYPES,
# since a float16 result rounded at other points than PyTorch's differs by more than its tolerance.
ALL_DTYPES = DTYPES + ["uint8", "int8", "int16", "float16", "bfloat16"]
LAYOUTS = ["contiguous", "contiguous", "contiguous", "transposed", "strided", "broadcast"]
# Sizes: small ones, 0, and a few that overflow any size computation; never
# ones in between, which would only allocate gigabytes.
SIZES = [0, 1, 2, 3, 4, 5]
HUGE = [2**62, 2**63 - 1, -1, -2, -(2**62)]
NUMBERS = [0, 1, 2, -1, 3, 0.5, -2.5, 1e30, float("inf"), float("nan"), True, False, 2**62, -(2**63)]

shapes = st.lists(st.sampled_from(SIZES), min_size=0, max_size=4)


@st.composite
def tensor_specs(draw, dtypes):
    shape = draw(shapes)
    return {
        "shape": shape,
        "dtype": draw(st.sampled_from(dtypes)),
        "layout": draw(st.sampled_from(LAYOUTS)),
        "requires_grad": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def _param_kinds(op):
    """(name, kind) of each parameter, from the op's signature."""
    import inspect

    try:
        params = list(inspect.signature(op).parameters.values())
    except (TypeError, ValueError):
        return []
    return [(p.name, p.kind) for p in params]


@st.composite
def argument(draw, name, n_tensors, dtypes):
    """A value for parameter `name`: usually a plausible one, sometimes anything."""
    wild = draw(st.integers(0, 9)) == 0
    tensor = {"tensor": draw(st.integers(0, n_tensors - 1))}
    if wild:
        return draw(
            st.sampled_from(
                [None, {"str": "x"}, {"list": [1, 2]}, {"num": 2**62}, {"num": -(2**63)}, tensor, {"dtype": "int64"}]
            )
        )
    if name in ("dim", "dim0", "dim1", "start_dim", "end_dim", "axis", "start", "length", "index", "chunks"):
        if name == "index" and draw(st.booleans()):
            return tensor
        return {"num": draw(st.sampled_from([0, 1, -1, 2, -2, 3, 5] + HUGE))}
    if name in ("keepdim", "unbiased", "ceil_mode"):
        return {"num": draw(st.booleans())}
    if name == "dtype":
        return draw(st.sampled_from([None] + [{"dtype": d} for d in dtypes]))
    if name in ("alpha", "beta", "correction", "p", "min", "max", "value", "fill_value", "exponent"):
        return draw(st.sampled_from([None, tensor, *({"num": n} for n in NUMBERS)]))
    if name in ("tensors",):
        return {"tensors": draw(st.lists(st.integers(0, n_tensors - 1), max_size=3))}
    if name in ("split_size_or_sections", "stride", "padding", "dilation", "kernel_size", "groups", "shape", "dims"):
        return draw(
            st.sampled_from(
                [{"num": n} for n in (1, 2, 0, -1, 2**62)] + [{"list": [1, 2]}, {"list": [2, -1]}, {"list": []}]
            )
        )
    return draw(st.sampled_from([tensor, tensor, tensor, {"num": draw(st.sampled_from(NUMBERS))}, None]))


@st.composite
def steps(draw, rows, n_tensors, dtypes):
    import ember

    row = draw(st.sampled_from(rows))
    forms = [f for f in ("function", "method", "inplace", "out") if row[f]]
    form = draw(st.sampled_from(forms))
    name = row["name"]
    if form in ("function", "out"):
        op = getattr(ember, name)
    else:
        op = getattr(ember.Tensor, name + ("_" if form == "inplace" else ""))
    kinds = _param_kinds(op)
    first = None
    if kinds and kinds[0][0] in ("input", "self"):  # the tensor the op applies to
        first = {"tensor": draw(st.integers(0, n_tensors - 1))}
        kinds = kinds[1:]
    args, kwargs = [], {}
    for pname, kind in kinds:
        if pname == "out" or kind.name == "VAR_KEYWORD":
            continue
        if kind.name == "VAR_POSITIONAL":
            args += [{"num": draw(st.sampled_from(SIZES + [-1, 2**62]))} for _ in range(draw(st.integers(0, 3)))]
            continue
        if draw(st.integers(0, 3)) == 0:  # leave it to its default
            continue
        value = draw(argument(pname, n_tensors, dtypes))
        if kind.name == "KEYWORD_ONLY":
            kwargs[pname] = value
        else:
            args.append(value)
    return {"op": name, "form": form, "first": first, "args": args, "kwargs": kwargs}


@st.composite
def programs(draw, rows, max_steps=6, dtypes=DTYPES):
    inputs = draw(st.lists(tensor_specs(dtypes), min_size=1, max_size=4))
    body = draw(st.lists(steps(rows, len(inputs), dtypes), min_size=1, max_size=max_steps))
    return {"inputs": inputs, "steps": body, "backward": draw(st.booleans())}


# ------------------------------------------------------------------ interpreter
def make_tensor(lib, spec):
    import numpy as np

    rng = np.random.default_rng(spec["seed"])
    shape = spec["shape"]
    layout = spec["layout"]
    dtype = getattr(lib, spec["dtype"])
    if layout == "transposed" and len(shape) >= 2:
        base_shape = shape[:-2] + [shape[-1], shape[-2]]
    elif layout == "strided" and len(shape) >= 1:
        base_shape = shape[:-1] + [shape[-1] * 2]
    elif layout == "broadcast" and len(shape) >= 1:
        base_shape = [1] + shape[1:]
    else:
        base_shape = shape
    values = rng.uniform(-3, 3, base_shape)
    if spec["dtype"] == "bool":
        values = values > 0
    elif "int" in spec["dtype"]:
        values = np.round(values)
    t = lib.tensor(values, dtype=dtype)
    if layout == "transposed" and len(shape) >= 2:
        t = t.transpose(-1, -2)
    elif layout == "strided" and len(shape) >= 1:
        t = t[..., ::2]
    elif layout == "broadcast" and len(shape) >= 1:
        t = t.expand(*shape)
    if spec["requires_grad"] and "float" in spec["dtype"]:
        t = t.detach().requires_grad_(True)
    return t


def decode(lib, value, tensors):
    if value is None:
        return None
    if "tensor" in value:
        return tensors[value["tensor"] % len(tensors)]
    if "tensors" in value:
        return [tensors[i % len(tensors)] for i in value["tensors"]]
    if "num" in value:
        return value["num"]
    if "str" in value:
        return value["str"]
    if "list" in value:
        return list(value["list"])
    if "dtype" in value:
        return getattr(lib, value["dtype"])
    raise ValueError(value)


def run_program(lib, program):
    """Runs a program; returns a list of step outcomes: ('ok', values) or ('error', type name, message)."""
    outcomes = []
    try:
        tensors = [make_tensor(lib, spec) for spec in program["inputs"]]
    except Exception as exc:  # noqa: BLE001  (a failing input is an outcome like any other)
        return [("error", type(exc).__name__, str(exc)[:200])]
    for step in program["steps"]:
        name, form = step["op"], step["form"]
        args = [decode(lib, a, tensors) for a in step["args"]]
        kwargs = {k: decode(lib, v, tensors) for k, v in step["kwargs"].items()}
        lead = [decode(lib, step["first"], tensors)] if step["first"] else []
        try:
            if form == "function":
                result = getattr(lib, name)(*lead, *args, **kwargs)
            elif form == "out":
                out = lib.empty(0, dtype=lead[0].dtype if lead else lib.float32)
                result = getattr(lib, name)(*lead, *args, out=out, **kwargs)
            else:
                result = getattr(lead[0], name + ("_" if form == "inplace" else ""))(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            outcomes.append(("error", type(exc).__name__, str(exc)[:200]))
            continue
        results = result if isinstance(result, (tuple, list)) else [result]
        new = [r for r in results if isinstance(r, lib.Tensor)]
        tensors.extend(new)
        outcomes.append(("ok", [summarize(r) for r in new]))
    if program["backward"]:
        roots = [t for t in tensors if t.requires_grad and t.dtype.is_floating_point]
        if roots:
            try:
                roots[-1].sum().backward()
                outcomes.append(("ok", [summarize(t.grad) for t in tensors[: len(program["inputs"])]]))
            except Exception as exc:  # noqa: BLE001
                outcomes.append(("error", type(exc).__name__, str(exc)[:200]))
    return outcomes


def summarize(t):
    """A tensor as comparable data: shape, dtype name and values (None for no tensor)."""
    if t is None:
        return None
    if t.numel() > 10000:  # a broadcast view of a huge size: its shape is what there is to compare
        return {"shape": list(t.shape), "dtype": str(t.dtype).split(".")[-1], "values": None}
    values = t.detach().double() if t.dtype.is_floating_point else t.detach().long()
    return {"shape": list(t.shape), "dtype": str(t.dtype).split(".")[-1], "values": values.reshape(-1).tolist()}


def main() -> int:
    path, use_torch = sys.argv[1], "--torch" in sys.argv
    with open(path) as f:
        batch = json.load(f)
    import ember

    libs = {"ember": ember}
    if use_torch:
        import torch

        libs["torch"] = torch
    warnings.simplefilter("ignore")
    results = {name: [run_program(lib, p) for p in batch] for name, lib in libs.items()}
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
