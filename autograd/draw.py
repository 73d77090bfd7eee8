"""Pictures of the computation graph: `draw_graph` and `render_graph`.

`draw_graph(root)` returns a `graphviz.Digraph` of the graph that produced
`root` (a `Value` or a `Tensor`). Building it needs only the `graphviz` Python
package (`.source` is the DOT text); turning it into SVG/PNG/PDF needs the
Graphviz `dot` program, and `render_graph` says how to install it when it is
missing (`GraphvizNotFound`).

Legend (the same for `Value` and `Tensor` graphs; `legend=True` draws it):

| vertex | look | what it is |
|---|---|---|
| parameter | blue rounded box | a leaf that requires grad (`nn.Parameter`, any `Value` you made) |
| input | green rounded box | a labelled leaf that does not require grad (data you feed in) |
| constant | dashed grey box | an unlabelled leaf without grad: a number or array mixed in |
| operation | yellow ellipse | a node made by an op; the text is the op's name (`node._op.name`) |
| output | thick red border | the root the picture was drawn from |
| scope | purple 3-D box | with `collapse="scope"`: every node made inside one `autograd.scope(...)` |
| ... N more nodes | dashed note | with `max_nodes`: the part of the graph left out |

Forward pictures (`direction="forward"`) label each edge with the value that
flows along it: the number for scalars, shape and dtype for tensors. Backward
pictures (`direction="backward"`) keep the same layout but point the arrows
the other way (gradients flow from the output to the leaves) and label each
edge with the local derivative d child / d parent (scalars) or the gradient's
shape (tensors); a dashed grey edge leads to a leaf that gets no gradient.

Everything here is iterative (no recursion), so graphs of 100,000+ nodes draw.
The helpers that read the graph (`graph_nodes`, `local_derivatives`,
`format_number`, `summarize`) live in graph_reading.py.
"""

import os
import re
from collections import Counter
from typing import Any

import graphviz
import numpy as np
from graphviz.quoting import a_list

from .graph_reading import (
    check_root,
    format_number,
    graph_nodes,
    is_tensor,
    leaf_kind,
    local_derivatives,
    shape_text,
    size_of,
    summarize,
    value_text,
)
from .hints import ValueOrTensor
from .node import Node

__all__ = ["draw_graph", "render_graph", "GraphvizNotFound"]

# Styles -----------------------------------------------------------------------

_KIND_STYLE = {
    "parameter": {"shape": "box", "style": "rounded,filled", "fillcolor": "#cfe2ff"},
    "input": {"shape": "box", "style": "rounded,filled", "fillcolor": "#d1e7dd"},
    "constant": {"shape": "box", "style": "rounded,dashed", "color": "gray50", "fontcolor": "gray30"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#fff3cd"},
    "scope": {"shape": "box3d", "style": "filled", "fillcolor": "#e2d9f3"},
    "more": {"shape": "note", "style": "dashed", "color": "gray50", "fontcolor": "gray30"},
}
_ROOT_STYLE = {"penwidth": "3", "color": "#d62728"}
_DASHED_EDGE = {"style": "dashed", "color": "gray60"}
_BACKWARD_EDGES = {"dir": "back", "color": "#d62728", "fontcolor": "#d62728"}

# The attribute text of each (kind, is root), quoted once by graphviz: writing
# DOT lines directly is what lets a 100,000-node graph build in about a second.
_ATTRS = {
    (kind, root): a_list(None, kwargs={**style, **(_ROOT_STYLE if root else {})})
    for kind, style in _KIND_STYLE.items()
    for root in (False, True)
}
_DASHED = a_list(None, kwargs=_DASHED_EDGE)  # edges with no gradient, and cut edges

_LEGEND = [
    ("parameter", ["parameter", "(requires grad)"]),
    ("input", ["input", "(labelled, no grad)"]),
    ("constant", ["constant", "(number or array)"]),
    ("op", ["operation"]),
]


# Characters a label cannot carry as they are: control characters (dot rejects NUL, and
# XML, so SVG, forbids the others), lone surrogates (no UTF-8 for them), U+FFFE and U+FFFF.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_UNPRINTABLE_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NAMED_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match):
    char = match.group()
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, one_line: bool = False) -> str:
    """User text with the characters above written as visible escapes (NUL as \\x00);
    with one_line, newlines and tabs too (\\n, \\t), for a table's cells."""
    if text.isprintable():
        return text
    return (_UNPRINTABLE_OR_BREAK if one_line else _UNPRINTABLE).sub(_escape, text)


