"""Real models' training steps: ember beside PyTorch, each library and model in a process of its own.

- CNN: Conv2d 1->16 3x3, ReLU, MaxPool 2, Conv2d 16->32 3x3, ReLU, MaxPool 2, Linear to 10 classes,
  batch 64 of 1x28x28 images (the digits-sized CNN of issue 14).
- LSTM LM: benchmarks/bench_lstm.py's step (embedding 64, 2 layers of hidden 256, seq 32, batch 32);
  GRU LM: the same with a GRU.
- Residual CNN: a ResNet's stem and four residual stages (64-512 channels, batch norm, in-place ReLU)
  on 28x28 images, batch 32.
- Transformer: 4 encoder layers (d_model 128, 4 heads, feed-forward 512, causal mask) over
  sequences of 64 tokens, batch 16, embedding and head over a vocabulary of 1000.

Each step is zero_grad, forward, cross-entropy, backward, SGD step, written once against the
PyTorch API. Each library runs with its own default thread count.

    python benchmarks/bench_models.py [--quick] [--json PATH]
"""

import functools
import sys

import numpy as np
from _harness import cases_in_children, child_or_main
from bench_lstm import CASE as LSTM_CASE
from bench_lstm import GRU_CASE
from bench_lstm import train_step as lstm_step

VOCAB = 1000


def sgd_step(lib, model, inputs, targets, logits_of=lambda out: out):
    opt = lib.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        logits = logits_of(model(inputs))
        lib.nn.functional.cross_entropy(logits, targets).backward()
        opt.step()

    return step


def cnn_step(lib):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 5 * 5, 10),
    )
    rng = np.random.default_rng(0)
    images = lib.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    labels = lib.tensor(rng.integers(0, 10, 64))
    return sgd_step(lib, model, images, labels)


def residual_cnn_step(lib):
    """A ResNet's shape in small: a 7x7 stride-2 stem, then a residual stage per width (64, 128, 256, 512)
    of two 3x3 convolutions with batch norm and in-place ReLU, a strided 1x1 projection on the shortcut,
    on 28x28 images: the deep layers see 4x4, 2x2 and 1x1 images with hundreds of channels."""
    nn = lib.nn
    lib.manual_seed(0)

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout),
            )  # fmt: skip
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.relu(self.body(x) + self.short(x))

    model = nn.Sequential(
        nn.Conv2d(1, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        Block(64, 64, 1), Block(64, 128, 2), Block(128, 256, 2), Block(256, 512, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    images = lib.tensor(rng.standard_normal((32, 1, 28, 28)).astype(np.float32))
    labels = lib.tensor(rng.integers(0, 10, 32))
    return sgd_step(lib, model, images, labels)


def transformer_step(lib):
    nn = lib.nn
    lib.manual_seed(0)
    seq, batch, d_model = 64, 16, 128

    class TransformerLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, d_model)
            layer = nn.TransformerEncoderLayer(d_model, 4, dim_feedforward=512, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, VOCAB)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(seq))

        def forward(self, tokens):
            return self.head(self.encoder(self.embed(tokens), mask=self.mask, is_causal=True))

    rng = np.random.default_rng(0)
    tokens = lib.tensor(rng.integers(0, VOCAB, (batch, seq + 1)))
    inputs, targets = tokens[:, :-1], tokens[:, 1:].reshape(-1)
    return sgd_step(lib, TransformerLM(), inputs, targets, lambda out: out.reshape(-1, VOCAB))


CASES = {
    "CNN step (conv 1-16-32 3x3, maxpool, linear; batch 64)": cnn_step,
    "residual CNN step (ResNet-style, 64-512 channels, batch norm; 28x28, batch 32)": residual_cnn_step,
    LSTM_CASE: lstm_step,
    GRU_CASE: functools.partial(lstm_step, cell="GRU"),
    "4-layer transformer step (d_model 128, 4 heads, seq 64, batch 16, causal)": transformer_step,
}


def main(argv=None):
    return cases_in_children(__doc__, __file__, CASES, list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    child_or_main(CASES, __doc__, __file__)
