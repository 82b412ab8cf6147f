"""Big kernels: matrix product and elementwise math, ember beside numpy and PyTorch.

sgemm 2048x2048      a @ b in float32 (ember and numpy both call OpenBLAS)
exp(2x + 1), 4M      three elementwise passes over 4M float32 values
tanh, 4096           one small elementwise op (the size of a hidden layer)
randn / rand, 1M     random fills (weight init, noise); dropout 1M draws its mask from rand
randint, multinomial integers (random crops, batches) and a language model's next-token sample
Adam / SGD step, 4M  one optimizer step over four 1M-float32 parameters (the fused per-parameter loops)

  python benchmarks/bench_kernels.py [--quick] [--json PATH]
"""

import numpy as np
from _harness import run_benchmark


def sgemm(n):
    def case(lib):
        a, b = lib.rand(n, n), lib.rand(n, n)
        return lambda: a @ b

    def np_case():
        rng = np.random.default_rng(0)
        a, b = rng.random((n, n), np.float32), rng.random((n, n), np.float32)
        return lambda: a @ b

    return case, np_case


def exp_affine(n):
    def case(lib):
        x = lib.rand(n)
        return lambda: (2 * x + 1).exp()

    def np_case():
        x = np.random.default_rng(0).random(n, np.float32)
        return lambda: np.exp(2 * x + 1)

    return case, np_case


def tanh(n):
    def case(lib):
        x = lib.rand(n)
        return lambda: x.tanh()

    def np_case():
        x = np.random.default_rng(0).random(n, np.float32)
        return lambda: np.tanh(x)

    return case, np_case


def random_fill(n, name):
    def case(lib):
        fill = getattr(lib, name)
        return lambda: fill(n)

    def np_case():
        rng = np.random.default_rng(0)
        if name == "randn":
            return lambda: rng.standard_normal(n, np.float32)
        return lambda: rng.random(n, np.float32)

    return case, np_case


def randint(n):
    def case(lib):
        return lambda: lib.randint(0, 100, (n,))

    def np_case():
        rng = np.random.default_rng(0)
        return lambda: rng.integers(0, 100, n)

    return case, np_case


def next_token(vocab):
    """One sample from a language model's softmax over a GPT-2-sized vocabulary."""

    def case(lib):
        probs = lib.softmax(lib.randn(1, vocab), -1)
        return lambda: lib.multinomial(probs, 1)

    return case, None


def dropout(n):
    def case(lib):
        x = lib.ones(n)
        return lambda: lib.nn.functional.dropout(x, 0.1)

    return case, None


def rows_by_index(rows, width, picks, accumulate):
    """index_select of `picks` random rows of a (rows, width) float32 matrix, or index_add of as many rows
    into it: the gathers and scatter-adds of embeddings and graph networks (numpy: take, add.at)."""
    rng = np.random.default_rng(0)
    table = rng.standard_normal((rows, width)).astype(np.float32)
    index = rng.integers(0, rows, size=picks)
    source = rng.standard_normal((picks, width)).astype(np.float32)

    def case(lib):
        t, i, s = lib.tensor(table), lib.tensor(index), lib.tensor(source)
        return (lambda: t.index_add(0, i, s)) if accumulate else (lambda: t.index_select(0, i))

    def np_case():
        if not accumulate:
            return lambda: table.take(index, axis=0)

        def add():
            out = table.copy()
            np.add.at(out, index, source)
            return out

        return add

    return case, np_case


def optimizer_step(name, **options):
    def case(lib):
        params = [lib.nn.Parameter(lib.randn(1_000_000)) for _ in range(4)]
        for p in params:
            p.grad = lib.randn(1_000_000)
        opt = getattr(lib.optim, name)(params, **options)
        opt.step()  # the state made once, as after a training's first step
        return opt.step

    return case, None


CASES = [
    ("sgemm 2048x2048 float32", *sgemm(2048)),
    ("exp(2x + 1), 4M float32", *exp_affine(4_000_000)),
    ("tanh, 4096 float32", *tanh(4096)),
    ("randn 1M float32", *random_fill(1_000_000, "randn")),
    ("rand 1M float32", *random_fill(1_000_000, "rand")),
    ("randint(0, 100) 1M int64", *randint(1_000_000)),
    ("multinomial(softmax over 50257, 1)", *next_token(50257)),
    ("dropout(p=0.1) 1M float32", *dropout(1_000_000)),
    ("index_select 8k of 1k x 64 rows", *rows_by_index(1000, 64, 8000, accumulate=False)),
    ("index_add 8k rows into 1k x 64", *rows_by_index(1000, 64, 8000, accumulate=True)),
    ("Adam step, 4 x 1M float32", *optimizer_step("Adam", lr=1e-3)),
    ("SGD step (momentum, nesterov), 4 x 1M float32", *optimizer_step("SGD", lr=0.1, momentum=0.9, nesterov=True)),
]


def main(argv=None):
    # (calls per repeat for a one-op case, repeats); costlier cases get proportionally fewer calls.
    return run_benchmark(__doc__, CASES, argv, quick=(0.01, 3), full=(0.05, 7))


if __name__ == "__main__":
    main()
