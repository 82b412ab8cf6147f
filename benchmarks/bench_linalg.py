"""torch.linalg's factorizations: ember beside PyTorch and numpy.linalg, each library timed in its own process.

ember runs LAPACK from the OpenBLAS it links (csrc/python/lapack.cpp), looping over a batch in C++;
PyTorch calls its own LAPACK; numpy.linalg is the reference ember used before. The cases are what
scripts do: batches of small matrices (3-D geometry, Gaussian models) and single medium ones.

    python benchmarks/bench_linalg.py [--quick] [--json PATH]
"""

import sys

import numpy as np
from _harness import cases_in_children, child_or_main


def _matrices(lib, shape, spd=False):
    """float32 matrices of `shape` (symmetric positive-definite when asked) as `lib`'s arrays."""
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    if spd:
        a = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1], dtype=np.float32)
    return a if lib is np else lib.from_numpy(a)


def _case(fn_name, shape, spd=False, second=None, **kwargs):
    def make(lib):
        a = _matrices(lib, shape, spd)
        fn = getattr(lib.linalg, fn_name)
        if second is not None:
            b = _matrices(lib, second)
            return lambda: fn(a, b)
        return lambda: fn(a, **kwargs)

    return make


CASES = {
    "inv 3x3, batch 1024": _case("inv", (1024, 3, 3)),
    "det 3x3, batch 1024": _case("det", (1024, 3, 3)),
    "inv 256": _case("inv", (256, 256)),
    "solve 512, 64 right-hand sides": _case("solve", (512, 512), second=(512, 64)),
    "cholesky 512": _case("cholesky", (512, 512), spd=True),
    "qr 256x128": _case("qr", (256, 128)),
    "eigh 128": _case("eigh", (128, 128), spd=True),
    "svd 128x64": _case("svd", (128, 64), full_matrices=False),
}


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    return cases_in_children(
        __doc__, __file__, CASES, args, quick=(5, 3), full=(30, 5), libs=("ember", "torch", "numpy")
    )


if __name__ == "__main__":
    child_or_main(CASES, __doc__, __file__, main)
