"""Fit y = 2x + 1 with nn.Linear, MSELoss and SGD: the classic first PyTorch model.

python examples/linear_regression.py           # with ember
python examples/linear_regression.py --torch   # the same script with PyTorch
"""

import argparse
import importlib


def main(epochs=100, lr=0.1, backend="ember", seed=0, verbose=True):
    torch = importlib.import_module(backend)
    nn = torch.nn
    torch.manual_seed(seed)

    x = torch.linspace(-1, 1, 100).unsqueeze(1)  # (100, 1)
    y = 2 * x + 1 + 0.05 * torch.randn(100, 1)  # noisy line

    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if verbose and epoch % 10 == 0:
            print(f"epoch {epoch:3d}  loss {loss.item():.5f}")

    w, b = model.weight.item(), model.bias.item()
    if verbose:
        print(f"learned weight {w:.4f}, bias {b:.4f}  (true: 2, 1)")
    return w, b


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--torch", action="store_true", help="run with PyTorch instead of ember")
    args = parser.parse_args()
    main(args.epochs, backend="torch" if args.torch else "ember")
