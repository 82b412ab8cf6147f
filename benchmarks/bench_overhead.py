"""Per-op overhead: ember beside PyTorch (and numpy where it applies).

Small graphs are dominated by what each op costs before and after its kernel
(dispatch, autograd bookkeeping, allocation), not by arithmetic. Each case
below is a function of the library module, so the same code times ember and
torch in one run on one machine.

    python benchmarks/bench_overhead.py [--quick] [--json PATH]

Times are microseconds per call: the median over repeats, each repeat timing
many calls with time.perf_counter.
"""

import numpy as np
from _harness import run_benchmark

# Each case takes the library module and returns the zero-argument callable to time.


def mul_8_grad(lib):
    a = lib.randn(8, requires_grad=True)
    b = lib.randn(8, requires_grad=True)
    return lambda: a * b


def add_8_grad(lib):
    a = lib.randn(8, requires_grad=True)
    b = lib.randn(8, requires_grad=True)
    return lambda: a + b


def mul_8(lib):
    a = lib.randn(8)
    b = lib.randn(8)
    return lambda: a * b


def add_8(lib):
    a = lib.randn(8)
    b = lib.randn(8)
    return lambda: a + b


def chain_100_fwd_bwd(lib):
    def run():
        x = lib.tensor(1.0, requires_grad=True)
        y = x
        for i in range(100):
            k = i % 3
            if k == 0:
                y = y * 1.01
            elif k == 1:
                y = y + 0.5
            else:
                y = y.sin()
        y.backward()

    return run


def mlp_8_fwd_bwd(lib):
    x = lib.randn(8, 8)
    w1 = lib.randn(8, 8, requires_grad=True)
    w2 = lib.randn(8, 8, requires_grad=True)

    def run():
        h = (x @ w1).relu()
        loss = (h @ w2).sum()
        loss.backward()
        w1.grad = None
        w2.grad = None

    return run


def fused_losses_fwd_bwd(lib):
    # nn.functional ops that are one node each (Note [Fused nodes]): gelu, silu, mse_loss, bce_with_logits.
    F = lib.nn.functional
    x = lib.randn(64, requires_grad=True)
    t = lib.rand(64)

    def run():
        h = F.silu(F.gelu(x))
        loss = F.mse_loss(h, t) + F.binary_cross_entropy_with_logits(h, t)
        loss.backward()
        x.grad = None

    return run


def subclass_mul_8(lib):
    # A Tensor subclass: each op goes through __torch_function__ (Note [Torch function dispatch]).
    class Sub(lib.Tensor):
        pass

    a = lib.randn(8).as_subclass(Sub)
    b = lib.randn(8).as_subclass(Sub)
    return lambda: a * b


def mode_mul_8(lib):
    # A TorchFunctionMode that passes every call on: the cost a mode adds to an op.
    class PassThrough(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    a = lib.randn(8)
    b = lib.randn(8)
    mode = PassThrough()

    def run():
        with mode:
            a * b

    return run


# numpy has no autograd: it is a floor for the forward-only cases.
def functional_relu_8(lib):
    # nn.functional.relu: written in Python in ember, behind its __torch_function__ wrapper
    # (Note [Python functions dispatch]); in PyTorch, a Python function too.
    x = lib.randn(8)
    relu = lib.nn.functional.relu
    return lambda: relu(x)


def np_mul_8():
    a = np.random.randn(8).astype(np.float32)
    b = np.random.randn(8).astype(np.float32)
    return lambda: a * b


def np_add_8():
    a = np.random.randn(8).astype(np.float32)
    b = np.random.randn(8).astype(np.float32)
    return lambda: a + b


CASES = [
    ("a * b, 8 elems, requires_grad", mul_8_grad, np_mul_8),
    ("a + b, 8 elems, requires_grad", add_8_grad, np_add_8),
    ("a * b, 8 elems", mul_8, np_mul_8),
    ("a + b, 8 elems", add_8, np_add_8),
    ("100-op scalar chain, fwd+bwd", chain_100_fwd_bwd, None),
    ("MLP 8x8 matmul/relu/sum, fwd+bwd", mlp_8_fwd_bwd, None),
    ("gelu, silu, mse + bce_with_logits, 64 elems, fwd+bwd", fused_losses_fwd_bwd, None),
    ("F.relu(x), 8 elems (a Python function)", functional_relu_8, None),
    ("a * b, 8 elems, Tensor subclass", subclass_mul_8, np_mul_8),
    ("a * b, 8 elems, inside a TorchFunctionMode", mode_mul_8, np_mul_8),
]


def main(argv=None):
    # (calls per repeat for a one-op case, repeats); costlier cases get proportionally fewer calls.
    return run_benchmark(__doc__, CASES, argv, quick=(0.01, 5), full=(0.05, 11))


if __name__ == "__main__":
    main()
