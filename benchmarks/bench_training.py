"""Training-step time: ember beside PyTorch (and a hand-written numpy step).

One step = forward, loss, zero_grad, backward, optimizer step, written once
against the PyTorch API and run with each library module:

  (a) 1-10-1 MLP (tanh) on 100 samples, MSELoss, SGD
  (b) 784-256-10 MLP (relu) on a batch of 128, CrossEntropyLoss, SGD (momentum 0.9)
  (c) 1024-2048-2048-10 MLP (relu) on a batch of 256, CrossEntropyLoss, SGD

numpy has no autograd: its column is the same step with the gradients written
out by hand, a floor for what the arithmetic costs.

    python benchmarks/bench_training.py [--quick] [--json PATH]
"""

import numpy as np
from _harness import run_benchmark

# (sizes, batch, loss, momentum, activation)
CONFIGS = {
    "a": ((1, 10, 1), 100, "mse", 0.0, "tanh"),
    "b": ((784, 256, 10), 128, "ce", 0.9, "relu"),
    "c": ((1024, 2048, 2048, 10), 256, "ce", 0.0, "relu"),
}


def data(sizes, batch, loss):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = (
        rng.standard_normal((batch, sizes[-1])).astype(np.float32)
        if loss == "mse"
        else rng.integers(0, sizes[-1], batch)
    )
    return x, y


def train_step(key):
    sizes, batch, loss_kind, momentum, act = CONFIGS[key]

    def case(lib):
        nn = lib.nn
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
        model = nn.Sequential(*layers)
        loss_fn = nn.MSELoss() if loss_kind == "mse" else nn.CrossEntropyLoss()
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=momentum)
        x, y = (lib.tensor(a) for a in data(sizes, batch, loss_kind))

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        return step

    return case


def numpy_step(key):
    """The same step in numpy, gradients by hand (float32, like the others)."""
    sizes, batch, loss_kind, momentum, act = CONFIGS[key]

    def make():
        rng = np.random.default_rng(0)
        ws = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
        bs = [np.zeros(o, np.float32) for o in sizes[1:]]
        bufs = [np.zeros_like(p) for p in ws + bs]
        x, y = data(sizes, batch, loss_kind)

        def step():
            hs = [x]
            for i, (w, b) in enumerate(zip(ws, bs)):
                h = hs[-1] @ w.T + b
                if i < len(ws) - 1:
                    h = np.tanh(h) if act == "tanh" else np.maximum(h, 0)
                hs.append(h)
            out = hs[-1]
            if loss_kind == "mse":
                g = 2 * (out - y) / out.size
            else:
                e = np.exp(out - out.max(1, keepdims=True))
                g = e / e.sum(1, keepdims=True)
                g[np.arange(batch), y] -= 1
                g /= batch
            grads_w, grads_b = [], []
            for i in reversed(range(len(ws))):
                grads_w.append(g.T @ hs[i])
                grads_b.append(g.sum(0))
                if i:
                    g = g @ ws[i]
                    g *= (1 - hs[i] ** 2) if act == "tanh" else (hs[i] > 0)
            grads = grads_w[::-1] + grads_b[::-1]
            for p, gp, buf in zip(ws + bs, grads, bufs):
                if momentum:
                    buf *= momentum
                    buf += gp
                    gp = buf
                p -= 0.01 * gp

        return step

    return make


CASES = [
    ("(a) 1-10-1 MLP, 100 samples, MSE + SGD", train_step("a"), numpy_step("a")),
    ("(b) 784-256-10 MLP, batch 128, CE + SGD", train_step("b"), numpy_step("b")),
    ("(c) 1024-2048-2048-10 MLP, batch 256, CE + SGD", train_step("c"), numpy_step("c")),
]


def main(argv=None):
    # (calls per repeat for a one-op case, repeats); costlier cases get proportionally fewer calls.
    return run_benchmark(__doc__, CASES, argv, quick=(0.01, 3), full=(0.05, 7))


if __name__ == "__main__":
    main()
