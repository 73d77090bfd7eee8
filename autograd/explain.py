"""explain(root, wrt): the chain rule written out, as in the course notes.

The notes take f(x; w, b) = 1 / (exp(-(w x + b)) + 1), name every elementary
function h1 .. h6, write each one's local derivative, and multiply them along
the path from w to f:

    df/dw = 1 x -0.25 x 1 x 1 x -1 x 1 x 1 = 0.25

`explain` does this for any graph: `.rows` are the h_i with formula, forward
value and local derivative d h_i / d (its input on a path from wrt);
`.paths` lists the paths from wrt to root with the product of the local
derivatives along each (at most `max_paths` of them: their number can grow
exponentially), and `.total` is the exact sum over all paths, computed by a
backward pass over the nodes between wrt and root (never by listing paths).
`str()` of the result is the printed table. Everything is iterative, so
graphs of 100,000+ nodes work.

Scalars (Values, and tensors of one element) get numbers everywhere. For
bigger tensors a row's local derivative is the shape of its Jacobian, paths
carry those shapes, and the total is the gradient array.
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .draw import printable
from .graph_reading import (
    check_root,
    check_scalar_root,
    format_number,
    graph_nodes,
    is_tensor,
    local_derivatives,
    node_vjp,
    size_of,
    summarize,
)
from .hints import ValueOrTensor

__all__ = ["explain", "Explanation", "Row", "Path"]

MAX_PATHS = 50
DIGITS = 6  # significant digits in the printed table
_SHOW_ROWS = 60  # str() prints the first and last 30 rows of longer tables
_SHOW_FACTORS = 14  # and the ends of longer paths

_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "**", "matmul": "@"}


@dataclass
class Row:
    """One elementary function h_i = formula, with its forward value (a float, or the array).

    local_derivative is d h_i / d (its input on a path from wrt): a float for
    scalars; an array of the input's shape when h_i has one element and its
    input more; a text like 'Jacobian (2,) x (2, 3)' when h_i has several
    elements; a dict {input name: derivative} when several inputs lie on paths
    from wrt; None when h_i is on no path from wrt. `inputs` names those inputs.
    """

    name: str
    formula: str
    value: object
    local_derivative: object
    inputs: tuple = ()
    label: str = ""


@dataclass
class Path:
    """A path from wrt to root: `names` from wrt to root; `factors` start with
    d root / d root = 1 and go back from root to wrt (the order the notes
    multiply in); `product` is None when a factor is a Jacobian shape."""

    names: tuple
    factors: tuple
    product: object


@dataclass(repr=False)
class Explanation:
    """What explain() returns; str() of it is the printed table."""

    root_name: str
    wrt_name: str
    leaves: list  # (name, value text) of the leaves written by name
    rows: list
    paths: list
    path_count: int  # every path from wrt to root, also those not listed
    total: object  # d root / d wrt: float, or an array of wrt's shape

    def __repr__(self) -> str:
        return (
            f"<Explanation d{self.root_name}/d{self.wrt_name} = {_show(self.total)}: "
            f"{len(self.rows)} rows, {_paths_text(self.path_count)}>"
        )

    def __str__(self) -> str:
        out = []
        if self.leaves:
            out.append(
                "leaves: " + ", ".join(f"{n} = {v}" for n, v in self.leaves) + "   (constants are written as numbers)"
            )
            out.append("")
        out += _table(self.rows)
        d_root = f"d{self.root_name}/d{self.wrt_name}"
        if self.path_count == 0:
            out.append(f"no path from {self.wrt_name} to {self.root_name}: {d_root} = {_show(self.total)}")
            return "\n".join(out)
        out.append(
            f"{_paths_text(self.path_count)} from {self.wrt_name} to {self.root_name}; a path's "
            f"product is d{self.root_name}/d{self.root_name} = 1 times the local derivatives "
            f"along it:"
        )
        for path in self.paths:
            factors = " x ".join(_shorten([_show(f) for f in path.factors]))
            product = "" if path.product is None else f" = {_show(path.product)}"
            out.append(f"  {' -> '.join(_shorten(list(path.names)))}:  {factors}{product}")
        if self.path_count > len(self.paths):
            more = self.path_count - len(self.paths)
            out.append(
                f"  ... and {_count_text(more)} more path{'' if more == 1 else 's'} "
                f"(not listed; the total counts them all)"
            )
        out.append(f"{d_root} = {_show(self.total)}" + ("" if self.path_count == 1 else "   (the sum over the paths)"))
        return "\n".join(out)


def explain(root: ValueOrTensor, wrt: ValueOrTensor, max_paths: int = MAX_PATHS) -> Explanation:
    """The chain rule for d root / d wrt, written out (see the module docstring).

    `root` is a Value or a one-element Tensor; `wrt` is a node of its graph
    that requires grad (a leaf like w, or an intermediate node). A `wrt` that
    root does not depend on gives no paths and a total of 0.
    """
    check_scalar_root("explain", root)
    check_root("explain", wrt, "wrt")
    if not wrt.requires_grad:
        raise ValueError(
            "explain: wrt does not require grad, so the graph holds no derivative "
            "for it; make it with requires_grad=True (or as a Value)"
        )
    if not isinstance(max_paths, int) or max_paths < 0:
        raise ValueError(f"explain: max_paths must be a non-negative int, got {max_paths!r}")
    nodes = graph_nodes(root)
    index = {id(n): i for i, n in enumerate(nodes)}
    names = _names(nodes)
    start, end = index.get(id(wrt)), len(nodes) - 1
    on_parents = _on_path_parents(nodes, index, start)

    rows, derivative = [], {}  # derivative[i][j]: d node i / d on-path parent j
    for i, node in enumerate(nodes):
        if node._op is None:
            continue
        ds = _local(node, index, on_parents.get(i, ()))
        derivative[i] = ds
        if not ds:
            local = None
        elif len(ds) == 1:
            local = next(iter(ds.values()))
        else:
            local = {names[j]: d for j, d in ds.items()}
        rows.append(
            Row(
                names[i],
                _formula(node, [names[index[id(p)]] for p in node._parents]),
                _value(node),
                local,
                tuple(names[j] for j in ds),
                printable(node.label, one_line=True),
            )
        )

    paths = [_path(chain, names, derivative) for chain in _chains(on_parents, end, start, max_paths)]
    leaves = [(names[i], _leaf_text(n)) for i, n in enumerate(nodes) if n._op is None and names[i] != _number(n)]
    return Explanation(
        _called(root, names, end),
        _called(wrt, names, start),
        leaves,
        rows,
        paths,
        _count_paths(on_parents, start, end),
        _total(nodes, index, on_parents, derivative, start, wrt),
    )


# Names and formulas ------------------------------------------------------------


def _number(node):
    """A one-element node's value as the table writes it: negatives in parentheses."""
    if size_of(node) != 1:
        return None
    text = format_number(node._data if not is_tensor(node) else node._data.item(), DIGITS)
    return f"({text})" if text.startswith("-") else text


