"""The narrow dtypes (uint8, float16, bfloat16): ember beside PyTorch, each library timed in its own process.

ember stores them natively and computes them in int32/float32 (Note [Storage dtypes]), so each op
pays a conversion in and out; PyTorch's CPU kernels convert per vector inside the loop. The cases
are what real scripts do with them: normalise a uint8 image batch, half-float elementwise work and
products, and a bfloat16 training step.

    python benchmarks/bench_dtypes.py [--quick] [--json PATH]
"""

import sys

import numpy as np
from _harness import cases_in_children, child_or_main


def image_to_float(lib):
    lib.manual_seed(0)
    x = lib.tensor(np.random.default_rng(0).integers(0, 256, (64, 3, 32, 32)), dtype=lib.uint8)
    return lambda: (x.float() / 255 - 0.5) / 0.5


def half_add(lib):
    lib.manual_seed(0)
    a, b = lib.randn(1 << 20).half(), lib.randn(1 << 20).half()
    return lambda: a + b


def half_matmul(lib):
    lib.manual_seed(0)
    a, b = lib.randn(256, 256).half(), lib.randn(256, 256).half()
    return lambda: a @ b


def bfloat16_mlp_step(lib):
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(lib.bfloat16)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x, y = lib.randn(64, 784).to(lib.bfloat16), lib.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


CASES = {
    "uint8 image batch -> normalised float32 (64x3x32x32)": image_to_float,
    "float16 add (1M)": half_add,
    "float16 matmul 256": half_matmul,
    "bfloat16 MLP step 784-256-10, batch 64": bfloat16_mlp_step,
}


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    return cases_in_children(__doc__, __file__, CASES, args, quick=(5, 3), full=(30, 5))


if __name__ == "__main__":
    child_or_main(CASES, __doc__, __file__)