def _quoted(lines):
    """One DOT string of label lines: backslashes and quotes in user text stay literal."""
    text = "\n".join(map(printable, lines))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _vertex_line(name, lines, attrs):
    return f"\t{name} [label={_quoted(lines)} {attrs}]\n"


def _edge_line(tail, head, label=None, attrs=""):
    text = "" if label is None else f"label={_quoted([label])}"
    body = " ".join(t for t in (text, attrs) if t)
    return f"\t{tail} -> {head}" + (f" [{body}]" if body else "") + "\n"


# Labels -----------------------------------------------------------------------


class _Labeller:
    """The text of vertices and edges for one picture's options."""

    def __init__(self, show_grad, show_values, backward):
        self.show_grad, self.show_values, self.backward = show_grad, show_values, backward
        self._local = {}  # id(child) -> its local derivatives, computed once

    def node_lines(self, node, is_root):
        if node._op is None:
            kind = leaf_kind(node)
            if node.label:
                lines = [node.label]
            elif kind == "constant" and not is_tensor(node):
                lines = [format_number(node._data)]  # a number is its own name
            else:
                lines = [kind]
        else:
            kind = "op"
            lines = [node._op.name] + ([node.label] if node.label else [])
        if kind != "op" or is_root:  # op values travel on the edges; the root has none
            lines += self._data_lines(node, skip_number=(kind == "constant"))
        if self.show_grad and (kind != "constant" or is_root):
            grad = self._grad(node)
            if isinstance(grad, Node):  # after backward(create_graph=True): a graph
                grad = grad._data
            if grad is not None:
                lines.append("grad " + (summarize(grad) if isinstance(grad, np.ndarray) else format_number(grad)))
        return kind, lines

    def _data_lines(self, node, skip_number):
        if not is_tensor(node):
            return [] if skip_number or not self.show_values else [f"data {value_text(node)}"]
        return [shape_text(node)] + ([value_text(node)] if self.show_values else [])

    @staticmethod
    def _grad(node):
        # Tensor keeps non-leaf gradients only on request; reading `_grad` avoids
        # the warning `.grad` gives for non-leaves. A Value keeps every gradient.
        return node._grad if is_tensor(node) else node.grad

    def edge(self, parent, child, slot):
        """(label or None, extra attributes) of the edge parent -> child."""
        if not self.backward:
            if is_tensor(parent):
                text = shape_text(parent)
                if self.show_values and parent._data.size == 1:
                    text += f"\n= {value_text(parent)}"
                return text, ""
            return (value_text(parent) if self.show_values else None), ""
        if not parent.requires_grad:
            return None, _DASHED  # no gradient flows into this leaf
        if size_of(child) == 1 and size_of(parent) == 1:
            key = id(child)
            if key not in self._local:
                self._local[key] = local_derivatives(child)
            d = self._local[key][slot]
            return ("none" if d is None else format_number(d)), ""
        return f"grad {parent._data.shape}", ""

    def many_edges(self, n):
        """The label of one edge that stands for edges from n distinct nodes (into or out of a box)."""
        return f"{n} gradients" if self.backward else f"{n} values"


# Grouping nodes into vertices ---------------------------------------------------


def _common_prefix(tuples):
    prefix = None
    for t in tuples:
        if prefix is None:
            prefix = t
            continue
        n = 0
        while n < len(prefix) and n < len(t) and prefix[n] == t[n]:
            n += 1
        prefix = prefix[:n]
        if not prefix:
            break
    return prefix or ()


def _scope_keys(nodes, index):
    """The box of each node under collapse='scope' (None: drawn on its own).

    Boxes are cut at the first scope level where the nodes differ, so a model
    wrapped in one outer scope still splits into its layers. A leaf made
    outside every scope (a weight created before the forward pass, a constant)
    joins the box of the nodes that use it when they all sit in one box.
    """
    prefix = _common_prefix(n._scope for n in nodes if n._scope)
    depth = len(prefix) + 1
    keys = [n._scope[:depth] if n._scope else None for n in nodes]
    users = {}
    for i, node in enumerate(nodes):
        for p in node._parents:
            j = index[id(p)]
            if keys[j] is None and p._op is None:
                users.setdefault(j, set()).add(keys[i])
    for j, boxes in users.items():
        if len(boxes) == 1 and None not in boxes:
            keys[j] = next(iter(boxes))
    return keys


