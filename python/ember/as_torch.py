"""``import ember.as_torch`` before a library written for PyTorch: its ``import torch`` (and ``import
torch.nn.functional``, ``from torch.utils.data import DataLoader``, ...) then gives ember's modules, so the
library runs on ember unchanged. Run through it, x-transformers, ema-pytorch, lion-pytorch, torchdiffeq,
vector-quantize-pytorch, einops' layers, torchmetrics, torch-optimizer and PyTorch Lightning's Trainer.fit
work (README, "PyTorch's API, name by name").

The alias covers modules imported by name; a library that asks for PyTorch's installed version through its
package metadata (``importlib.metadata.version("torch")``) still needs a PyTorch distribution to answer, and
one that loads PyTorch's C++ extensions (torchvision, torchaudio) cannot run on ember. Importing this module
after PyTorch itself was imported raises ImportError: the two would mix."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

import ember

__all__ = ["install"]


class _EmberLoader(importlib.abc.Loader):
    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        """The ember module is imported already."""


class _TorchFinder(importlib.abc.MetaPathFinder):
    """``torch.X.Y`` is ``ember.X.Y``."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        try:
            module = importlib.import_module("ember" + fullname[len("torch") :])
        except ImportError:
            return None  # as a missing torch submodule: ModuleNotFoundError names it
        return importlib.machinery.ModuleSpec(fullname, _EmberLoader(module))


def install() -> None:
    """Makes ``torch`` and its submodules ember's (once; done on import of this module)."""
    existing = sys.modules.get("torch")
    if existing is ember:
        return
    if existing is not None:
        raise ImportError(
            "ember.as_torch: PyTorch is imported already; import ember.as_torch before anything imports torch"
        )
    for name, module in list(sys.modules.items()):
        if name == "ember" or name.startswith("ember."):
            sys.modules["torch" + name[len("ember") :]] = module
    if not any(isinstance(f, _TorchFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchFinder())


install()
