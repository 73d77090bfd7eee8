"""walkthrough(root): watch the backward pass happen, one node at a time.

`explain` prints the chain rule as a finished table and `draw_graph` draws the
end state. A walkthrough records the forward pass (every node's value, in
topological order) and then the backward pass exactly as the engine runs it:
it hooks `engine.backward_pass(..., visit=...)`, the hook `trace` plans its
replay with, so the order, the gradient arriving at each node and what its
op's rule sends to each parent are the engine's own numbers, not a
re-derivation. Each backward step says, in the course notes' words:

    df/dh5 = -1/h5^2 = -0.25; upstream 1; sends -0.25

`.html` is one self-contained page (the Graphviz picture inline as SVG, the
steps as JSON, a little JavaScript; nothing is fetched) with buttons and the
arrow keys to step forwards and backwards, the current node and its edges
highlighted and every node's running gradient written on the picture.

The walkthrough runs the pass with retain_graph=True and fills no `.grad`:
call `root.backward()` yourself as usual, before or after.
"""

import html
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .draw import INSTALL_HINT, GraphvizNotFound, _check_options, _Vertices, draw_graph
from .explain import DIGITS, _formula, _names, _number
from .graph_reading import (
    check_scalar_root,
    format_number,
    graph_nodes,
    is_tensor,
    local_derivatives,
    seed_of,
    shape_text,
    size_of,
    summarize,
)
from .hints import ValueOrTensor

__all__ = ["walkthrough", "Walkthrough", "Step"]


@dataclass
class Step:
    """One step of a walkthrough; `text` is what the page's panel shows.

    Forward steps (`phase == "forward"`) have `node`, `op` ('' for a leaf),
    `formula` and `value`. Backward steps have `upstream` (d root / d node, the
    gradient arriving) and, keyed by the names of the parents that take a
    gradient, `local` (d node / d parent: a float, an array of the parent's
    shape for a one-element node, or the Jacobian's shape as text),
    `to_parents` (what the op's rule sends the parent, fitted to its shape as
    the engine does) and `accumulated` (the parent's gradient after the
    addition). A parent used twice (x * x) has its slots added up.
    """

    phase: str
    node: str
    op: str
    formula: str = ""
    value: object = None
    upstream: object = None
    local: dict = field(default_factory=dict)
    to_parents: dict = field(default_factory=dict)
    accumulated: dict = field(default_factory=dict)
    text: list = field(default_factory=list)


def walkthrough(root: ValueOrTensor, collapse: str | None = None, max_nodes: int = 500) -> "Walkthrough":
    """Record the forward and backward pass of `root`'s graph, step by step.

    `root` is a Value or a one-element Tensor that requires grad.
    `collapse="scope"` and `max_nodes` shape the picture as in `draw_graph`
    (the steps always cover every node). Returns a `Walkthrough`.
    """
    check_scalar_root("walkthrough", root)
    _check_options("LR", "forward", collapse, max_nodes)
    if not root.requires_grad:
        raise ValueError(
            "walkthrough: root does not require grad, so there is no backward pass "
            "to show (was it made inside no_grad(), or from inputs without "
            "requires_grad=True?)"
        )
    nodes = graph_nodes(root)
    names = _unique_names(nodes)
    shown = {id(n): (_number(n) if _is_constant(n) else names[id(n)]) for n in nodes}
    steps = [_forward_step(n, names, shown) for n in nodes if not _is_constant(n)]
    steps += _backward_steps(root, names, shown)
    return Walkthrough(root, nodes, names, steps, collapse, max_nodes)


def _is_constant(node):
    return node._op is None and not node.requires_grad and not node.label and size_of(node) == 1


def _unique_names(nodes):
    """{id(node): name}: its label, else explain's h1, h2, ...; repeats get '#2', '#3'."""
    names, taken = {}, set()
    for node, generated in zip(nodes, _names(nodes)):
        name = node.label or generated
        candidate, k = name, 1
        while candidate in taken:
            k += 1
            candidate = f"{name}#{k}"
        taken.add(candidate)
        names[id(node)] = candidate
    return names


