"""DataLoader worker processes: one epoch over a dataset whose ``__getitem__`` sleeps
10 ms (as one that reads and decodes files), with 0 and with 2 workers; the ratio
is the speed-up, which should be at least 1.8x. Worker start-up is inside the
timed epoch, as it is in training. PyTorch's DataLoader is timed alike when it
is importable.

A second part times what the workers' transport costs: an epoch of 512 images
(3x224x224 float32, made without sleeping) in batches of 32 through 2 workers,
each batch crossing to the main process in shared memory (19 MB a batch).

    python benchmarks/bench_dataloader.py [--samples N] [--repeats R]
"""

import argparse
import json
import statistics
import time

import numpy as np


def make_dataset(data_module, lib):
    class Sleepy(data_module.Dataset):
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            time.sleep(0.01)
            return lib.from_numpy(np.full(64, i, dtype=np.float32))

    return Sleepy


def make_images(data_module, lib):
    class Images(data_module.Dataset):
        def __len__(self):
            return 512

        def __getitem__(self, i):
            return lib.from_numpy(np.full((3, 224, 224), i, dtype=np.float32))

    return Images


def image_epoch_seconds(data_module, lib, repeats):
    times = []
    for _ in range(repeats):
        loader = data_module.DataLoader(make_images(data_module, lib)(), batch_size=32, num_workers=2, timeout=60)
        start = time.perf_counter()
        n = sum(batch.shape[0] for batch in loader)
        times.append(time.perf_counter() - start)
        assert n == 512
    return statistics.median(times)


def epoch_seconds(data_module, lib, samples, num_workers, repeats):
    dataset = make_dataset(data_module, lib)(samples)
    times = []
    for _ in range(repeats):
        timeout = 60 if num_workers else 0
        loader = data_module.DataLoader(dataset, batch_size=4, num_workers=num_workers, timeout=timeout)
        start = time.perf_counter()
        n = sum(1 for _ in loader)
        times.append(time.perf_counter() - start)
        assert n == -(-samples // 4)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="64 samples, one epoch each (a few seconds)")
    parser.add_argument("--json", metavar="PATH", help="write results as JSON to PATH")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.repeats = 64, 1

    import ember
    import ember.utils.data

    print(f"{args.samples} samples of 10 ms each, batch_size=4, median of {args.repeats} epochs")
    results = {"ember": report("ember", ember, ember.utils.data, args)}
    try:  # imported only now: workers forked from a process holding torch start slower
        import torch
        import torch.utils.data

        results["torch"] = report("torch", torch, torch.utils.data, args)
    except ImportError:
        pass
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples": args.samples, "repeats": args.repeats, "results": results}, f, indent=2)


def report(name, lib, data_module, args):
    """Prints and returns (as a dict of milliseconds) one library's epochs."""
    serial = epoch_seconds(data_module, lib, args.samples, 0, args.repeats)
    parallel = epoch_seconds(data_module, lib, args.samples, 2, args.repeats)
    print(
        f"{name:6s} num_workers=0: {serial * 1e3:7.1f} ms   num_workers=2: {parallel * 1e3:7.1f} ms   "
        f"speed-up {serial / parallel:.2f}x"
    )
    images = image_epoch_seconds(data_module, lib, args.repeats)
    print(f"{name:6s} 512 images 3x224x224 float32, batch 32, num_workers=2: {images * 1e3:7.1f} ms")
    return {"workers_0_ms": serial * 1e3, "workers_2_ms": parallel * 1e3, "images_workers_2_ms": images * 1e3}


if __name__ == "__main__":
    main()