def _names(nodes):
    """h1, h2, ... for ops (in order); leaves by label, constants as numbers, others v1, v2, ...

    Every name but a constant's number is unique: a label that several leaves share,
    or that is also a generated name, gets a suffix (x_1, x_2), as does any generated
    name that a label also uses. Labels are written on one line (a newline as \\n).
    """
    names, numbers, ops, others = [], set(), 0, 0
    for i, node in enumerate(nodes):
        if node._op is not None:
            ops += 1
            names.append(f"h{ops}")
        elif node.label:
            names.append(printable(node.label, one_line=True))
        elif not node.requires_grad and size_of(node) == 1:
            names.append(_number(node))
            numbers.add(i)
        else:
            others += 1
            names.append(f"v{others}")
    uses = Counter(name for i, name in enumerate(names) if i not in numbers)
    if max(uses.values(), default=0) > 1:
        taken, suffixes = set(names), Counter()
        for i, name in enumerate(names):
            if i in numbers or uses[name] == 1:
                continue
            while f"{name}_{suffixes[name] + 1}" in taken:
                suffixes[name] += 1
            suffixes[name] += 1
            names[i] = f"{name}_{suffixes[name]}"
            taken.add(names[i])
    return names


def _called(node, names, i):
    """What the text calls root and wrt: an op's label (its row shows it beside h_i), else the
    node's name in the table (None for i: a wrt outside the graph, by label or as "wrt")."""
    if node.label and (node._op is not None or i is None):
        return printable(node.label, one_line=True)
    return "wrt" if i is None else names[i]


def _reduction(p):
    axes, keepdims = p
    return ([] if axes is None else [f"axis={axes}"]) + (["keepdims=True"] if keepdims else [])


