"""What profiling costs: a small op (a * b, 8 elements) and a training step of the 1-10-1 MLP, with no
profiler, under the profiler, and under the profiler with record_shapes and profile_memory; ember and
PyTorch, each in a process of its own; every call timed, none discarded.

    python benchmarks/bench_profiler.py [--quick] [--json PATH]

Reported: microseconds per call, and the microseconds the profiler adds per recorded event (the time added
per call divided by the events one call records).
"""

import json
import statistics
import subprocess
import sys
import time


def cases(lib):
    lib.manual_seed(0)
    a, b = lib.randn(8), lib.randn(8)
    model = lib.nn.Sequential(lib.nn.Linear(1, 10), lib.nn.Tanh(), lib.nn.Linear(10, 1))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x, y = lib.randn(100, 1), lib.randn(100, 1)

    def step():
        opt.zero_grad()
        lib.nn.functional.mse_loss(model(x), y).backward()
        opt.step()

    return {"a * b, 8 elements": (lambda: a * b, 20000), "1-10-1 MLP train step": (step, 2000)}


def timed(fn, iters):
    """Median of 5 runs of iters calls, microseconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        runs.append((time.perf_counter() - start) / iters * 1e6)
    return statistics.median(runs)


def worker(lib_name, quick):
    lib = __import__(lib_name)
    prof_mod = lib.profiler
    rows = {}
    for name, (fn, iters) in cases(lib).items():
        iters = iters // 10 if quick else iters
        off = timed(fn, iters)
        with prof_mod.profile() as p:
            fn()
        events = len(p.events())
        with prof_mod.profile():
            on = timed(fn, iters)
        with prof_mod.profile(record_shapes=True, profile_memory=True):
            full = timed(fn, iters)
        rows[name] = {"off_us": off, "on_us": on, "full_us": full, "events": events}
    print(json.dumps(rows))


def main():
    quick = "--quick" in sys.argv
    if "--worker" in sys.argv:
        worker(sys.argv[sys.argv.index("--worker") + 1], quick)
        return
    results = {}
    for lib in ("ember", "torch"):
        try:
            out = subprocess.run([sys.executable, __file__, "--worker", lib] + (["--quick"] if quick else []),
                                 capture_output=True, text=True, check=True)  # fmt: skip
        except subprocess.CalledProcessError as e:
            if lib == "torch":
                print("(PyTorch not importable: ember only)")
                continue
            raise RuntimeError(e.stderr) from e
        results[lib] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{'case':<24}{'lib':>7}{'off us':>10}{'on us':>10}{'+/event':>10}{'full us':>10}{'+/event':>10}{'events':>8}"
    )
    for case in results["ember"]:
        for lib, rows in results.items():
            r = rows[case]
            per = (r["on_us"] - r["off_us"]) / r["events"]
            per_full = (r["full_us"] - r["off_us"]) / r["events"]
            print(f"{case:<24}{lib:>7}{r['off_us']:>10.2f}{r['on_us']:>10.2f}{per:>10.2f}{r['full_us']:>10.2f}"
                  f"{per_full:>10.2f}{r['events']:>8}")  # fmt: skip
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
