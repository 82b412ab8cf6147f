"""LSTM language-model training step: ember beside PyTorch, each library timed in its own process.

One step = embedding (vocab 1000, dim 64) -> 2-layer LSTM (hidden 256) -> Linear to the vocabulary ->
CrossEntropyLoss over every position, zero_grad, backward, SGD step; sequence 32, batch 32.

Each library runs in a child process of its own, so that neither library's thread pools and
allocator caches weigh on the other's timing. ember runs each layer's time loop as one C++ node
(Note [LSTM layer]), as PyTorch runs its fused C++ kernel.

    python benchmarks/bench_lstm.py [--quick] [--json PATH] [--threads N]

--threads N sets both libraries' intra-op thread count (default: each library's own); on a
machine shared with other work, --threads 1 gives the steadier ratio.
"""

import json
import sys

import numpy as np
from _harness import cli, measure, print_table, row_of_children, write_json_of_children

VOCAB, EMBED, HIDDEN, LAYERS, SEQ, BATCH = 1000, 64, 256, 2, 32, 32
CASE = f"2-layer LSTM LM step (emb {EMBED}, hidden {HIDDEN}, seq {SEQ}, batch {BATCH})"
GRU_CASE = CASE.replace("LSTM", "GRU")


def train_step(lib, cell="LSTM"):
    """The step, written once against the PyTorch API; cell="GRU" makes it a GRU language model."""
    nn = lib.nn
    lib.manual_seed(0)

    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.lstm = getattr(nn, cell)(EMBED, HIDDEN, num_layers=LAYERS)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out)

    model = LanguageModel()
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    tokens = lib.tensor(rng.integers(0, VOCAB, (SEQ + 1, BATCH)))
    inputs, targets = tokens[:-1], tokens[1:].reshape(-1)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(inputs).reshape(-1, VOCAB), targets)
        loss.backward()
        opt.step()

    return step


def child(lib_name, iters, repeats, threads):
    """Times the step with one library; prints {"us": median microseconds, "version": ...} as JSON."""
    lib = __import__(lib_name)
    if threads > 0:
        lib.set_num_threads(threads)
    us = measure(train_step(lib), iters, repeats)
    print(json.dumps({"us": us, "version": getattr(lib, "__version__", None)}))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    threads = 0  # 0: each library's default
    if "--threads" in argv:
        at = argv.index("--threads")
        threads = int(argv[at + 1])
        del argv[at : at + 2]
    args = cli(__doc__, argv)
    iters, repeats = (3, 3) if args.quick else (10, 5)
    versions = {}
    results = [row_of_children(__file__, CASE, iters, repeats, threads, versions=versions)]
    print_table(results)
    if args.json:
        write_json_of_children(args.json, results, versions, quick=args.quick, threads=threads or None)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
