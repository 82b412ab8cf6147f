"""Look inside autograd: the graph behind a small model's loss, as text and as a picture, and where the
time of a few training steps goes (the profiler's table and a Chrome trace).

python examples/inspect_autograd.py              # writes graph.dot (and graph.svg) and trace.json here
python examples/inspect_autograd.py --out /tmp   # ... into /tmp

Open trace.json in chrome://tracing or https://ui.perfetto.dev: one track per thread.

graph.svg needs Graphviz (pip install "ember[viz]" and the system's graphviz package);
graph.dot is always written: paste it into any Graphviz viewer.
"""

from __future__ import annotations

import argparse
import pathlib

import ember as torch
from ember.autograd.graph import draw, format_graph
from ember.profiler import ProfilerActivity, profile, record_function


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

    # Where the time goes: a few training steps under the profiler.
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(3):
            with record_function("forward"):
                loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace(str(out / "trace.json"))
    written["trace"] = out / "trace.json"
    print(f"wrote {written['trace']}")
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for graph.dot and graph.svg (default: here)")
    main(parser.parse_args().out)
