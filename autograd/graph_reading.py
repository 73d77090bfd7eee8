"""Reading a recorded graph: its nodes in order, what each holds, and the local derivatives of its ops.

Shared by draw.py, explain.py and walkthrough.py, which show a graph in
different forms; nothing here changes the graph.
"""

from functools import cache
from typing import Any

import numpy as np

from . import engine
from .node import Node
from .saved import ReleasedData, released_error

SMALL_TENSOR = 6  # tensors with at most this many elements show their values


def check_root(where: str, root: object, what: str = "root") -> Node:
    """`root`, or a TypeError naming `where` unless it is a graph node."""
    if not isinstance(root, Node):
        raise TypeError(f"{where}: {what} must be a Value or a Tensor, got {type(root).__name__}")
    return root


def check_scalar_root(where: str, root: object) -> Node:
    """check_root, and a ValueError naming `where` unless root has one element (the f of df/dx)."""
    node = check_root(where, root)
    if size_of(node) != 1:
        raise ValueError(
            f"{where}: root must have one element (the f of df/dx); it has shape "
            f"{node._data.shape}. Reduce it first, e.g. root.sum()"
        )
    return node


def graph_nodes(root: Node) -> list[Node]:
    """Every node that `root` depends on, constants included, each after its parents."""
    return engine.toposort(root)


def is_tensor(node: Node) -> bool:
    return isinstance(node._data, (np.ndarray, ReleasedData))


def is_released(node: Node) -> bool:
    """True for a tensor whose array backward() gave back (only its shape and dtype remain)."""
    return type(node._data) is ReleasedData


def size_of(node: Node) -> int:
    return node._data.size if is_tensor(node) else 1


def leaf_kind(node: Node) -> str:
    """'parameter', 'input' or 'constant' (see the legend)."""
    if node.requires_grad:
        return "parameter"
    return "input" if node.label else "constant"


def format_number(x: float, digits: int = 4) -> str:
    """A number in `digits` significant digits, without a '-0'."""
    x = float(x)
    return "0" if x == 0 else f"{x:.{digits}g}"


def summarize(arr: np.ndarray, digits: int = 4) -> str:
    """Small arrays in full, bigger ones as min / mean / max."""
    arr = np.asarray(arr)
    if arr.size == 0:
        return "empty"
    if arr.size <= SMALL_TENSOR:
        number = lambda v: format_number(v, digits)  # noqa: E731
        return np.array2string(
            arr, separator=", ", formatter={"float_kind": number, "int_kind": number}, max_line_width=10_000
        ).replace("\n", "")  # one line
    if arr.dtype.kind not in "fiub":
        return f"{arr.size} elements"
    return (
        f"min {format_number(arr.min(), digits)} mean {format_number(arr.mean(), digits)} "
        f"max {format_number(arr.max(), digits)}"
    )


@cache
def _dtype_name(dtype):
    return str(dtype)  # str(dtype) is slow enough to matter on 100,000 edges


def shape_text(node: Node) -> str:
    """'(2, 3) float64' for a tensor node."""
    return f"{node._data.shape} {_dtype_name(node._data.dtype)}"


def value_text(node: Node, digits: int = 4) -> str:
    """A Value's number, or a tensor's values (small) or min / mean / max (big)."""
    if is_released(node):
        return "(released by backward)"
    return summarize(node._data, digits) if is_tensor(node) else format_number(node._data, digits)


def node_vjp(node: Node, g: Any) -> list[Any]:
    """The op's backward rule at `node`: the gradient for each parent slot (None: none).

    Each gradient is fitted to its parent's shape as the engine does, and
    division by zero gives IEEE inf/nan, as in backward().
    """
    family, parents = node._family, node._parents
    for n in (node,) + parents:
        if is_released(n):  # never a derivative computed from missing values
            raise released_error("draw_graph, explain", n)
    with np.errstate(all="ignore"):  # a picture should not warn about inf or nan
        pgs = engine.raw_vjp(node, g)
    if not is_tensor(node):
        return list(pgs)
    fit_grad = node.fit_grad  # a family that broadcasts (Tensor) has one
    assert fit_grad is not None
    return [None if pg is None else fit_grad(family.raw_ns, pg, p) for pg, p in zip(pgs, parents)]


def seed_of(node: Node) -> Any:
    """d node / d node: 1.0 for a Value, ones of the node's shape for a Tensor."""
    return np.ones_like(node._data) if is_tensor(node) else 1.0


def local_derivatives(node: Node) -> list[Any]:
    """d node / d parent for each parent slot of a one-element node (None: none).

    Computed from the op's vjp rule with seed 1; a float for each one-element
    parent, an array of the parent's shape otherwise.
    """
    return [
        pg if pg is None or not isinstance(pg, np.ndarray) or pg.size != 1 else pg.item()
        for pg in node_vjp(node, seed_of(node))
    ]
