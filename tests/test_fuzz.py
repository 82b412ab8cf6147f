"""Random op programs (tests/fuzz_ops.py) never crash, hang or reach an
internal assert: each hypothesis example is a batch of programs run in a
subprocess. EMBER_FUZZ_EXAMPLES sets how many batches (a long run: 500).

With PyTorch importable, the differential test runs the same programs on both
and compares: where both succeed, the same shapes, dtypes and values."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ember
from fuzz_ops import ALL_DTYPES, programs
from helpers import python_command

HERE = Path(__file__).resolve().parent
EXAMPLES = int(os.environ.get("EMBER_FUZZ_EXAMPLES", "12"))
ROWS = [
    r
    for r in ember._C._op_registry()
    if r["family"] not in ("random numbers", "utilities")
    and (r["function"] or r["method"])
    and not r["name"].startswith("_")
]
BATCH = st.lists(programs(ROWS), min_size=20, max_size=20)
BATCH_ALL_DTYPES = st.lists(programs(ROWS, dtypes=ALL_DTYPES), min_size=20, max_size=20)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def run_batch(tmp_path, batch, *extra):
    path = tmp_path / "programs.json"
    path.write_text(json.dumps(batch))
    try:
        out = subprocess.run(
            [*python_command(), str(HERE / "fuzz_ops.py"), str(path), *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hang: a batch of programs ran over 120 s; programs in {path}")
    # a sanitizer's report starts with the line naming the error; the end is the rest of the trace
    report = [line for line in out.stderr.splitlines() if "runtime error" in line or "Sanitizer" in line]
    assert out.returncode == 0, (
        f"crash (exit {out.returncode}): {report[:3]} ... {out.stderr[-1500:]}\nprograms in {path}"
    )
    return json.loads(out.stdout.splitlines()[-1])


@FUZZ_SETTINGS
@given(batch=BATCH_ALL_DTYPES)
def test_random_programs_never_crash(tmp_path_factory, batch):
    results = run_batch(tmp_path_factory.mktemp("fuzz"), batch)["ember"]
    internal = [o for outcomes in results for o in outcomes if o[0] == "error" and "internal assert" in o[2]]
    assert not internal, f"internal asserts reached from Python: {internal[:3]}"
    errors = {o[1] for outcomes in results for o in outcomes if o[0] == "error"}
    assert errors <= {
        "TypeError",
        "RuntimeError",
        "ValueError",
        "IndexError",
        "NotImplementedError",
        "OverflowError",
    }, errors


def same(a, b):
    import math

    if a is None or b is None:
        return a is b
    if a["shape"] != b["shape"] or a["dtype"] != b["dtype"]:
        return False
    if a["values"] is None or b["values"] is None:
        return a["values"] is b["values"]
    return all(
        x == y
        or (
            isinstance(x, float)
            and isinstance(y, float)
            and (math.isclose(x, y, rel_tol=1e-4, abs_tol=1e-5) or (x != x and y != y))
        )
        for x, y in zip(a["values"], b["values"])
    )


def pytorch_overflows(step):
    """PyTorch negates sub's alpha as a 64-bit integer: alpha = -2**63 stays -2**63 there (x - alpha * y
    becomes x + alpha * y), where ember computes the true value, as numpy would."""
    alpha = step["kwargs"].get("alpha")
    return step["op"] in ("sub", "subtract", "rsub") and alpha == {"num": -(2**63)}


@settings(FUZZ_SETTINGS, phases=[Phase.explicit, Phase.generate])  # no shrinking: the message has the program
@given(batch=BATCH)
def test_differential_against_pytorch(tmp_path_factory, batch):
    pytest.importorskip("torch")
    results = run_batch(tmp_path_factory.mktemp("fuzz"), batch, "--torch")
    mismatches = []
    for program, mine, theirs in zip(batch, results["ember"], results["torch"]):
        for step, (a, b) in enumerate(zip(mine, theirs)):
            if step < len(program["steps"]) and pytorch_overflows(program["steps"][step]):
                break  # PyTorch's value is the overflowed one; later steps see different tensors
            if a[0] == "ok" and b[0] == "ok" and not all(same(x, y) for x, y in zip(a[1], b[1])):
                mismatches.append((program, step, a, b))
            if a[0] != b[0] or a[0] == "error":
                break  # one side failed: later steps see different tensors
    assert not mismatches, f"{len(mismatches)} value mismatches; first: {json.dumps(mismatches[0])[:3000]}"
