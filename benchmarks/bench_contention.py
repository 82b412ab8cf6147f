"""How ember and PyTorch hold up when the machine is shared: the 784-256-10 MLP training step (batch 128) and
a 512x512 float32 product, (a) alone, (b) beside a second process running the same work, (c) right after a
numpy product (numpy's OpenBLAS threads keep spinning for a while after one). Each library runs in processes
of its own with its default thread count; every call is timed, none discarded, no pauses.

    python benchmarks/bench_contention.py [--quick] [--json PATH]

Reported: median milliseconds per call in each case, and the slowdown (b)/(a) and (c)/(a). Targets:
ember's slowdown at most PyTorch's in every case, and at most 2.5x for (b) on 2 cores.
"""

import json
import os
import statistics
import subprocess
import sys
import time

WORKLOADS = ("mlp step", "512 product")


def build(lib, workload):
    lib.manual_seed(0)
    if workload == "512 product":
        a, b = lib.randn(512, 512), lib.randn(512, 512)
        return lambda: a @ b
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x, y = lib.randn(128, 784), lib.randint(0, 10, (128,))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def worker(lib_name, workload, scenario, calls):
    import numpy as np

    lib = __import__(lib_name)
    fn = build(lib, workload)
    if scenario == "load":  # the second process of (b): the same work, until it is stopped
        while True:
            fn()
    an, bn = np.random.rand(512, 512), np.random.rand(512, 512)
    samples = []
    for _ in range(calls):
        if scenario == "after numpy":
            an @ bn  # numpy's BLAS threads are now spinning
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    print(json.dumps(statistics.median(samples) * 1e3))


def run(lib, workload, scenario, calls):
    cmd = [sys.executable, __file__, "--worker", lib, workload, scenario, str(calls)]
    load = None
    if scenario == "beside another":
        load = subprocess.Popen(cmd[:4] + [workload, "load", "0"], stdout=subprocess.DEVNULL)
        time.sleep(1.0)  # the other process is up and computing before the timed one starts
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
    finally:
        if load is not None:
            load.kill()
            load.wait()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if "--worker" in sys.argv:
        i = sys.argv.index("--worker")
        lib, workload, scenario, calls = sys.argv[i + 1 : i + 5]
        worker(lib, workload, scenario, int(calls))
        return
    quick = "--quick" in sys.argv
    libs = ["ember"]
    try:
        import torch  # noqa: F401

        libs.append("torch")
    except ImportError:
        print("(PyTorch not importable: ember only)")
    calls = {"mlp step": 100 if quick else 400, "512 product": 100 if quick else 400}
    results = {}
    print(f"{os.cpu_count()} cores; median ms per call; slowdown against (a)")
    print(f"{'workload':<14}{'lib':>7}{'(a) alone':>12}{'(b) beside':>12}{'x':>7}{'(c) numpy':>12}{'x':>7}")
    for workload in WORKLOADS:
        for lib in libs:
            row = {s: run(lib, workload, s, calls[workload]) for s in ("alone", "beside another", "after numpy")}
            results.setdefault(workload, {})[lib] = row
            a = row["alone"]
            print(f"{workload:<14}{lib:>7}{a:>12.3f}{row['beside another']:>12.3f}{row['beside another'] / a:>7.2f}"
                  f"{row['after numpy']:>12.3f}{row['after numpy'] / a:>7.2f}")  # fmt: skip
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
