"""Per-op overhead: ember beside PyTorch (and numpy where it applies).

Small graphs are dominated by what each op costs before and after its kernel
(dispatch, autograd bookkeeping, allocation), not by arithmetic. Each case
below is a function of the library module, so the same code times ember and
torch in one run on one machine.

    python benchmarks/bench_overhead.py [--quick] [--json PATH]

Times are microseconds per call: the median over repeats, each repeat timing
many calls with time.perf_counter.
"""

import argparse
import json
import platform
import statistics
import sys
import time

import numpy as np


def measure(fns, iters, repeats):
    """Median microseconds per call of each fn in `fns` (a dict name -> fn).

    Repeats alternate between the functions, so drift on a busy machine
    (frequency scaling, other processes) falls on every library alike.
    """
    for fn in fns.values():
        for _ in range(max(1, iters // 10)):  # warm-up: caches, lazy init, allocator
            fn()
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(iters):
                fn()
            samples[name].append((time.perf_counter() - start) / iters * 1e6)
    return {name: statistics.median(s) for name, s in samples.items()}


# Each case takes the library module and returns (fn, iters_scale): a
# zero-argument callable to time and how expensive one call is relative to a
# single op (used to scale the iteration count so every case takes similar time).

def mul_8_grad(lib):
    a = lib.randn(8, requires_grad=True)
    b = lib.randn(8, requires_grad=True)
    return (lambda: a * b), 1


def add_8_grad(lib):
    a = lib.randn(8, requires_grad=True)
    b = lib.randn(8, requires_grad=True)
    return (lambda: a + b), 1


def mul_8(lib):
    a = lib.randn(8)
    b = lib.randn(8)
    return (lambda: a * b), 1


def add_8(lib):
    a = lib.randn(8)
    b = lib.randn(8)
    return (lambda: a + b), 1


def chain_100_fwd_bwd(lib):
    def run():
        x = lib.tensor(1.0, requires_grad=True)
        y = x
        for i in range(100):
            k = i % 3
            if k == 0:
                y = y * 1.01
            elif k == 1:
                y = y + 0.5
            else:
                y = y.sin()
        y.backward()
    return run, 200


def mlp_8_fwd_bwd(lib):
    x = lib.randn(8, 8)
    w1 = lib.randn(8, 8, requires_grad=True)
    w2 = lib.randn(8, 8, requires_grad=True)

    def run():
        h = (x @ w1).relu()
        loss = (h @ w2).sum()
        loss.backward()
        w1.grad = None
        w2.grad = None
    return run, 10


# numpy has no autograd: it is a floor for the forward-only cases.
def np_mul_8():
    a = np.random.randn(8).astype(np.float32)
    b = np.random.randn(8).astype(np.float32)
    return lambda: a * b


def np_add_8():
    a = np.random.randn(8).astype(np.float32)
    b = np.random.randn(8).astype(np.float32)
    return lambda: a + b


CASES = [
    ("a * b, 8 elems, requires_grad", mul_8_grad, np_mul_8),
    ("a + b, 8 elems, requires_grad", add_8_grad, np_add_8),
    ("a * b, 8 elems", mul_8, np_mul_8),
    ("a + b, 8 elems", add_8, np_add_8),
    ("100-op scalar chain, fwd+bwd", chain_100_fwd_bwd, None),
    ("MLP 8x8 matmul/relu/sum, fwd+bwd", mlp_8_fwd_bwd, None),
]


def import_optional(name):
    try:
        return __import__(name)
    except ImportError:
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a few seconds)")
    parser.add_argument("--json", metavar="PATH", help="write results as JSON to PATH")
    args = parser.parse_args(argv)

    # Calls per repeat for a one-op case; costlier cases get proportionally fewer.
    base_iters, repeats = (2000, 5) if args.quick else (20000, 11)

    import ember
    torch = import_optional("torch")
    libs = [("ember", ember)] + ([("torch", torch)] if torch is not None else [])
    for _, lib in libs:
        lib.manual_seed(0)

    results = []
    for name, case, np_case in CASES:
        fns = {}
        for lib_name, lib in libs:
            fns[lib_name], scale = case(lib)
        if np_case is not None:
            fns["numpy"] = np_case()
        times = measure(fns, max(10, base_iters // scale), repeats)
        row = {"case": name}
        row.update({lib_name + "_us": t for lib_name, t in times.items()})
        if "torch_us" in row:
            row["ember/torch"] = row["ember_us"] / row["torch_us"]
        results.append(row)

    print_table(results, with_torch=torch is not None)
    if torch is None:
        print("(PyTorch not importable: ember's numbers alone.)")

    if args.json:
        meta = {
            "python": sys.version.split()[0],
            "machine": platform.machine(),
            "ember": getattr(ember, "__version__", None),
            "torch": getattr(torch, "__version__", None),
            "numpy": np.__version__,
            "quick": args.quick,
        }
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)
    return results


def print_table(results, with_torch):
    cols = ["ember_us"] + (["torch_us"] if with_torch else []) + ["numpy_us"]
    heads = {"ember_us": "ember us", "torch_us": "torch us", "numpy_us": "numpy us"}
    width = max(len(r["case"]) for r in results)
    header = f"{'case':<{width}}" + "".join(f"{heads[c]:>11}" for c in cols)
    if with_torch:
        header += f"{'ember/torch':>13}"
    print(header)
    print("-" * len(header))
    for r in results:
        line = f"{r['case']:<{width}}"
        for c in cols:
            line += f"{r[c]:>11.2f}" if c in r else f"{'-':>11}"
        if with_torch:
            line += f"{r['ember/torch']:>13.2f}"
        print(line)


if __name__ == "__main__":
    main()