def _bound(x):
    return "None" if x is None else format_number(x, DIGITS)


# How each op's params read in a formula; ops not listed show none.
_PARAM_TEXT = {
    "sum": _reduction,
    "max": _reduction,
    "min": _reduction,
    "logsumexp": _reduction,
    "reshape": lambda p: [str(p)],
    "broadcast_to": lambda p: [str(p)],
    "sum_to": lambda p: [str(p)],
    "transpose": lambda p: [str(p)],
    "astype": lambda p: [str(p)],
    "clip": lambda p: [_bound(p[0]), _bound(p[1])],
    "concatenate": lambda p: [f"axis={p}"],
    "stack": lambda p: [f"axis={p}"],
    "scatter": lambda p: [f"shape={p[1]}"],
}


def _index_item(i):
    if isinstance(i, slice):
        text = lambda v: "" if v is None else str(v)  # noqa: E731
        return f"{text(i.start)}:{text(i.stop)}" + ("" if i.step is None else f":{i.step}")
    if i is Ellipsis:
        return "..."
    if isinstance(i, np.ndarray):
        return summarize(i) if i.size <= 6 else f"array{i.shape}"
    return str(i)


def _formula(node, args):
    """'w * x', '-h2', 'exp(h3)', 'h1[0, :]', 'sum(h2, axis=(1,))'."""
    name, params = node._op.name, node._params
    if name == "neg":
        return f"-{args[0]}"
    if name in _INFIX and len(args) == 2:
        return f"{args[0]} {_INFIX[name]} {args[1]}"
    if name == "**":  # a constant exponent lives in params (a number or an array)
        exponent = summarize(params, DIGITS) if isinstance(params, np.ndarray) else format_number(params, DIGITS)
        return f"{args[0]} ** {exponent}"
    if name == "getitem":
        items = params if isinstance(params, tuple) else (params,)
        return f"{args[0]}[{', '.join(_index_item(i) for i in items)}]"
    if name == "where":  # the condition is a constant in params
        args = ["cond"] + args
    extra = _PARAM_TEXT.get(name, lambda p: [])(params)
    return f"{name}({', '.join(args + extra)})"


def _value(node):
    """A float for a scalar, else the array."""
    if not is_tensor(node):
        return node._data
    return node._data.item() if node._data.size == 1 else node._data


def _leaf_text(node):
    if not is_tensor(node):
        return format_number(node._data, DIGITS)
    return f"{node._data.shape} {summarize(node._data, DIGITS)}"


def _show(x):
    if isinstance(x, np.ndarray):
        return summarize(x, DIGITS) if x.size == 1 else f"{x.shape} {summarize(x, DIGITS)}"
    if isinstance(x, (float, int, np.floating, np.integer)):
        return format_number(x, DIGITS)
    return str(x)


def _count_text(n):
    """Path counts can have thousands of digits (str() of them even raises): keep it short."""
    if n < 10**15:
        return f"{n:,}"
    return f"about 10^{int(n.bit_length() * 0.30103)}"


def _paths_text(n):
    return f"{_count_text(n)} path" + ("" if n == 1 else "s")


def _shorten(items):
    if len(items) <= _SHOW_FACTORS:
        return items
    half = _SHOW_FACTORS // 2
    return items[:half] + [f"... ({len(items) - 2 * half} more)"] + items[-half:]


# The derivatives ------------------------------------------------------------------


def _on_path_parents(nodes, index, start):
    """For each node on a path from nodes[start] to the root: its distinct parents on such paths.

    A node is on a path when it is `start` or has a parent on a path (every
    node in `nodes` leads to the root); one sweep in topological order.
    """
    if start is None:
        return {}
    on_parents = {start: ()}
    for i in range(start + 1, len(nodes)):
        ps = [index[id(p)] for p in nodes[i]._parents]
        ps = list(dict.fromkeys(j for j in ps if j in on_parents))
        if ps:
            on_parents[i] = ps
    return on_parents