def _show(x):
    """A number in the table's digits; arrays in full when small, else shape and min/mean/max."""
    if isinstance(x, np.ndarray):
        return summarize(x, DIGITS) if x.size <= 6 else f"{x.shape} {summarize(x, DIGITS)}"
    if isinstance(x, str):
        return x
    return format_number(x, DIGITS)


def _plain(x):
    """A one-element array as a float; anything else unchanged."""
    return x.item() if isinstance(x, np.ndarray) and x.size == 1 and x.ndim == 0 else x


# The forward pass -----------------------------------------------------------------


def _forward_step(node, names, shown):
    name, value = names[id(node)], _plain(node._data)
    shape = f" {shape_text(node)}" if is_tensor(node) and node._data.size > 1 else ""
    if node._op is None:
        kind = "a parameter" if node.requires_grad else "an input"
        return Step(
            "forward",
            name,
            "",
            "",
            value,
            text=[f"forward: {name} is {kind} (a leaf){shape}", f"{name} = {_show(value)}"],
        )
    formula = _formula(node, [shown[id(p)] for p in node._parents])
    numbers = [_number(p) for p in node._parents]
    arithmetic = "" if None in numbers or node._op.name == "w·x+b" else f" = {_formula(node, numbers)}"
    return Step(
        "forward",
        name,
        node._op.name,
        formula,
        value,
        text=[f"forward: {name} = {formula}{shape}", f"{name}{arithmetic} = {_show(value)}"],
    )


# The backward pass ----------------------------------------------------------------

# d node / d input i, written with the inputs' names ({a}, {b}), the node's own name
# ({out}) and the op's constant parameter ({p}), as the course writes them.
_LOCAL_FORMULAS = {
    "+": ("1", "1"),
    "-": ("1", "-1"),
    "*": ("{b}", "{a}"),
    "/": ("1/{b}", "-{a}/{b}^2"),
    "neg": ("-1",),
    "exp": ("exp({a})",),
    "log": ("1/{a}",),
    "log1p": ("1/(1 + {a})",),
    "sqrt": ("1/(2*sqrt({a}))",),
    "sin": ("cos({a})",),
    "cos": ("-sin({a})",),
    "tanh": ("1 - {out}^2",),
    "sigmoid": ("{out}*(1 - {out})",),
    "relu": ("1 if {a} > 0 else 0",),
    "abs": ("sign({a})",),
}
_POW_FORMULAS = ("{b}*{a}^({b} - 1)", "{a}^{b}*log({a})")  # a ** b, both nodes
# What the rule sends each input of a multi-element node, with g the upstream gradient.
_TENSOR_RULES = {
    "matmul": ("g @ {b}^T", "{a}^T @ g"),
    "linear": ("g @ {b}", "g^T @ {a}", "g summed over the batch"),
    "sum": ("g copied to every summed element",),
    "+": ("g (summed over broadcast axes)", "g (summed over broadcast axes)"),
    "-": ("g (summed over broadcast axes)", "-g (summed over broadcast axes)"),
    "softmax_cross_entropy": ("(softmax({a}) - targets) scaled by the reduction",),
}


def _local_formula(node, slot, shown):
    name = node._op.name
    parents = [shown[id(p)] for p in node._parents]
    words = {"a": parents[0], "b": parents[1] if len(parents) > 1 else "", "out": shown[id(node)]}
    if name == "**" and len(parents) == 1:  # a constant exponent lives in params
        p = node._params
        return f"{format_number(p, DIGITS)}*{parents[0]}^{format_number(p - 1, DIGITS)}"
    if name == "**":
        template = _POW_FORMULAS[slot]
    elif name == "w·x+b":  # parents w_1..w_n, x_1..x_n, b
        n = node._params
        return "1" if slot == 2 * n else parents[slot + n if slot < n else slot - n]
    else:
        templates = _LOCAL_FORMULAS.get(name)
        if templates is None or slot >= len(templates):
            return None
        template = templates[slot]
    return template.format(**words)


