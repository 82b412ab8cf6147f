"""The digits classifier of digits_mlp.py, trained data-parallel over MPI with DistributedDataParallel: each
rank trains on its share of every batch, and gradients are averaged during backward. With the same global
batch (32 per rank x ranks, learning rate scaled likewise) it reaches the accuracy of one process.

    mpiexec -n 2 python examples/digits_ddp.py             # 2 ranks on this machine, about 97%
    mpiexec -n 1 python examples/digits_ddp.py             # the same script as one process
    mpiexec -n 2 python examples/digits_ddp.py --torch     # the same script with PyTorch's DDP over Gloo

Needs mpi4py and an MPI library: pip install "ember[distributed]". Each rank gets cores / ranks threads.
"""

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from digits_mlp import accuracy, load_digits_split, make_model  # noqa: E402


def init(torch, backend):
    """ember: MPI. PyTorch: Gloo, with the rendezvous that MPI does for ember taken from mpiexec's variables."""
    if backend == "ember":
        torch.distributed.init_process_group(backend="mpi")
        return
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29511")
    os.environ.setdefault("RANK", os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))
    os.environ.setdefault("WORLD_SIZE", os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1")))
    torch.distributed.init_process_group(backend="gloo")


def main(epochs=10, batch_per_rank=32, lr=3e-3, backend="ember", seed=0, progress=True):
    """Trains on every rank; returns the test accuracy (the same on every rank: the replicas stay equal)."""
    torch = importlib.import_module(backend)
    dist = torch.distributed
    init(torch, backend)
    rank, ranks = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits_split(seed)
    x_train, x_test = torch.tensor(x_train), torch.tensor(x_test)
    y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)

    data = torch.utils.data
    train = data.TensorDataset(x_train, y_train)
    sampler = data.distributed.DistributedSampler(train, shuffle=True, seed=seed, drop_last=True)
    loader = data.DataLoader(train, batch_size=batch_per_rank, sampler=sampler)
    model = torch.nn.parallel.DistributedDataParallel(make_model(torch.nn, "mlp"))
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr * ranks**0.5)  # a larger global batch, a larger step

    start = time.perf_counter()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        if progress and rank == 0:
            acc = accuracy(torch, model, x_test, y_test)
            print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test accuracy {acc:.2%}")
    acc = accuracy(torch, model, x_test, y_test)
    if progress and rank == 0:
        seconds = time.perf_counter() - start
        print(f"{backend} DDP on {ranks} ranks: test accuracy {acc:.2%} after {epochs} epochs in {seconds:.1f} s")
    dist.destroy_process_group()
    return acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--torch", action="store_true", help="run with PyTorch (DDP over Gloo) instead of ember")
    args = parser.parse_args()
    main(args.epochs, backend="torch" if args.torch else "ember")