def _local(node, index, path_parents):
    """{j: d node / d nodes[j]} for the parents j on paths from wrt (x * x: the slots add up)."""
    if not path_parents:
        return {}
    if size_of(node) != 1:  # the Jacobian would be big: give its shape
        return {
            index[id(p)]: f"Jacobian {node._data.shape} x {p._data.shape}"
            for p in node._parents
            if index[id(p)] in path_parents
        }
    # one output: the vjp with seed 1 is the whole Jacobian (a float, or an array of
    # the input's shape)
    ds = {}
    for p, d in zip(node._parents, local_derivatives(node)):
        j = index[id(p)]
        if j in path_parents and d is not None:
            ds[j] = ds[j] + d if j in ds else d
    return ds


def _chains(on_parents, end, start, limit):
    """Up to `limit` paths as node indices from end (root) back to start (wrt).

    Iterative DFS; every node with on-path parents leads to start, so each
    path costs at most its length to find.
    """
    if start is None or limit == 0:
        return []
    if end == start:
        return [[end]]
    found, chain, stack = [], [end], [iter(on_parents[end])]
    while stack and len(found) < limit:
        j = next(stack[-1], None)
        if j is None:
            stack.pop()
            chain.pop()
        elif j == start:
            found.append(chain + [j])
        else:
            chain.append(j)
            stack.append(iter(on_parents[j]))
    return found


def _path(chain, names, derivative):
    factors = [1.0] + [derivative[i][j] for i, j in zip(chain, chain[1:])]
    # Only the last factor can be an array (a one-element node's derivative with
    # respect to a bigger wrt), so the product is a number or that gradient.
    product = 1.0
    for f in factors:
        if isinstance(f, str):
            product = None
            break
        product *= f
    return Path(tuple(names[i] for i in reversed(chain)), tuple(factors), product)


def _count_paths(on_parents, start, end):
    """The exact number of paths (dynamic programming over the topological order)."""
    if start is None or end not in on_parents:
        return 0
    counts = {}
    for i in on_parents:  # filled in topological order
        counts[i] = 1 if i == start else sum(counts[j] for j in on_parents[i])
    return counts[end]


def _total(nodes, index, on_parents, derivative, start, wrt):
    """d root / d wrt: a backward pass over the nodes between wrt and the root.

    Where a node has one element its gradient is a number and its local
    derivatives are already known, so the pass is the notes' sum over paths
    computed by dynamic programming; bigger tensors use the op's vjp rule.
    """
    end = len(nodes) - 1
    zero = np.zeros_like(wrt._data) if is_tensor(wrt) else 0.0
    if start is None or end not in on_parents:
        return _scalar_if_one(zero, wrt)
    grads = {end: 1.0}
    for i in range(end, start, -1):
        g = grads.pop(i, None)
        if g is None:
            continue
        node = nodes[i]
        if size_of(node) == 1:
            g = float(np.asarray(g).item()) if is_tensor(node) else g
            parts = [(j, g * d) for j, d in derivative[i].items()]
        else:
            parts = [
                (index[id(p)], pg)
                for p, pg in zip(node._parents, node_vjp(node, g))
                if pg is not None and index[id(p)] in on_parents
            ]
        for j, pg in parts:
            grads[j] = grads[j] + pg if j in grads else pg
    return _scalar_if_one(grads.get(start, zero), wrt)


def _scalar_if_one(g, wrt):
    """A float when wrt has one element (Values, one-element tensors), else the array."""
    return float(np.asarray(g).item()) if size_of(wrt) == 1 else np.asarray(g)


def _table(rows):
    """The rows as aligned columns (long tables: the first and last rows)."""
    if not rows:
        return ["(root is a leaf: no elementary functions)", ""]
    half = _SHOW_ROWS // 2
    shown = rows if len(rows) <= _SHOW_ROWS else rows[:half] + [None] + rows[-half:]
    cells = [("name", "formula", "value", "local derivative")]
    for row in shown:
        if row is None:
            cells.append((f"... ({len(rows) - _SHOW_ROWS} more rows; all are in .rows)", "", "", ""))
            continue
        if row.local_derivative is None:
            local = "-"
        elif isinstance(row.local_derivative, dict):
            local = ", ".join(f"d{row.name}/d{k} = {_show(v)}" for k, v in row.local_derivative.items())
        else:
            local = f"d{row.name}/d{row.inputs[0]} = {_show(row.local_derivative)}"
        name = f"{row.name} ({row.label})" if row.label else row.name
        cells.append((name, row.formula, _show(row.value), local))
    widths = [max(len(c[k]) for c in cells if not c[0].startswith("... (")) for k in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cell, widths)).rstrip() for cell in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines + [""]
