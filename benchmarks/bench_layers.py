"""The fused layers of a transformer's step, forward and backward: ember beside PyTorch, each library and
case in a process of its own.

- masked softmax: scores (16, 4, 64, 64) with a causal mask's -inf above the diagonal, softmax over
  the keys (Note [Fused softmax]); the attention weights of bench_models.py's transformer.
- cross-entropy: logits (1024, 1000) against class indices (log_softmax and nll_loss).
- layer norm: (16, 64, 128) normalised over the last dim with weight and bias (Note [Fused layer norm]).

Each call is the forward, a sum, and the backward into the input (and the layer norm's parameters).

    python benchmarks/bench_layers.py [--quick] [--json PATH]
"""

import sys

import numpy as np
from _harness import cases_in_children, child_or_main


def masked_softmax(lib):
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((16, 4, 64, 64)).astype(np.float32)
    scores += np.triu(np.full((64, 64), -np.inf, np.float32), 1)
    x = lib.tensor(scores, requires_grad=True)

    def step():
        x.grad = None
        x.softmax(-1).sum().backward()

    return step


def cross_entropy(lib):
    rng = np.random.default_rng(0)
    logits = lib.tensor(rng.standard_normal((1024, 1000)).astype(np.float32), requires_grad=True)
    target = lib.tensor(rng.integers(0, 1000, 1024))

    def step():
        logits.grad = None
        lib.nn.functional.cross_entropy(logits, target).backward()

    return step


def layer_norm(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((16, 64, 128)).astype(np.float32), requires_grad=True)
    norm = lib.nn.LayerNorm(128)

    def step():
        x.grad = None
        norm.zero_grad()
        norm(x).square().sum().backward()

    return step


CASES = {
    "masked softmax fwd+bwd (16x4x64x64, causal)": masked_softmax,
    "cross-entropy fwd+bwd (1024x1000 logits)": cross_entropy,
    "layer norm fwd+bwd (16x64x128, affine)": layer_norm,
}


def main(argv=None):
    return cases_in_children(__doc__, __file__, CASES, list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    child_or_main(CASES, __doc__, __file__)
