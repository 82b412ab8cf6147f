"""ember.fx.passes.shape_prop, as ``torch.fx.passes.shape_prop``: runs a GraphModule on example inputs
and records, for each node whose result is a tensor, its ``TensorMetadata`` in ``node.meta["tensor_meta"]``."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..interpreter import Interpreter
from ..node import Node, map_aggregate

__all__ = ["ShapeProp", "TensorMetadata"]


class TensorMetadata(NamedTuple):
    shape: Any
    dtype: Any
    requires_grad: bool
    stride: tuple[int, ...]
    memory_format: Any
    is_quantized: bool
    qparams: dict[str, Any]


def _extract_tensor_metadata(result: Any) -> TensorMetadata:
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, tuple(result.stride()), None, False, {})


class ShapeProp(Interpreter):
    """``ShapeProp(gm).propagate(*args)``: runs gm, recording each tensor result's metadata on its node."""

    def run_node(self, n: Node) -> Any:
        from ..._C import Tensor

        result = super().run_node(n)
        found = False

        def meta(x: Any) -> Any:
            nonlocal found
            if isinstance(x, Tensor):
                found = True
                return _extract_tensor_metadata(x)
            return x

        tensor_meta = map_aggregate(result, meta)
        if found:
            n.meta["tensor_meta"] = tensor_meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args: Any) -> Any:
        return super().run(*args)
