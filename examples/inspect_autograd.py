"""Look inside autograd: the graph behind a small model's loss, as text and as a picture.

python examples/inspect_autograd.py              # writes graph.dot (and graph.svg) here
python examples/inspect_autograd.py --out /tmp   # ... into /tmp

graph.svg needs Graphviz (pip install "ember[viz]" and the system's graphviz package);
graph.dot is always written: paste it into any Graphviz viewer.
"""

from __future__ import annotations

import argparse
import pathlib

import ember as torch
from ember.autograd.graph import draw, format_graph


def main(out: str | pathlib.Path = ".") -> dict[str, pathlib.Path]:
    """Builds the model's graph, prints it, saves its pictures; returns the files written."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    loss = torch.nn.functional.mse_loss(model(x), y)
    params = dict(model.named_parameters())

    print("The autograd graph of the loss (gradients flow downwards):")
    print(format_graph(loss, params=params))

    picture = draw(loss, params=params)
    written = {"dot": picture.save(out / "graph.dot")}
    try:
        written["svg"] = picture.save(out / "graph.svg")
    except (ImportError, RuntimeError) as e:
        print(f"graph.svg not written: {e}")
    print("wrote " + ", ".join(str(p) for p in written.values()))

    # --- profiler ---
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for graph.dot and graph.svg (default: here)")
    main(parser.parse_args().out)