def _tensor_rule(node, slot, shown):
    name = node._op.name
    parents = [shown[id(p)] for p in node._parents]
    if name in _TENSOR_RULES and slot < len(_TENSOR_RULES[name]):
        return _TENSOR_RULES[name][slot].format(a=parents[0], b=parents[1] if len(parents) > 1 else "")
    scalar = _local_formula(node, slot, shown)
    if scalar is not None and name not in ("+", "-", "*", "/", "**"):
        return f"g * ({scalar}) elementwise"
    if name in ("*", "/", "**") and scalar is not None:
        return f"g * ({scalar}) elementwise, summed over broadcast axes"
    return f"the {name} rule's vjp"


def _backward_steps(root, names, shown):
    """Run the engine's pass on root's graph and turn what `visit` sees into Steps."""
    family = root._family
    running = {}  # id(node) -> its gradient so far, added in the engine's order
    steps = []
    root_name = names[id(root)]

    def visit(node, g, pgs):
        name = names[id(node)]
        upstream = _plain(g)
        if node._op is None:
            steps.append(
                Step(
                    "backward",
                    name,
                    "",
                    upstream=upstream,
                    text=[
                        f"backward: {name} is a leaf; its gradient is complete",
                        f"d{root_name}/d{name} = {_show(upstream)}   ({name}.grad)",
                    ],
                )
            )
            return
        step = Step(
            "backward",
            name,
            node._op.name,
            upstream=upstream,
            text=[
                f"backward: {name} = {_formula(node, [shown[id(p)] for p in node._parents])}",
                f"upstream d{root_name}/d{name} = {_show(upstream)}",
            ],
        )
        locals_ = local_derivatives(node) if size_of(node) == 1 else None
        slots = {}  # parent id -> its slots, in order
        for slot, (p, pg) in enumerate(zip(node._parents, pgs)):
            if pg is None or not p.requires_grad:
                continue
            if family.fit_grad is not None and (pg.shape != p._data.shape or pg.dtype != p._data.dtype):
                pg = family.fit_grad(family.raw_ns, pg, p)
            slots.setdefault(id(p), []).append((p, slot, pg))
        for parent_slots in slots.values():
            p = parent_slots[0][0]
            pname = names[id(p)]
            before = running.get(id(p))
            for _, _, pg in parent_slots:  # as the engine adds them, slot by slot
                running[id(p)] = pg if running.get(id(p)) is None else running[id(p)] + pg
            sent = parent_slots[0][2]
            for _, _, pg in parent_slots[1:]:
                sent = sent + pg
            step.to_parents[pname] = _plain(sent)
            step.accumulated[pname] = _plain(running[id(p)])
            step.local[pname] = _local_value(node, p, parent_slots, locals_)
            step.text += _parent_lines(node, p, parent_slots, step, pname, before, root_name, shown)
        steps.append(step)

    try:
        engine.backward_pass(root, seed_of(root), retain_graph=True, wrt=(), visit=visit)
    except RuntimeError as exc:
        if "second time" not in str(exc):
            raise
        raise RuntimeError(
            "walkthrough: the graph was already consumed by a backward() call, so its backward "
            "pass cannot be replayed; call walkthrough(root) before root.backward(), or pass "
            "retain_graph=True to backward()"
        ) from None
    return steps


def _local_value(node, parent, parent_slots, locals_):
    if locals_ is None:
        return f"Jacobian {node._data.shape} x {parent._data.shape}"
    total = None
    for _, slot, _ in parent_slots:
        d = locals_[slot]
        if d is not None:
            total = d if total is None else total + d
    return total


