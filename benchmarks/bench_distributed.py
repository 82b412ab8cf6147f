"""Data-parallel training over MPI: all_reduce bandwidth and the DDP training step, ember beside plain mpi4py
and PyTorch's DDP over Gloo. Every library runs in MPI jobs of its own (mpiexec), one thread per rank; every
step and call is timed, none discarded, with no pauses between them.

    python benchmarks/bench_distributed.py [--quick] [--json PATH] [--ranks 2 4]

(1) all_reduce of float32 buffers from 4 KB to 64 MB: ember's dist.all_reduce on tensors against mpi4py's
    comm.Allreduce on numpy arrays (ember passes the tensor's own memory: the target is >= 0.95x mpi4py's
    bandwidth). Bus bandwidth as NCCL's tests define it: bytes / time x 2(N-1)/N.
(2) the 784-256-10 MLP training step at batch 128 per rank: one process without DDP, then DDP on N ranks with
    the same per-rank batch (target <= 1.15x the single process on 2 ranks: communication overlaps backward),
    and a one-bucket DDP that all-reduces only after backward, to show what the overlap saves.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIZES = [4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20]  # bytes
HIDDEN, IN, OUT, BATCH = 256, 784, 10, 128


def _timed(fn, barrier, iters):
    """Seconds per call of fn: median of iters calls, each between barriers (the ranks start together)."""
    samples = []
    for _ in range(iters):
        barrier()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def worker_allreduce(lib, quick):
    import numpy as np
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if lib == "ember":
        import ember
        import ember.distributed as dist

        ember.set_num_threads(1)
        dist.init_process_group("mpi")
    rows = []
    for nbytes in SIZES:
        iters = max(5, min(200, (64 << 20) // nbytes)) // (4 if quick else 1)
        if lib == "ember":
            t = ember.ones(nbytes // 4)
            seconds = _timed(lambda t=t: dist.all_reduce(t), comm.Barrier, iters)
        else:
            a = np.ones(nbytes // 4, dtype=np.float32)
            seconds = _timed(lambda a=a: comm.Allreduce(MPI.IN_PLACE, a), comm.Barrier, iters)
        n = comm.Get_size()
        rows.append({"bytes": nbytes, "us": seconds * 1e6, "busbw_GBps": nbytes / seconds * 2 * (n - 1) / n / 1e9})
    return rows


MODELS = {"mlp": [IN, HIDDEN, OUT], "deep": [IN, 1024, 1024, 1024, OUT]}


def worker_ddp(lib, quick, mode, model_name="mlp"):
    torch = __import__(lib)
    torch.set_num_threads(1)
    if mode not in ("single", "independent"):
        if lib == "torch":  # Gloo's rendezvous, from mpiexec's variables
            os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
            os.environ.setdefault("MASTER_PORT", "29533")
            os.environ.setdefault("RANK", os.environ["PMI_RANK"])
            os.environ.setdefault("WORLD_SIZE", os.environ["PMI_SIZE"])
        torch.distributed.init_process_group("gloo" if lib == "torch" else "mpi")
    torch.manual_seed(0)
    nn = torch.nn
    widths = MODELS[model_name]
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    if mode == "ddp":
        model = nn.parallel.DistributedDataParallel(model)
    elif mode == "ddp_after_backward":  # one bucket: its all-reduce can only start when backward is done
        model = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=1024)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(BATCH, IN), torch.randint(0, OUT, (BATCH,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    barrier = torch.distributed.barrier if mode not in ("single", "independent") else (lambda: None)
    steps = (40 if quick else 200) if model_name == "mlp" else (10 if quick else 40)
    return [{"mode": mode, "us": _timed(step, barrier, steps) * 1e6}]


def launch(ranks, *args):
    """Runs this file as an MPI job; returns rank 0's JSON result."""
    mpiexec = Path(sys.executable).parent / "mpiexec"
    mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([mpiexec, "-n", str(ranks), sys.executable, __file__, "--worker", *args],
                         capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} on {ranks} ranks failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--ranks", type=int, nargs="+", default=[2])
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = ["--quick"] if args.quick else []
    if args.worker:
        kind, lib, *rest = args.worker
        from mpi4py import MPI

        rows = (
            worker_allreduce(lib, "--quick" in rest)
            if kind == "allreduce"
            else worker_ddp(lib, "--quick" in rest, *[r for r in rest if r != "--quick"])
        )
        if MPI.COMM_WORLD.Get_rank() == 0:
            print(json.dumps(rows))
        return
    try:
        import torch  # noqa: F401

        peers = ["ember", "torch"]
    except ImportError:
        peers = ["ember"]
    results = {"allreduce": {}, "ddp": {}}
    print("(1) all_reduce, float32, bus bandwidth GB/s (ember / mpi4py: target >= 0.95)")
    for ranks in args.ranks:
        ember_rows = launch(ranks, "allreduce", "ember", *quick)
        mpi_rows = launch(ranks, "allreduce", "mpi4py", *quick)
        results["allreduce"][ranks] = {"ember": ember_rows, "mpi4py": mpi_rows}
        for e, m in zip(ember_rows, mpi_rows):
            ratio = e["busbw_GBps"] / m["busbw_GBps"]
            print(f"  {ranks} ranks {e['bytes'] / 1024:>8.0f} KB   ember {e['busbw_GBps']:7.3f}  mpi4py "
                  f"{m['busbw_GBps']:7.3f}   ratio {ratio:.2f}   ({e['us']:.0f} us vs {m['us']:.0f} us)")  # fmt: skip
    print(f"\n(2) training step, batch {BATCH} per rank, 1 thread per rank, ms; x: time / one process's")
    print(f"    (target for the {IN}-{HIDDEN}-{OUT} MLP: DDP on 2 ranks <= 1.15x one process)")
    for model in MODELS:
        print(f"  {'-'.join(map(str, MODELS[model]))} MLP")
        for lib in peers:
            single = launch(1, "ddp", lib, "single", model, *quick)[0]["us"]
            row = results["ddp"].setdefault(model, {}).setdefault(lib, {"single": single})
            print(f"    {lib:6s} one process, no DDP                    {single / 1e3:8.3f}")
            for ranks in args.ranks if model == "mlp" else args.ranks[:1]:
                for mode, label in (("independent", "independent processes, no DDP"), ("ddp", "DDP"),
                                    ("ddp_after_backward", "DDP, one bucket after backward")):  # fmt: skip
                    us = launch(ranks, "ddp", lib, mode, model, *quick)[0]["us"]
                    row[f"{mode}_{ranks}"] = us
                    print(f"    {lib:6s} {label:30s} {ranks} ranks {us / 1e3:8.3f}   x{us / single:.2f}")
        if "torch" in peers:
            for ranks in args.ranks if model == "mlp" else args.ranks[:1]:
                e, t = (results["ddp"][model][lib][f"ddp_{ranks}"] for lib in ("ember", "torch"))
                print(f"    DDP step on {ranks} ranks, ember / torch: {e / t:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
