"""Run a PyTorch program as ``python SCRIPT ARGS`` would, on ember or on PyTorch.

    python launch.py {ember,torch} SCRIPT [ARGS...]

With ``ember`` every ``torch`` module name (``torch``, ``torch.nn``, ``torch.nn.functional``,
``torch.utils.data``, ...) is an alias of the matching ``ember`` module before the script
starts, so the script runs unchanged. A ``torch.X`` that ember does not have fails the
ordinary way (``ModuleNotFoundError: No module named 'torch.X'``), which is what we want
to see. Both backends also get the offline shims in ``shims/`` (a synthetic torchvision
MNIST, a no-op matplotlib, and a no-op ``torch.utils.tensorboard`` when the tensorboard
package is missing), so neither downloads, plots nor logs anything.
"""

import importlib
import importlib.util
import os
import pkgutil
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def alias_torch_to_ember():
    import ember

    sys.modules["torch"] = ember
    # Import every ember submodule now and register it under its torch name, so that
    # "import torch.nn.functional as F" or "from torch.utils.data import ..." find it in
    # sys.modules and never reach the import system with a torch.* name.
    for info in pkgutil.walk_packages(ember.__path__, "ember."):
        try:
            module = importlib.import_module(info.name)
        except Exception:  # an optional submodule whose own dependency is missing
            continue
        sys.modules["torch" + info.name[len("ember") :]] = module
    # Modules a package makes in its __init__ (ember.backends.cudnn, ...) have no file to walk.
    for name, module in list(sys.modules.items()):
        if name.startswith("ember."):
            sys.modules.setdefault("torch" + name[len("ember") :], module)


def main():
    backend, script, args = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3:]
    if backend == "ember":
        alias_torch_to_ember()
    elif backend != "torch":
        sys.exit(f"unknown backend {backend!r}: expected 'ember' or 'torch'")
    else:
        import torch  # noqa: F401  (seeded below)
    if importlib.util.find_spec("tensorboard") is None:
        # torch.utils.tensorboard (and ember's) needs the tensorboard package; logging to it
        # is beside the point here, so a no-op writer stands in (for either backend).
        sys.path.insert(0, os.path.join(HERE, "shims", "_optional"))
        sys.modules["torch.utils.tensorboard"] = importlib.import_module("tensorboard_writer")
    # As "python SCRIPT": the script's directory first on sys.path (for its sibling
    # modules), then the shims, ahead of any real torchvision or matplotlib.
    sys.path[:1] = [os.path.dirname(script), os.path.join(HERE, "shims")]
    sys.argv = [script, *args]
    # Seeded, so that a run is repeatable: the unseeded programs (the quickstart tutorial) otherwise
    # lower their loss by a few thousandths or not, by chance, in their few shortened steps.
    sys.modules["torch"].manual_seed(0)  # ember under PyTorch's name, or PyTorch
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
