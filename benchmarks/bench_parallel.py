"""Independent branches: ember's parallel backward executor against its serial
one and against PyTorch (whose CPU engine runs every node on one thread).

Four independent stacks of 4 x (Linear-like matmul + tanh) on one input, joined
by a sum; one call = forward + backward.

    python benchmarks/bench_parallel.py [--quick] [--json PATH]
"""

import numpy as np
from _harness import cli, libraries, measure, write_json

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


def main(argv=None):
    args = cli(__doc__, argv)
    iters, repeats = (5, 3) if args.quick else (20, 7)
    libs = dict(libraries())
    ember, torch = libs["ember"], libs.get("torch")
    results = []
    for batch, width in SHAPES:
        step = four_branches(ember, batch, width)
        fns = {"ember": with_parallel(ember, True, step), "ember_serial": with_parallel(ember, False, step)}
        if torch is not None:
            fns["torch"] = four_branches(torch, batch, width)
        scale = max(1, width // 64)
        times = measure(fns, max(3, iters // scale), repeats)
        row = {"case": f"4 branches x 4 layers, batch {batch}, width {width}"}
        row.update({name + "_us": t for name, t in times.items()})
        row["serial/parallel"] = row["ember_serial_us"] / row["ember_us"]
        if torch is not None:
            row["ember/torch"] = row["ember_us"] / row["torch_us"]
        results.append(row)
    print_rows(results)
    if args.json:
        write_json(args.json, results, list(libs.items()), quick=args.quick, threads=ember.get_num_threads())
    return results


def print_rows(results):
    cols = ["ember_us", "ember_serial_us", "torch_us", "serial/parallel", "ember/torch"]
    width = max(len(r["case"]) for r in results)
    print(f"{'case':<{width}}" + "".join(f"{c:>17}" for c in cols))
    for r in results:
        print(f"{r['case']:<{width}}" + "".join(f"{r[c]:>17.2f}" if c in r else f"{'-':>17}" for c in cols))


if __name__ == "__main__":
    main()
