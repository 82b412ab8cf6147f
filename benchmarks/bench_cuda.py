"""The CUDA backend: ember beside PyTorch on the same GPU, in one run.

(a) sgemm 8192x8192 float32        a @ b: TFLOP/s of each (PyTorch with TF32 off, its default), ember/torch throughput
(b) exp(2x + 1), 64M float32       three elementwise passes: achieved GB/s (each pass reads and writes 256 MB);
                                   against a plain copy y.copy_(x) of the same size, the bandwidth a kernel can reach
(c) 4096-4096-4096-10 MLP step     batch 1024, Linear + ReLU, cross_entropy, SGD: time per step, ember/torch
(d) 1-10-1 MLP step                100 samples, tanh, MSE, SGD (bench_training's (a)): launch and dispatch overhead
(e) the same step in a CUDA graph  captured once (PyTorch's recipe: warm-up steps, then capture), one replay a step

    python benchmarks/bench_cuda.py [--quick] [--json PATH]

Every library runs in a process of its own. A timed region queues `iters` calls and ends with the library's
cuda.synchronize(), so the time is the GPU's, not the launch queue's; the median over repeats is reported.
Without a GPU (ember.cuda.is_available() or torch.cuda.is_available() False) it says so and exits 0.
"""

import json
import statistics
import subprocess
import sys
import time

import numpy as np
from _harness import cli, write_json_of_children

N_GEMM = 8192
N_ELEMS = 64 << 20  # 64M float32: 256 MB
CHILD_TIMEOUT_S = 300


def sgemm(lib):
    if lib.__name__ == "torch":
        lib.backends.cuda.matmul.allow_tf32 = False  # PyTorch's default, said out loud: full float32 products
    a, b = lib.rand(N_GEMM, N_GEMM, device="cuda"), lib.rand(N_GEMM, N_GEMM, device="cuda")
    return lambda: a @ b


def exp_affine(lib):
    x = lib.rand(N_ELEMS, device="cuda")
    return lambda: (2 * x + 1).exp()


def copy(lib):
    x = lib.rand(N_ELEMS, device="cuda")
    y = lib.empty(N_ELEMS, device="cuda")
    return lambda: y.copy_(x)


def mlp_step(sizes, batch, loss_kind, act):
    """One training step (zero_grad, forward, loss, backward, SGD step), written once against the PyTorch API."""

    def case(lib):
        nn = lib.nn
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
        model = nn.Sequential(*layers).to("cuda")
        loss_fn = nn.MSELoss() if loss_kind == "mse" else nn.CrossEntropyLoss()
        opt = lib.optim.SGD(model.parameters(), lr=0.01)
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32)).to("cuda")
        if loss_kind == "mse":
            y = lib.tensor(rng.standard_normal((batch, sizes[-1])).astype(np.float32)).to("cuda")
        else:
            y = lib.tensor(rng.integers(0, sizes[-1], batch)).to("cuda")

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        return step

    return case


def graphed(make_step):
    """A case's step captured in a CUDA graph after three warm-up steps; each call is one replay."""

    def case(lib):
        step = make_step(lib)
        for _ in range(3):
            step()
        lib.cuda.synchronize()
        g = lib.cuda.CUDAGraph()
        with lib.cuda.graph(g):
            step()
        return g.replay

    return case


CASES = {
    "sgemm": sgemm,
    "exp": exp_affine,
    "copy": copy,
    "mlp4096": mlp_step((4096, 4096, 4096, 10), 1024, "ce", "relu"),
    "mlp1101": mlp_step((1, 10, 1), 100, "mse", "tanh"),
    "mlp1101_graph": graphed(mlp_step((1, 10, 1), 100, "mse", "tanh")),
}


# --- the child: one library, one case ------------------------------------------------------------------------


def gpu_time_us(fn, sync, seconds, repeats):
    """Median microseconds per call of fn: each repeat queues `iters` calls and waits for the GPU to finish them.
    The warm-up (allocator, cuBLAS handles, kernel caches) also counts how many calls fill `seconds`."""
    fn()
    sync()
    iters, start = 0, time.perf_counter()
    while iters < 3 or time.perf_counter() - start < seconds:
        fn()
        sync()
        iters += 1
    samples = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()
        samples.append((time.perf_counter() - start) / iters * 1e6)
    return statistics.median(samples)


def child(lib_name, case, seconds, repeats):
    lib = __import__(lib_name)
    lib.manual_seed(0)
    us = gpu_time_us(CASES[case](lib), lib.cuda.synchronize, seconds, repeats)
    out = {"us": us, "version": getattr(lib, "__version__", None)}
    if lib_name == "torch":
        out["gpu"] = lib.cuda.get_device_name(0)
    print(json.dumps(out))


def probe(lib_name):
    """Prints whether lib_name imports and sees a CUDA GPU."""
    try:
        lib = __import__(lib_name)
    except ImportError as e:
        print(json.dumps({"available": False, "why": f"{lib_name} is not importable ({e})"}))
        return
    ok = bool(lib.cuda.is_available())
    print(json.dumps({"available": ok, "why": "" if ok else f"{lib_name}.cuda.is_available() is False"}))


# --- the parent ----------------------------------------------------------------------------------------------


