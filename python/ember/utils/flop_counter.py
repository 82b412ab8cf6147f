"""ember.utils.flop_counter: ``FlopCounterMode`` by PyTorch's name. PyTorch's counts the FLOPs of the matrix
products and convolutions run inside it through ``__torch_dispatch__``, which ember has no hook for, so
entering one raises ``NotImplementedError``; one never entered counts 0, as PyTorch's does."""

from __future__ import annotations

from typing import Any

__all__ = ["FlopCounterMode"]


class FlopCounterMode:
    def __init__(self, mods: Any = None, depth: int = 2, display: bool = True, custom_mapping: Any = None) -> None:
        self.depth, self.display = depth, display

    def get_total_flops(self) -> int:
        return 0

    def get_flop_counts(self) -> dict[str, dict[Any, int]]:
        return {}

    def get_table(self, depth: int | None = None) -> str:
        return ""

    def __enter__(self) -> FlopCounterMode:
        raise NotImplementedError(
            "ember.utils.flop_counter.FlopCounterMode cannot count FLOPs: it needs a __torch_dispatch__ hook, "
            "which ember does not have"
        )

    def __exit__(self, *exc: Any) -> None:
        return None
