"""Independent branches: ember as it runs by default, with its parallel backward
executor and with its serial one, against PyTorch (whose CPU engine runs every
node on one thread).

Four independent stacks of 4 x (Linear-like matmul + tanh) on one input, joined
by a sum; one call = forward + backward. Each of ember's three settings, and
PyTorch, runs in a process of its own (timed in one process, alternating, the
parallel executor's idle helper threads slowed the default that followed it);
ember/torch compares ember's default.

    python benchmarks/bench_parallel.py [--quick] [--json PATH]
"""

import json
import sys

import numpy as np
from _harness import blas_kernels, cli, measure, run_child, write_json_of_children

SHAPES = [(64, 128), (128, 256), (256, 512)]  # (batch, width)
# ember's variants: its default (the serial executor below 4 threads), the parallel executor, the serial one
VARIANTS = {"us": None, "parallel_us": True, "serial_us": False}


def four_branches(lib, batch, width, depth=4, branches=4):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, width)).astype(np.float32))
    ws = [
        [
            lib.tensor((rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32), requires_grad=True)
            for _ in range(depth)
        ]
        for _ in range(branches)
    ]
    params = [w for br in ws for w in br]

    def step():
        total = 0
        for br in ws:
            h = x
            for w in br:
                h = (h @ w).tanh()
            total = total + h.sum()
        total.backward()
        for w in params:
            w.grad = None

    return step


def with_parallel(ember, enabled, fn):
    """fn run with the parallel executor set on (True), off (False) or to its default (None)."""

    def run():
        previous = ember._C._parallel_backward_setting()
        ember.autograd.set_parallel_backward(enabled)
        try:
            fn()
        finally:
            ember.autograd.set_parallel_backward(previous)

    return run


def child(lib_name, batch, width, iters, repeats, setting=None):
    """Times the step with one library (ember under one executor setting: VARIANTS's value, by its
    key); prints {"us": median microseconds, "version", "threads"} as JSON."""
    lib = __import__(lib_name)
    lib.manual_seed(0)
    step = four_branches(lib, batch, width)
    if lib_name == "ember" and VARIANTS[setting] is not None:  # the default runs as a user's code would
        step = with_parallel(lib, VARIANTS[setting], step)
    us = measure(step, iters, repeats)
    print(json.dumps({"us": us, "version": lib.__version__, "threads": lib.get_num_threads()}))


def main(argv=None):
    args = cli(__doc__, argv)
    iters, repeats = (5, 3) if args.quick else (20, 7)
    results, versions, threads = [], {}, None
    for batch, width in SHAPES:
        row = {"case": f"4 branches x 4 layers, batch {batch}, width {width}"}
        scaled = max(3, iters // max(1, width // 64))
        for setting in VARIANTS:
            found = run_child(__file__, "ember", batch, width, scaled, repeats, setting)
            row["ember_" + setting] = found["us"]
            versions["ember"], threads = found["version"], found["threads"]
        found = run_child(__file__, "torch", batch, width, scaled, repeats)
        if found is not None:
            versions["torch"], row["torch_us"] = found["version"], found["us"]
        row["serial/parallel"] = row["ember_serial_us"] / row["ember_parallel_us"]
        if "torch_us" in row:
            row["ember/torch"] = row["ember_us"] / row["torch_us"]
        results.append(row)
    print_rows(results)
    if args.json:
        write_json_of_children(args.json, results, versions, quick=args.quick, threads=threads)
    return results


def print_rows(results):
    cols = ["ember_us", "ember_parallel_us", "ember_serial_us", "torch_us", "serial/parallel", "ember/torch"]
    width = max(len(r["case"]) for r in results)
    print(f"{'case':<{width}}" + "".join(f"{c:>19}" for c in cols))
    for r in results:
        print(f"{r['case']:<{width}}" + "".join(f"{r[c]:>19.2f}" if c in r else f"{'-':>19}" for c in cols))
    print(f"(ember's OpenBLAS ran its {blas_kernels()} kernels.)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], *map(int, sys.argv[3:7]), *sys.argv[7:8])
    else:
        main()