def run_child(*args):
    """Runs this script with args in a fresh process; the JSON its last line prints, or {"error": ...}."""
    cmd = [sys.executable, __file__, *map(str, args)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CHILD_TIMEOUT_S} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip() or done.stdout.strip())[-1500:]}
    return json.loads(lines[-1])


def gpu_missing():
    """Why the benchmark cannot run here (None when both libraries see a GPU)."""
    reasons = []
    for lib_name in ("ember", "torch"):
        got = run_child("--probe", lib_name)
        if not got.get("available"):
            reasons.append(got.get("why") or got.get("error", "unknown"))
    return "; ".join(reasons) or None


def time_both(case, seconds, repeats, versions, meta):
    row = {}
    for lib_name in ("ember", "torch"):
        got = run_child("--child", lib_name, case, seconds, repeats)
        if "error" in got:
            print(f"[{case}] {lib_name} failed:\n{got['error']}\n", file=sys.stderr)
            continue
        row[lib_name + "_us"] = got["us"]
        versions[lib_name] = got["version"]
        if "gpu" in got:
            meta["gpu"] = got["gpu"]
    if "ember_us" in row and "torch_us" in row:
        row["ember/torch"] = row["ember_us"] / row["torch_us"]
    return row


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def main(argv=None):
    args = cli(__doc__, sys.argv[1:] if argv is None else argv)
    why = gpu_missing()
    if why:
        print(f"bench_cuda: the GPU benchmarks need a CUDA GPU seen by both ember and PyTorch ({why}); nothing timed.")
        return []
    seconds, repeats = (0.2, 3) if args.quick else (0.5, 5)
    versions, meta = {}, {}
    timed = {case: time_both(case, seconds, repeats, versions, meta) for case in CASES}
    gb = N_ELEMS * 4 / 1e9  # one pass over 64M float32, in GB

    def rate(case, lib_name, work):
        us = timed[case].get(lib_name + "_us")
        return None if us is None else work / (us * 1e-6)

    results = []
    flops = 2 * N_GEMM**3
    sg = timed["sgemm"]
    e_tf, t_tf = rate("sgemm", "ember", flops / 1e12), rate("sgemm", "torch", flops / 1e12)
    results.append(
        {
            "case": f"(a) sgemm {N_GEMM}x{N_GEMM} float32",
            **sg,
            "ember_tflops": e_tf,
            "torch_tflops": t_tf,
            "ember/torch throughput": None if None in (e_tf, t_tf) else e_tf / t_tf,
        }
    )
    # exp(2x + 1): three passes, each reading and writing 64M float32
    e_bw, t_bw = rate("exp", "ember", 3 * 2 * gb), rate("exp", "torch", 3 * 2 * gb)
    copy_e, copy_t = rate("copy", "ember", 2 * gb), rate("copy", "torch", 2 * gb)
    results.append(
        {
            "case": "(b) exp(2x + 1), 64M float32",
            **timed["exp"],
            "ember_gbps": e_bw,
            "torch_gbps": t_bw,
            "torch_copy_gbps": copy_t,
            "ember/torch copy bandwidth": None if None in (e_bw, copy_t) else e_bw / copy_t,
        }
    )
    results.append({"case": "    y.copy_(x), 64M float32", **timed["copy"], "ember_gbps": copy_e, "torch_gbps": copy_t})
    results.append({"case": "(c) 4096-4096-4096-10 MLP step, batch 1024", **timed["mlp4096"]})
    results.append({"case": "(d) 1-10-1 MLP step, 100 samples", **timed["mlp1101"]})
    results.append({"case": "(e) the same step in a CUDA graph (replay)", **timed["mlp1101_graph"]})

    print(f"GPU: {meta.get('gpu', 'unknown')}")
    width = max(len(r["case"]) for r in results)
    header = f"{'case':<{width}}{'ember us':>13}{'torch us':>13}{'ember/torch':>13}   throughput"
    print(header)
    print("-" * (len(header) + 40))
    for r in results:
        line = f"{r['case']:<{width}}"
        line += "".join(f"{fmt(r.get(k), '.1f'):>13}" for k in ("ember_us", "torch_us"))
        line += f"{fmt(r.get('ember/torch'), '.2f'):>13}   "
        if "ember_tflops" in r:
            line += (
                f"ember {fmt(r['ember_tflops'], '.1f')} TFLOP/s, torch {fmt(r['torch_tflops'], '.1f')} TFLOP/s, "
                f"ember/torch throughput {fmt(r['ember/torch throughput'], '.2f')}"
            )
        elif "torch_copy_gbps" in r:
            line += (
                f"ember {fmt(r['ember_gbps'], '.0f')} GB/s, torch {fmt(r['torch_gbps'], '.0f')} GB/s; "
                f"ember / torch's copy ({fmt(r['torch_copy_gbps'], '.0f')} GB/s) "
                f"{fmt(r['ember/torch copy bandwidth'], '.2f')}"
            )
        elif "ember_gbps" in r:
            line += f"ember {fmt(r['ember_gbps'], '.0f')} GB/s, torch {fmt(r['torch_gbps'], '.0f')} GB/s"
        print(line)
    print("(ember/torch: time ratio, lower is better; throughput and bandwidth ratios: higher is better.)")
    if args.json:
        write_json_of_children(args.json, results, versions, quick=args.quick, **meta)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--probe":
        probe(sys.argv[2])
    else:
        main()
