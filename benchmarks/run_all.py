"""Runs every benchmark, checks the ratios against ember's targets, and writes
the results as JSON and as a PNG chart (ratios, lower is better, target marked).

    python benchmarks/run_all.py [--quick] [--out DIR]     # DIR defaults to benchmarks/results

Needs matplotlib for the chart (pip install ".[bench]"); PyTorch for the
ember/torch ratios (without it those rows are reported as missing).
"""

import argparse
import json
import os
import platform

import bench_dtypes
import bench_kernels
import bench_linalg
import bench_models
import bench_overhead
import bench_parallel
import bench_training
from _harness import blas_kernels

# (label, benchmark module, case name prefix, ratio column, target: ratio must be <= target)
TARGETS = [
    ("a * b, 8 elems, requires_grad", bench_overhead, "a * b, 8 elems, requires_grad", "ember/torch", 0.5),
    ("100-op scalar chain fwd+bwd", bench_overhead, "100-op scalar chain", "ember/torch", 0.35),
    ("1-10-1 MLP train step", bench_training, "(a)", "ember/torch", 0.5),
    ("784-256-10 MLP train step", bench_training, "(b)", "ember/torch", 0.9),
    ("1024-2048-2048-10 MLP train step", bench_training, "(c)", "ember/torch", 1.0),
    ("sgemm 2048 vs numpy", bench_kernels, "sgemm", "ember/numpy", 1.1),
    ("exp(2x+1) 4M vs numpy", bench_kernels, "exp(2x + 1)", "ember/numpy", 1.0),
    ("exp(2x+1) 4M vs torch", bench_kernels, "exp(2x + 1)", "ember/torch", 1.0),
    ("4 branches: parallel vs serial", bench_parallel, "4 branches", "parallel/serial", 1 / 1.5),
    ("4 branches vs torch", bench_parallel, "4 branches", "ember/torch", 0.8),
    ("CNN train step", bench_models, "CNN step", "ember/torch", 0.8),
    ("2-layer LSTM LM train step", bench_models, "2-layer LSTM", "ember/torch", 0.8),
    ("4-layer transformer train step", bench_models, "4-layer transformer", "ember/torch", 0.9),
]


def machine():
    cores = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{model or platform.processor() or platform.machine()}, {cores} cores, OpenBLAS {blas_kernels()}"


def collect(quick):
    flags = ["--quick"] if quick else []
    results = {}
    modules = (bench_overhead, bench_training, bench_kernels, bench_parallel, bench_models, bench_dtypes, bench_linalg)
    for module in modules:
        print(f"\n== {module.__name__} ==")
        results[module.__name__] = module.main(flags)
    return results


def check(results):
    rows = []
    for label, module, prefix, column, target in TARGETS:
        matches = [r for r in results[module.__name__] if r["case"].startswith(prefix)]
        for r in matches:
            if column == "parallel/serial" and "serial/parallel" in r:
                ratio = 1 / r["serial/parallel"]
            else:
                ratio = r.get(column)
            name = label if len(matches) == 1 else f"{label} ({r['case'].split(',', 1)[-1].strip()})"
            rows.append({"target": name, "ratio": ratio, "limit": target, "met": ratio is not None and ratio <= target})
    return rows


def chart(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(shown) + 1.5))
    y = range(len(shown))
    ax.barh(y, [r["ratio"] for r in shown], color=["#2a9d8f" if r["met"] else "#e76f51" for r in shown])
    ax.scatter([r["limit"] for r in shown], y, marker="|", s=300, color="black", label="target", zorder=3)
    ax.set_yticks(list(y), [r["target"] for r in shown])
    ax.invert_yaxis()
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("time ratio, ember / peer (lower is better)")
    ax.set_title(f"ember benchmarks: {machine()}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = parser.parse_args(argv)
    results = collect(args.quick)
    rows = check(results)
    print(f"\n{'target':<58}{'ratio':>8}{'limit':>8}  met")
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(f"{r['target']:<58}{ratio:>8}{r['limit']:>8.2f}  {'yes' if r['met'] else 'NO'}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"machine": machine(), "quick": args.quick, "targets": rows, "benchmarks": results}, f, indent=2)
    try:
        chart(rows, os.path.join(args.out, "results.png"))
    except ImportError:
        print("(matplotlib not installed: no chart)")
    return rows


if __name__ == "__main__":
    main()