def _parent_lines(node, parent, parent_slots, step, pname, before, root_name, shown):
    """The course's line for one parent, then its running gradient."""
    name, sent, acc = step.node, step.to_parents[pname], step.accumulated[pname]
    if isinstance(step.local[pname], str):  # a multi-element node: the rule in words
        rules = "; ".join(_tensor_rule(node, slot, shown) for _, slot, _ in parent_slots)
        lines = [f"to {pname}: {rules}; sends {_show(sent)}"]
    else:
        formulas = [_local_formula(node, slot, shown) for _, slot, _ in parent_slots]
        local = _show(step.local[pname])
        formula = " + ".join(f for f in formulas if f is not None)
        if not formula or formula == local or None in formulas:
            written = f"d{name}/d{pname} = {local}"
        else:
            written = f"d{name}/d{pname} = {formula} = {local}"
        lines = [f"{written}; upstream {_show(step.upstream)}; sends {_show(sent)}"]
    if before is None:
        lines.append(f"d{root_name}/d{pname} so far: {_show(acc)}")
    else:
        lines.append(
            f"d{root_name}/d{pname} so far: {_show(_plain(before))} + {_show(sent)} = {_show(acc)}   (paths meet)"
        )
    return lines


# The page -------------------------------------------------------------------------

_GRAD_PLACEHOLDER = "grad ·"
_FIT_WIDTH = 2400  # pt; wider pictures open at their own size (the zoom button fits them)
_VERTEX_LABEL = re.compile(r'^(\t(n\d+) \[label=")((?:[^"\\]|\\.)*)(")', re.S)


