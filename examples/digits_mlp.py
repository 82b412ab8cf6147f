"""Train a classifier on scikit-learn's bundled handwritten digits (1797 8x8
images, no download) with ember — or, with --torch, the same code on PyTorch.

    python examples/digits_mlp.py                 # MLP, about 97% test accuracy
    python examples/digits_mlp.py --model cnn     # small CNN (Conv2d), about 98%
    python examples/digits_mlp.py --torch         # the same script with PyTorch
"""

import argparse
import importlib
import time

import numpy as np


def load_digits_split(seed=0, test_fraction=0.2):
    """Pixels scaled to [0, 1]; a fixed, seeded train/test split."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def make_model(nn, kind):
    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(  # input (N, 1, 8, 8)
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 2, 2)
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def accuracy(torch, model, x, y):
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
    model.train()
    return (pred == y).float().mean().item()


def main(model_kind="mlp", epochs=None, batch_size=32, lr=3e-3, backend="ember", seed=0, progress=True):
    """Trains and returns the test accuracy."""
    torch = importlib.import_module(backend)
    nn = torch.nn
    from tqdm import tqdm

    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits_split(seed)
    shape = (-1, 64) if model_kind == "mlp" else (-1, 1, 8, 8)
    x_train, x_test = torch.tensor(x_train).reshape(shape), torch.tensor(x_test).reshape(shape)
    y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)

    data = torch.utils.data
    loader = data.DataLoader(
        data.TensorDataset(x_train, y_train),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    model = make_model(nn, model_kind)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    epochs = epochs or (10 if model_kind == "mlp" else 15)

    start = time.perf_counter()
    for epoch in range(epochs):
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for xb, yb in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if progress:
            print(
                f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  "
                f"test accuracy {accuracy(torch, model, x_test, y_test):.2%}"
            )
    acc = accuracy(torch, model, x_test, y_test)
    if progress:
        print(
            f"{backend} {model_kind}: test accuracy {acc:.2%} after {epochs} epochs "
            f"in {time.perf_counter() - start:.1f} s"
        )
    return acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--torch", action="store_true", help="run with PyTorch instead of ember")
    args = parser.parse_args()
    main(args.model, args.epochs, backend="torch" if args.torch else "ember")
