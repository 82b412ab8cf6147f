"""Rendering the autograd graph's DOT text: ``draw`` (a picture Jupyter shows) and torchviz's ``make_dot``.

Rendering needs two things ember does not ship: the ``graphviz`` Python package and Graphviz's
``dot`` program. Both are looked for only when a picture is rendered, so ``to_dot`` and saving
``.dot`` files work everywhere, and a missing piece is reported with how to install it.
"""

from __future__ import annotations

import pathlib
import shutil
from typing import Any, Iterable, Mapping

from .._C import Tensor
from ._graph_pictures import GRAPH_ATTRS, NODE_ATTRS, _outputs, dot_document, dot_statements, to_dot

__all__ = ["GraphPicture", "draw", "make_dot"]

_PACKAGE_HINT = (
    'rendering the graph needs the graphviz Python package: pip install "ember[viz]" (or pip install graphviz)'
)
_DOT_HINT = (
    "rendering the graph needs Graphviz's `dot` program, which was not found on PATH: install Graphviz "
    "(apt install graphviz, brew install graphviz or conda install graphviz); "
    "GraphPicture.save('graph.dot') and .source work without it"
)
_RENDERED = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
_TEXT = (".dot", ".gv")


def _graphviz() -> Any:
    """The graphviz package and a ``dot`` to run, or an error saying how to install what is missing."""
    try:
        import graphviz
    except ImportError as e:
        raise ImportError(_PACKAGE_HINT) from e
    if shutil.which("dot") is None:
        raise RuntimeError(_DOT_HINT)
    return graphviz


def render(source: str, fmt: str) -> bytes:
    """The DOT text rendered by ``dot`` into ``fmt`` (svg, png, pdf)."""
    graphviz = _graphviz()
    try:
        return graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound as e:  # dot vanished between the check and the run
        raise RuntimeError(_DOT_HINT) from e


class GraphPicture:
    """A picture of the autograd graph: the DOT text (``.source``), shown as SVG in Jupyter.

    Holds only text, so it keeps no tensors or graph alive and can be saved as ``.dot``
    anywhere; ``.svg``, ``.png`` and ``.pdf`` are rendered by Graphviz on demand.
    """

    def __init__(self, source: str) -> None:
        self.source = source

    def __repr__(self) -> str:
        nodes = sum(1 for line in self.source.splitlines() if "[label=" in line)
        return f"<GraphPicture: {nodes} boxes; .source holds the DOT text, .save('graph.svg') renders it>"

    def svg(self) -> str:
        """The picture as SVG text (raises with an install hint when Graphviz is missing)."""
        return render(self.source, "svg").decode("utf-8")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter's hook: SVG when Graphviz is there, else the text and why there is no picture
        (a display hook that raises would print a traceback in the notebook)."""
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except (ImportError, RuntimeError) as e:
            return {"text/plain": f"{self!r}\n(no picture: {e})"}

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Writes the picture; the suffix picks the format: ``.dot``/``.gv`` (the text, always
        works), ``.svg``, ``.png`` or ``.pdf`` (rendered by Graphviz)."""
        path = pathlib.Path(path)
        suffix = path.suffix.lower()
        if suffix in _TEXT:
            path.write_text(self.source, encoding="utf-8")
        elif suffix in _RENDERED:
            path.write_bytes(render(self.source, _RENDERED[suffix]))
        else:
            known = ", ".join([*_TEXT, *_RENDERED])
            raise ValueError(f"GraphPicture.save: unknown suffix {path.suffix!r} (use one of {known})")
        return path


def draw(
    *outputs: Tensor,
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    show_saved: bool = False,
    show_attrs: bool = False,
) -> GraphPicture:
    """A picture of the autograd graph behind ``outputs`` (see ``to_dot`` for what it shows)."""
    return GraphPicture(to_dot(*outputs, params=params, show_saved=show_saved, show_attrs=show_attrs))


def make_dot(
    var: Tensor | tuple[Tensor, ...],
    params: Mapping[str, Tensor] | None = None,
    show_attrs: bool = False,
    show_saved: bool = False,
    max_attr_chars: int = 50,
) -> Any:
    """torchviz's ``make_dot`` for ember tensors (torchviz itself checks for real ``torch.Tensor``s).

    Returns a ``graphviz.Digraph`` when the graphviz package is installed, so torchviz code
    (``make_dot(y).render("graph", format="png")``) keeps working; without it, a ``GraphPicture``.
    The picture is ember's: one box per node, leaves named by ``params``, arrows the way gradients flow.
    """
    flat = _outputs((var,), "make_dot")
    body = dot_statements(flat, params, show_saved, show_attrs, max_attr_chars)
    try:
        import graphviz
    except ImportError:
        return GraphPicture(dot_document(body))
    dot = graphviz.Digraph(name="autograd", graph_attr=dict(GRAPH_ATTRS), node_attr=dict(NODE_ATTRS))
    dot.body.extend(line + "\n" for line in body)
    return dot