class Walkthrough:
    """What walkthrough() returns: `.steps`, `.html`, `.save(path)`, and Jupyter display."""

    def __init__(self, root, nodes, names, steps, collapse, max_nodes):
        self.root_name = names[id(root)]
        self.steps = steps
        self._nodes, self._names = nodes, names
        self._collapse, self._max_nodes = collapse, max_nodes
        self._root = root
        self._html = None

    def __repr__(self) -> str:
        backward = sum(s.phase == "backward" for s in self.steps)
        return f"<Walkthrough of {self.root_name}: {len(self.steps) - backward} forward and {backward} backward steps>"

    @property
    def html(self) -> str:
        """The page as one HTML string (built once; needs the Graphviz `dot` program)."""
        if self._html is None:
            self._html = _page(self)
        return self._html

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the page to `path` (missing folders are created); return the path."""
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return path

    def _repr_html_(self) -> str:
        """The page in an iframe (its scripts run in their own document, which sandboxed
        notebook front ends allow), and the steps as a static table below it for front ends
        that strip iframes."""
        frame = (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width:100%;height:640px;border:1px solid #ccc" '
            f'sandbox="allow-scripts"></iframe>'
        )
        return frame + "\n" + _static_table(self)

    def vertex_of(self) -> dict[str, str]:
        """{node name: the picture's vertex id ('n3')}; nodes in a scope box share its id;
        nodes left out by max_nodes are missing."""
        vertices = _Vertices(self._nodes, self._collapse == "scope")
        kept = set(vertices.nearest(self._max_nodes))
        out = {}
        for v, members in enumerate(vertices.members):
            if v in kept:
                for i in members:
                    out[self._names[id(self._nodes[i])]] = f"n{v}"
        return out


def _svg(walk, vertex_of, widths):
    """The picture with one extra label line per node vertex, the running gradient's place,
    as wide as the longest gradient text the vertex will show (`widths`)."""
    dot = draw_graph(walk._root, show_grad=False, collapse=walk._collapse, max_nodes=walk._max_nodes)
    counts = Counter(vertex_of.values())
    by_name = {walk._names[id(n)]: n for n in walk._nodes}
    singles = {v for name, v in vertex_of.items() if counts[v] == 1 and by_name[name].requires_grad}
    for k, line in enumerate(dot.body):
        match = _VERTEX_LABEL.match(line)
        if match and match.group(2) in singles:
            pad = "\u2007" * (widths.get(match.group(2), 0) - len(_GRAD_PLACEHOLDER))  # figure spaces
            dot.body[k] = line[: match.end(3)] + "\\n" + _GRAD_PLACEHOLDER + pad + line[match.end(3) :]
    try:
        svg = dot.pipe(format="svg").decode("utf-8")
    except Exception as exc:  # graphviz.ExecutableNotFound, named for the user below
        if type(exc).__name__ != "ExecutableNotFound":
            raise
        raise GraphvizNotFound(
            f"walkthrough: the Graphviz program 'dot' was not found, so the page has no picture ({exc}). {INSTALL_HINT}"
        ) from None
    svg = svg[svg.index("<svg") :]  # no XML prolog or DOCTYPE (it names a URL)
    width = re.match(r'<svg width="([0-9.]+)pt"', svg)
    if width and float(width.group(1)) <= _FIT_WIDTH:  # small pictures grow to the page's width
        svg = svg.replace("<svg ", '<svg class="fit" ', 1)
    return svg


def _page_data(walk):
    """The steps for the page's script; gradients on the picture are written as draw_graph
    writes them (4 digits; min / mean / max for big arrays), the panel has 6 digits."""
    vertex_of = walk.vertex_of()
    steps, widths = [], {}
    for step in walk.steps:
        grads = {}
        if step.phase == "backward":
            updates = [(step.node, step.upstream)] + list(step.accumulated.items())
            for name, g in updates:
                if name in vertex_of:
                    v = vertex_of[name]
                    grads[v] = "grad " + (summarize(g) if isinstance(g, np.ndarray) else format_number(g))
                    widths[v] = max(widths.get(v, 0), len(grads[v]))
        edges = [
            f"{vertex_of[p]}->{vertex_of[step.node]}"
            for p in step.to_parents
            if p in vertex_of and step.node in vertex_of and vertex_of[p] != vertex_of[step.node]
        ]
        steps.append(
            {
                "phase": step.phase,
                "node": step.node,
                "vertex": vertex_of.get(step.node),
                "edges": edges,
                "grads": grads,
                "text": step.text,
            }
        )
    return {"root": walk.root_name, "steps": steps, "vertex_of": vertex_of}, vertex_of, widths


def _page(walk):
    data, vertex_of, widths = _page_data(walk)
    svg = _svg(walk, vertex_of, widths)
    payload = json.dumps(data).replace("</", "<\\/")  # cannot close the script element
    title = html.escape(f"walkthrough: {walk.root_name}")
    fill = {
        "@TITLE@": title,
        "@STYLE@": _STYLE,
        "@COUNT@": str(len(walk.steps)),
        "@SVG@": svg,
        "@DATA@": payload,
        "@SCRIPT@": _SCRIPT,
    }
    return re.sub("|".join(fill), lambda m: fill[m.group(0)], _TEMPLATE)  # one pass: no text is filled twice


def _static_table(walk):
    rows = "".join(
        f"<tr><td>{k + 1}</td><td>{s.phase}</td><td>{html.escape(s.node)}</td>"
        f"<td><pre style='margin:0'>{html.escape(chr(10).join(s.text))}</pre></td></tr>"
        for k, s in enumerate(walk.steps)
    )
    return (
        f"<details><summary>the {len(walk.steps)} steps as a table</summary>"
        f"<table><tr><th>#</th><th>phase</th><th>node</th><th>text</th></tr>{rows}</table>"
        f"</details>"
    )


_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 12px; }
#controls { margin-bottom: 8px; }
#controls button { font-size: 15px; padding: 3px 10px; }
#position { margin: 0 10px; font-weight: bold; }
#graph { overflow: auto; margin-top: 8px; }
#graph svg.fit { width: 100%; height: auto; }
#panel { max-width: 900px; border: 1px solid #bbb; border-radius: 6px; padding: 8px 12px;
         background: #fafafa; font-family: Menlo, Consolas, monospace; font-size: 14px; }
#panel ol { list-style: none; padding: 0; margin: 0; }
#panel li { margin: 4px 0; white-space: pre-wrap; }
#panel li:first-child { font-weight: bold; }
#hint { color: #666; font-size: 12px; margin-top: 6px; }
g.node.current ellipse, g.node.current polygon, g.node.current path { stroke: #e6550d; stroke-width: 4px; }
g.node.done ellipse, g.node.done polygon { stroke: #2ca02c; }
g.edge.current path { stroke: #e6550d; stroke-width: 3px; }
g.edge.current polygon { stroke: #e6550d; fill: #e6550d; }
g.node text.grad { fill: #d62728; font-weight: bold; }
"""

_SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById("walkthrough-data").textContent);
  var steps = data.steps, current = 0;
  var nodes = {}, edges = {}, gradText = {}, blank = {};
  document.querySelectorAll("#graph g.node").forEach(function (g) {
    var id = g.querySelector("title").textContent;
    nodes[id] = g;
    var texts = g.querySelectorAll("text");
    var last = texts[texts.length - 1];
    if (last && last.textContent.indexOf("grad") === 0) {
      gradText[id] = last; blank[id] = last.textContent.trim(); last.classList.add("grad");
    }
  });
  document.querySelectorAll("#graph g.edge").forEach(function (g) {
    var id = g.querySelector("title").textContent;
    (edges[id] = edges[id] || []).push(g);
  });
  function show(k) {
    current = Math.max(0, Math.min(steps.length - 1, k));
    var grads = {}, done = {};
    for (var i = 0; i <= current; i++) {
      var s = steps[i];
      for (var v in s.grads) grads[v] = s.grads[v];
      if (i < current && s.phase === "backward" && s.vertex) done[s.vertex] = true;
    }
    for (var id in gradText) gradText[id].textContent = grads[id] || blank[id];
    document.querySelectorAll("#graph .current, #graph .done").forEach(function (g) {
      g.classList.remove("current"); g.classList.remove("done");
    });
    for (var d in done) nodes[d].classList.add("done");
    var step = steps[current];
    if (step.vertex && nodes[step.vertex]) nodes[step.vertex].classList.add("current");
    step.edges.forEach(function (e) { (edges[e] || []).forEach(function (g) { g.classList.add("current"); }); });
    var list = document.getElementById("lines");
    list.innerHTML = "";
    step.text.forEach(function (line) {
      var li = document.createElement("li"); li.textContent = line; list.appendChild(li);
    });
    document.getElementById("position").textContent =
      "step " + (current + 1) + " of " + steps.length + " (" + step.phase + ")";
    document.getElementById("prev").disabled = current === 0;
    document.getElementById("first").disabled = current === 0;
    document.getElementById("next").disabled = current === steps.length - 1;
    document.getElementById("last").disabled = current === steps.length - 1;
  }
  document.getElementById("first").onclick = function () { show(0); };
  document.getElementById("prev").onclick = function () { show(current - 1); };
  document.getElementById("next").onclick = function () { show(current + 1); };
  document.getElementById("last").onclick = function () { show(steps.length - 1); };
  document.getElementById("zoom").onclick = function () {
    document.querySelector("#graph svg").classList.toggle("fit");
  };
  document.addEventListener("keydown", function (e) {
    var moves = {ArrowRight: 1, ArrowDown: 1, PageDown: 1, " ": 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1};
    if (e.key in moves) { show(current + moves[e.key]); e.preventDefault(); }
    else if (e.key === "Home") { show(0); e.preventDefault(); }
    else if (e.key === "End") { show(steps.length - 1); e.preventDefault(); }
  });
  window.walkthrough = {show: show, current: function () { return current; }};
  window.focus();
  var start = /step=(\d+|last)/.exec(window.location.hash);    // page.html#step=7 opens at step 7
  show(!start ? 0 : start[1] === "last" ? steps.length - 1 : parseInt(start[1], 10) - 1);
})();
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>@TITLE@</title>
<style>@STYLE@</style>
</head>
<body>
<div id="controls">
<button id="first" title="first step (Home)">first</button>
<button id="prev" title="step back (left arrow)">&#x2190; back</button>
<span id="position">step 1 of @COUNT@</span>
<button id="next" title="next step (right arrow)">next &#x2192;</button>
<button id="last" title="last step (End)">last</button>
<button id="zoom" title="fit the picture to the page, or show it at its own size">zoom</button>
</div>
<div id="panel"><ol id="lines"></ol>
<div id="hint">&#x2190; &#x2192; or the buttons step through the forward pass, then the backward pass
in the engine's order. Red: each node's gradient so far.</div></div>
<div id="graph">@SVG@</div>
<script type="application/json" id="walkthrough-data">@DATA@</script>
<script>@SCRIPT@</script>
</body>
</html>
"""