class _Vertices:
    """The picture's vertices: one per node, or one per scope box with collapse.

    `members[v]` are the node indices in vertex v; `incoming[v]` maps each
    vertex u with an edge into v to that edge's (parent, child, slot) triples.
    """

    def __init__(self, nodes, collapse):
        index = {id(n): i for i, n in enumerate(nodes)}
        if collapse:
            keys = _scope_keys(nodes, index)
            vertex_of_key, self.keys, self.members, vertex = {}, [], [], []
            for i, key in enumerate(keys):
                v = vertex_of_key.get(key) if key is not None else None
                if v is None:
                    v = len(self.members)
                    self.members.append([])
                    self.keys.append(key)
                    if key is not None:
                        vertex_of_key[key] = v
                self.members[v].append(i)
                vertex.append(v)
        else:
            vertex = range(len(nodes))
            self.keys = [None] * len(nodes)
            self.members = [[i] for i in range(len(nodes))]
        self.incoming = [{} for _ in self.members]
        for i, node in enumerate(nodes):
            v = vertex[i]
            for slot, p in enumerate(node._parents):
                u = vertex[index[id(p)]]
                if u != v:
                    self.incoming[v].setdefault(u, []).append((p, node, slot))
        self.root = vertex[len(nodes) - 1]  # graph_nodes puts the root last

    def nearest(self, limit):
        """The `limit` vertices closest to the root (breadth-first toward the leaves)."""
        if limit is None or len(self.members) <= limit:
            return list(range(len(self.members)))
        order, seen = [self.root], {self.root}
        for v in order:  # `order` grows while it is read: a queue
            for u in self.incoming[v]:
                if u not in seen:
                    seen.add(u)
                    order.append(u)
                    if len(order) == limit:
                        return sorted(order)
        return sorted(order)


def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _box_lines(key, members, nodes):
    """A scope box: its name, size, parameters and most common ops."""
    ops = Counter(nodes[i]._op.name for i in members if nodes[i]._op is not None)
    params = sum(1 for i in members if nodes[i]._op is None and nodes[i].requires_grad)
    lines = ["/".join(key), f"{_plural(len(members), 'node')}, {_plural(params, 'parameter')}"]
    if ops:
        lines.append(", ".join(f"{n} {name}" for name, n in ops.most_common(4)))
    return lines


# The public functions -----------------------------------------------------------


def _check_options(rankdir, direction, collapse, max_nodes):
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if direction not in ("forward", "backward"):
        raise ValueError(f"draw_graph: direction must be 'forward' or 'backward', got {direction!r}")
    if collapse not in (None, "scope"):
        raise ValueError(f"draw_graph: collapse must be None or 'scope', got {collapse!r}")
    if max_nodes is not None and (
        not isinstance(max_nodes, (int, np.integer)) or isinstance(max_nodes, bool) or max_nodes < 1
    ):
        raise ValueError(f"draw_graph: max_nodes must be None or a positive int, got {max_nodes!r}")


