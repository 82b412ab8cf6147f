"""Big kernels: matrix product and elementwise math, ember beside numpy and PyTorch.

  sgemm 2048x2048      a @ b in float32 (ember and numpy both call OpenBLAS)
  exp(2x + 1), 4M      three elementwise passes over 4M float32 values
  tanh, 4096           one small elementwise op (the size of a hidden layer)

    python benchmarks/bench_kernels.py [--quick] [--json PATH]
"""
import argparse

import numpy as np

from _harness import libraries, print_table, run_cases, write_json


def sgemm(n):
    def case(lib):
        a, b = lib.rand(n, n), lib.rand(n, n)
        return (lambda: a @ b), 2 * n ** 3 / 1e5  # ~1e5 flops per single-op call

    def np_case():
        rng = np.random.default_rng(0)
        a, b = rng.random((n, n), np.float32), rng.random((n, n), np.float32)
        return lambda: a @ b
    return case, np_case


def exp_affine(n):
    def case(lib):
        x = lib.rand(n)
        return (lambda: (2 * x + 1).exp()), n / 500

    def np_case():
        x = np.random.default_rng(0).random(n, np.float32)
        return lambda: np.exp(2 * x + 1)
    return case, np_case


def tanh(n):
    def case(lib):
        x = lib.rand(n)
        return (lambda: x.tanh()), max(1, n / 2000)

    def np_case():
        x = np.random.default_rng(0).random(n, np.float32)
        return lambda: np.tanh(x)
    return case, np_case


CASES = [
    ("sgemm 2048x2048 float32", *sgemm(2048)),
    ("exp(2x + 1), 4M float32", *exp_affine(4_000_000)),
    ("tanh, 4096 float32", *tanh(4096)),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a few seconds)")
    parser.add_argument("--json", metavar="PATH", help="write results as JSON to PATH")
    args = parser.parse_args(argv)
    base_iters, repeats = (2000, 3) if args.quick else (20000, 7)
    libs = libraries()
    results = run_cases(CASES, libs, base_iters, repeats)
    print_table(results)
    if args.json:
        write_json(args.json, results, libs, quick=args.quick)
    return results


if __name__ == "__main__":
    main()
