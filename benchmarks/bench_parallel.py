"""Independent branches: ember's parallel backward executor against its serial
one and against PyTorch (whose CPU engine runs every node on one thread).

Four independent stacks of 4 x (Linear-like matmul + tanh) on one input, joined
by a sum; one call = forward + backward. ember (both executors, alternating) and
PyTorch each run in a process of their own.

    python benchmarks/bench_parallel.py [--quick] [--json PATH]
"""

import json
import sys

import numpy as np
from _harness import blas_kernels, cli, measure, run_child, write_json_of_children

SHAPES = [(64, 128), (128, 256), (256, 512)]  # (batch, width)


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
    def run():
        previous = ember.autograd.is_parallel_backward_enabled()
        ember.autograd.set_parallel_backward(enabled)
        try:
            fn()
        finally:
            ember.autograd.set_parallel_backward(previous)

    return run


def child(lib_name, batch, width, iters, repeats):
    """Times the step with one library; prints its median microseconds per call as JSON: ember's
    with each executor ({"us": parallel, "serial_us": ...}), PyTorch's ({"us": ...})."""
    lib = __import__(lib_name)
    lib.manual_seed(0)
    step = four_branches(lib, batch, width)
    fns = {"us": step}
    if lib_name == "ember":
        fns = {"us": with_parallel(lib, True, step), "serial_us": with_parallel(lib, False, step)}
    times = measure(fns, iters, repeats)
    print(json.dumps({**times, "version": lib.__version__, "threads": lib.get_num_threads()}))


def main(argv=None):
    args = cli(__doc__, argv)
    iters, repeats = (5, 3) if args.quick else (20, 7)
    results, versions, threads = [], {}, None
    for batch, width in SHAPES:
        row = {"case": f"4 branches x 4 layers, batch {batch}, width {width}"}
        scaled = max(3, iters // max(1, width // 64))
        for lib_name in ("ember", "torch"):
            found = run_child(__file__, lib_name, batch, width, scaled, repeats)
            if found is None:
                continue
            versions[lib_name] = found["version"]
            row[lib_name + "_us"] = found["us"]
            if lib_name == "ember":
                row["ember_serial_us"], threads = found["serial_us"], found["threads"]
        row["serial/parallel"] = row["ember_serial_us"] / row["ember_us"]
        if "torch_us" in row:
            row["ember/torch"] = row["ember_us"] / row["torch_us"]
        results.append(row)
    print_rows(results)
    if args.json:
        write_json_of_children(args.json, results, versions, quick=args.quick, threads=threads)
    return results


def print_rows(results):
    cols = ["ember_us", "ember_serial_us", "torch_us", "serial/parallel", "ember/torch"]
    width = max(len(r["case"]) for r in results)
    print(f"{'case':<{width}}" + "".join(f"{c:>17}" for c in cols))
    for r in results:
        print(f"{r['case']:<{width}}" + "".join(f"{r[c]:>17.2f}" if c in r else f"{'-':>17}" for c in cols))
    print(f"(ember's OpenBLAS ran its {blas_kernels()} kernels.)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], *map(int, sys.argv[3:7]))
    else:
        main()
