"""ember.fx, as ``torch.fx``: symbolic tracing of a Module's forward into a Graph of Nodes, the
GraphModule that runs a graph as generated Python code, and the Interpreter and Transformer that
walk one.

Note [FX graphs]
A Tracer runs forward with a Proxy for each input. Every ember op that gets a Proxy hands the call
to the Proxy's ``__torch_function__`` (Note [Torch function dispatch] for the compiled ops, Note
[Python functions dispatch] for those written in Python), which records a call_function node (or a
call_method node for a Tensor method) and returns a Proxy of its result; operators (``+``, ``x[0]``,
``x.shape``) record themselves. While tracing, the Tracer replaces ``Module.__call__`` (a call of a
leaf module, by default one of ember.nn's but Sequential, becomes a call_module node; others are
traced through) and ``Module.__getattr__`` (parameters and buffers become get_attr nodes); a tensor
made during the trace becomes a ``_tensor_constantN`` attribute of the root. A GraphModule copies
what the graph names from its root and execs the graph's generated source as the forward of a class
of its own, so changing one GraphModule's code (``recompile``) leaves the others alone. Node names,
ops and targets are PyTorch's, so a graph traced here lists the nodes PyTorch's would."""

from __future__ import annotations

from . import graph, graph_module, interpreter, node, passes, proxy  # noqa: F401
from ._symbolic_trace import PH, Tracer, is_fx_tracing, symbolic_trace, wrap
from .graph import Graph
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, map_arg
from .proxy import Proxy

__all__ = [
    "PH",
    "Graph",
    "GraphModule",
    "Interpreter",
    "Node",
    "Proxy",
    "Tracer",
    "Transformer",
    "is_fx_tracing",
    "map_arg",
    "symbolic_trace",
    "wrap",
]