def draw_graph(
    root: ValueOrTensor,
    show_grad: bool = True,
    show_values: bool = True,
    rankdir: str = "LR",
    direction: str = "forward",
    collapse: str | None = None,
    max_nodes: int = 500,
    legend: bool = False,
) -> graphviz.Digraph:
    """A `graphviz.Digraph` of the graph that produced `root` (a Value or a Tensor).

    show_grad     write each node's gradient (Values always have one; tensors
                  once backward() filled it: leaves, or non-leaves with retain_grad())
    show_values   write data on leaves and values on edges (tensors: up to 6
                  values, else min / mean / max; shapes and dtypes are always shown)
    rankdir       'LR' (left to right), 'RL', 'TB' or 'BT'
    direction     'forward': edges carry values; 'backward': arrows reversed, edges
                  carry local derivatives d child / d parent (tensors: gradient shapes)
    collapse      None, or 'scope': one box per `autograd.scope(...)` block
    max_nodes     keep the vertices nearest the root and one "... N more nodes"
                  vertex for the rest (None: draw everything)
    legend        add a small legend of the vertex styles

    The module docstring has the legend. `.source` is the DOT text (no Graphviz
    program needed); in a notebook the Digraph displays itself as SVG.
    """
    check_root("draw_graph", root)
    _check_options(rankdir, direction, collapse, max_nodes)
    backward = direction == "backward"
    nodes = graph_nodes(root)
    vertices = _Vertices(nodes, collapse == "scope")
    labeller = _Labeller(show_grad, show_values, backward)

    dot = graphviz.Digraph("computation_graph")
    dot.attr(
        rankdir=rankdir,
        label=(
            "backward: edges carry local derivatives d child / d parent" if backward else "forward: edges carry values"
        ),
        fontname="Helvetica",
        fontsize="10",
    )
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="10", **(_BACKWARD_EDGES if backward else {}))

    kept = vertices.nearest(max_nodes)
    kept_set = set(kept)
    lines, cut = dot.body, []
    for v in kept:
        key, members, is_root = vertices.keys[v], vertices.members[v], v == vertices.root
        if key is None:
            kind, text = labeller.node_lines(nodes[members[0]], is_root)
        else:
            kind, text = "scope", _box_lines(key, members, nodes)
        lines.append(_vertex_line(f"n{v}", text, _ATTRS[kind, is_root]))
        for u, edges in vertices.incoming[v].items():
            if u not in kept_set:
                cut.append(v)
            elif key is None and vertices.keys[u] is None:  # node to node: every edge
                for parent, child, slot in edges:
                    lines.append(_edge_line(f"n{u}", f"n{v}", *labeller.edge(parent, child, slot)))
            else:  # to or from a box: one edge
                distinct = {id(p): (p, c, s) for p, c, s in edges}
                label, attrs = (
                    labeller.edge(*next(iter(distinct.values())))
                    if len(distinct) == 1
                    else (labeller.many_edges(len(distinct)), "")
                )
                lines.append(_edge_line(f"n{u}", f"n{v}", label, attrs))
    if len(kept) < len(vertices.members):
        hidden = len(nodes) - sum(len(vertices.members[v]) for v in kept)
        more = f"... {_plural(hidden, 'more node')}"
        lines.append(_vertex_line("more", [more], _ATTRS["more", False]))
        for v in dict.fromkeys(cut):
            lines.append(_edge_line("more", f"n{v}", None, _DASHED))
    if legend:
        _add_legend(dot)
    return dot


def _add_legend(dot):
    with dot.subgraph(name="cluster_legend") as box:
        box.attr(label="legend", style="dashed", color="gray60")
        for kind, text in _LEGEND:
            box.body.append(_vertex_line(f"legend_{kind}", text, _ATTRS[kind, False]))
        box.body.append(_vertex_line("legend_root", ["output (root)"], _ATTRS["op", True]))


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """The Graphviz `dot` program is not installed (a RuntimeError).

    A subclass of graphviz.ExecutableNotFound, so code written for the graphviz
    package's own error catches it too.
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


INSTALL_HINT = (
    "Install Graphviz (the program, not only the Python package): "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz` (conda), or see https://graphviz.org/download/. "
    "Without it, draw_graph(root).source still gives the DOT text."
)


def render_graph(
    root: ValueOrTensor | graphviz.Digraph, path: str | os.PathLike[str], format: str = "svg", **draw_graph_options: Any
) -> str:
    """Draw `root`'s graph (see draw_graph for the options) into the file `path`; return the path.

    `root` is a Value or a Tensor, or a Digraph that draw_graph already made.

    `format` is 'svg', 'png' or 'pdf' (any Graphviz output format works). A
    path without an extension gets '.' + format; a path whose extension is a
    different format is an error. Only the image is written (no DOT file next
    to it); missing folders are created. Raises GraphvizNotFound, with
    installation instructions, when the `dot` program is missing.
    """
    if format not in graphviz.FORMATS:
        raise ValueError(f"render_graph: unknown format {format!r}; use 'svg', 'png' or 'pdf'")
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if not suffix:
        path += "." + format
    elif suffix != format and suffix in graphviz.FORMATS:
        raise ValueError(
            f"render_graph: the path {path!r} ends in .{suffix} but format is "
            f"{format!r}; pass format={suffix!r} or change the extension"
        )
    if isinstance(root, graphviz.Digraph):
        if draw_graph_options:
            raise TypeError(
                f"render_graph: options {sorted(draw_graph_options)} cannot change a "
                f"Digraph that is already drawn; pass the Value or Tensor instead"
            )
        dot = root
    else:
        dot = draw_graph(root, **draw_graph_options)
    try:
        image = dot.pipe(format=format)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizNotFound(
            f"render_graph: the Graphviz program 'dot' was not found, so the graph cannot be "
            f"drawn as {format} ({exc}). {INSTALL_HINT}"
        ) from None
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "wb") as f:
        f.write(image)
    return path
