"""``fncache.printing.pydotprint``: a graph as Graphviz DOT text, rendered by Graphviz's ``dot``
program when another format is asked for (Theano's ``pydotprint``, without pydot)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from typing import Any

from ..graph.basic import Constant, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.debugprint import graph_of

__all__ = ["pydotprint", "to_dot"]

_log = logging.getLogger(__name__)


def _quoted(text: str, limit: int) -> str:
    if len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _type_text(v: Variable) -> str:
    return f"{v.type.dtype}{list(v.type.shape)}"


def to_dot(fg: FunctionGraph, title: str = "", max_label_size: int = 70) -> str:
    """The DOT text of ``fg``: one box per input (green), constant (grey) and output (blue), one
    ellipse per apply node, labelled with its op; an edge per value, labelled with its dtype and
    shape (and the input's position where a node takes several)."""
    ids: dict[int, str] = {}
    lines = ["digraph fncache_graph {", "  node [fontname=Helvetica];"]
    if title:
        lines.append(f"  label={_quoted(title, 10 * max_label_size)};")

    def value_node(v: Variable, fill: str, label: str) -> str:
        if id(v) not in ids:
            ids[id(v)] = f"v{len(ids)}"
            attrs = f"shape=box, style=filled, fillcolor={fill}"
            lines.append(f"  {ids[id(v)]} [label={_quoted(label, max_label_size)}, {attrs}];")
        return ids[id(v)]

    for k, v in enumerate(fg.inputs):
        value_node(v, "limegreen", f"{v.name or f'in{k}'} {_type_text(v)}")
    producer: dict[int, str] = {}
    for n, node in enumerate(fg.toposort()):
        name = f"n{n}"
        lines.append(f"  {name} [label={_quoted(str(node.op), max_label_size)}, shape=ellipse];")
        for i, v in enumerate(node.inputs):
            if id(v) in producer:
                source = producer[id(v)]
            elif isinstance(v, Constant):
                source = value_node(v, "lightgrey", repr(v))
            else:
                source = value_node(v, "limegreen", f"{v.name or '?'} {_type_text(v)}")
            label = f"{i} {_type_text(v)}" if len(node.inputs) > 1 else _type_text(v)
            lines.append(f"  {source} -> {name} [label={_quoted(label, max_label_size)}];")
        for o in node.outputs:
            producer[id(o)] = name
    for j, v in enumerate(fg.outputs):
        out = f"out{j}"
        lines.append(
            f"  {out} [label={_quoted(f'{v.name or out} {_type_text(v)}', max_label_size)}, "
            "shape=box, style=filled, fillcolor=dodgerblue];"
        )
        # an output no node computes is an input (already drawn) or a constant
        source = producer.get(id(v)) or value_node(v, "lightgrey", repr(v))
        lines.append(f"  {source} -> {out};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def pydotprint(
    fct: Any,
    outfile: str | os.PathLike | None = None,
    compact: bool = True,
    format: str = "png",
    with_ids: bool = False,
    high_contrast: bool = True,
    cond_highlight: Any = None,
    colorCodes: dict | None = None,
    max_label_size: int = 70,
    scan_graphs: bool = False,
    var_with_name_simple: bool = False,
    print_output_file: bool = True,
    return_image: bool = False,
) -> str | bytes:
    """Write the graph of ``fct`` (a Function: its optimized graph; a FunctionGraph; a variable
    or a list of them) to ``outfile`` (default ``fncache.pydotprint.<format>`` in the current
    directory) and return its DOT text. ``format='dot'`` writes the DOT text itself; any other
    format (``'png'``, ``'svg'``, ``'pdf'``...) is rendered by Graphviz's ``dot`` program, which
    must be installed. ``print_output_file`` logs where the file went (Theano printed it);
    ``return_image``: no file, the rendered image's bytes are returned instead. The arguments
    are Theano's and PyTensor's, in their order; ``compact``, ``with_ids``, ``high_contrast``,
    ``cond_highlight``, ``colorCodes``, ``scan_graphs`` and ``var_with_name_simple`` (how
    pydot's drawing looked) are taken and change nothing: each value is drawn once, with its
    name, dtype and shape."""
    if not isinstance(format, str) or not format.isalnum():
        raise ValueError(
            f"pydotprint: format must be a Graphviz output format such as 'png' or 'dot', got {format!r}"
        )
    fg, head = graph_of(fct, "pydotprint")
    text = to_dot(fg, head.rstrip(":"), max_label_size)
    if return_image:
        return text.encode() if format == "dot" else _rendered(text, format, "the image")
    path = os.fspath(outfile) if outfile is not None else f"fncache.pydotprint.{format}"
    if format == "dot":
        with open(path, "w") as f:
            f.write(text)
    else:
        image = _rendered(text, format, repr(path))  # no file where dot fails
        with open(path, "wb") as f:
            f.write(image)
    if print_output_file:
        _log.info("pydotprint: the graph is at %s", path)
    return text


def _rendered(text: str, format: str, what: str) -> bytes:
    """DOT ``text`` rendered in ``format`` by Graphviz's ``dot`` program (``what``: where it
    goes, for the errors)."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            f"pydotprint: format={format!r} needs Graphviz's 'dot' program, which is not installed "
            "(not found on PATH); install Graphviz (e.g. apt-get install graphviz), or write the DOT "
            "text with pydotprint(f, outfile, format='dot') and render it elsewhere (the text is "
            "also this function's return value)"
        )
    done = subprocess.run([dot, f"-T{format}"], input=text.encode(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"pydotprint: Graphviz's dot failed to write {what} as {format!r}: "
            f"{done.stderr.decode(errors='replace').strip()}"
        )
    return done.stdout
