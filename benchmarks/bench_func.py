"""Function transforms: vmap(grad) per-sample gradients, and jacrev/jacfwd/hessian, ember beside
PyTorch's torch.func, each library timed in its own process.

Cases (written once against the PyTorch API):
- per-sample gradients of a 784-128-10 MLP's cross-entropy over a batch of 64, with
  vmap(grad(loss), in_dims=(None, 0, 0)), and the same as a Python loop of autograd.grad
  (one backward pass per sample), the baseline vmap replaces;
- jacrev and jacfwd of tanh(W @ x) (W 16x32), and the hessian of sum(tanh(W @ x)).

    python benchmarks/bench_func.py [--quick] [--json PATH]
"""

import json
import statistics
import sys
import time

from _harness import cli, print_table, run_child, write_json_of_children

BATCH, IN, HIDDEN, OUT = 64, 784, 128, 10
CASES = [
    f"per-sample grads, vmap(grad), MLP {IN}-{HIDDEN}-{OUT}, batch {BATCH}",
    f"per-sample grads, loop of autograd.grad, batch {BATCH}",
    "jacrev of tanh(W x), 16x32",
    "jacfwd of tanh(W x), 16x32",
    "hessian of sum(tanh(W x)), 32",
]


def workloads(lib):
    """The cases as zero-argument callables, in CASES order."""
    F = lib.nn.functional
    func = lib.func
    lib.manual_seed(0)
    params = (lib.randn(HIDDEN, IN) * 0.05, lib.zeros(HIDDEN), lib.randn(OUT, HIDDEN) * 0.1, lib.zeros(OUT))
    x, t = lib.randn(BATCH, IN), lib.randint(0, OUT, (BATCH,))

    def loss(p, xi, ti):
        h = F.relu(F.linear(xi, p[0], p[1]))
        return F.cross_entropy(F.linear(h, p[2], p[3]).unsqueeze(0), ti.unsqueeze(0))

    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))

    def loop():
        out = []
        for i in range(BATCH):
            leaves = [p.detach().requires_grad_() for p in params]
            out.append(lib.autograd.grad(loss(leaves, x[i], t[i]), leaves))
        return out

    w = lib.randn(16, 32, dtype=lib.float64)
    v = lib.randn(32, dtype=lib.float64)

    def g(u):
        return lib.tanh(w @ u)

    def f(u):
        return lib.tanh(w @ u).sum()

    return [
        lambda: per_sample(params, x, t),
        loop,
        lambda: func.jacrev(g)(v),
        lambda: func.jacfwd(g)(v),
        lambda: func.hessian(f)(v),
    ]


def median_us(fn, iters, repeats):
    """Median over `repeats` blocks of `iters` back-to-back calls (no pauses, no untimed calls: the
    first block pays first-call costs, the median keeps what a user's loop sees)."""
    blocks = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        blocks.append((time.perf_counter() - start) / iters * 1e6)
    return statistics.median(blocks)


def child(lib_name, iters, repeats):
    """Times every case with one library; prints {case: median microseconds} and the version as JSON."""
    lib = __import__(lib_name)
    times = {case: median_us(fn, iters, repeats) for case, fn in zip(CASES, workloads(lib))}
    print(json.dumps({"us": times, "version": getattr(lib, "__version__", None)}))


def main(argv=None):
    args = cli(__doc__, list(sys.argv[1:] if argv is None else argv))
    iters, repeats = (3, 3) if args.quick else (10, 5)
    per_lib, versions = {}, {}
    for lib_name in ("ember", "torch"):
        result = run_child(__file__, lib_name, iters, repeats)
        if result is not None:
            per_lib[lib_name], versions[lib_name] = result["us"], result["version"]
    results = []
    for case in CASES:
        row = {"case": case}
        for lib_name, times in per_lib.items():
            row[lib_name + "_us"] = times[case]
        if "torch_us" in row:
            row["ember/torch"] = row["ember_us"] / row["torch_us"]
        results.append(row)
    for lib_name, times in per_lib.items():  # what vmap saves over the loop, in each library
        results[1][f"{lib_name} loop/vmap"] = times[CASES[1]] / times[CASES[0]]
    print_table(results)
    if args.json:
        write_json_of_children(args.json, results, versions, quick=args.quick)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
