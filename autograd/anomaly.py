"""`detect_anomaly()`: find the op where a NaN or an infinity first appears.

Inside the block the engine calls `check_forward` after every op's forward
and `check_backward` after every op's vjp. The first op that produces a
non-finite value raises `FloatingPointError` naming the op, the phase
(forward or backward) and its input shapes. Outside the block nothing is
checked and nothing is paid beyond the engine's one flag test.

An op is blamed only for the NaN/inf it creates: when its inputs (the data
of its parents) already hold NaN or inf, those came from outside the graph,
from user data or a constant, and the op passes them on silently. Within a
block nothing else can bring them in, since the op that made them would
have raised first. In the backward pass the incoming gradient is not seen by
the check, so a NaN seed passed to `backward(grad=...)` is blamed on the
last op of the graph.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .mode import MODE, SwitchBlock, switched


def detect_anomaly() -> SwitchBlock:
    """Check every forward output and backward gradient inside the block for NaN and inf."""
    return switched("anomaly", True)


def _first_bad(x: Any) -> str | None:
    """None if x is all finite, else a description of its first non-finite entry."""
    data = getattr(x, "_data", x)  # a node's data, or a raw gradient
    if isinstance(data, float):
        return None if math.isfinite(data) else f"{data}"
    data = np.asarray(data)
    bad = ~np.isfinite(data)
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{data[index]} at index {index}" if index else f"{data[()]}"


def _inputs(parents: Sequence[Any]) -> str:
    """'inputs of shapes (2, 3), (3,)', or 'scalar inputs' for Values."""
    shapes = [p._data.shape for p in parents if hasattr(p._data, "shape")]
    return f"inputs of shapes {', '.join(map(str, shapes))}" if shapes else "scalar inputs"


def _where(node: Any) -> str:
    return f" in scope '{'/'.join(node._scope)}'" if node._scope else ""


def _inputs_finite(parents: Sequence[Any]) -> bool:
    return all(_first_bad(p) is None for p in parents)


def check_forward(op: Any, out: Any, parents: Sequence[Any]) -> None:
    """Raise if op turned finite inputs into a non-finite output."""
    bad = _first_bad(out)
    if bad is not None and _inputs_finite(parents):
        outer = MODE.backward_op
        during = (
            "" if outer is None else (f", while the backward pass of op '{outer.name}' was recorded (create_graph)")
        )
        raise FloatingPointError(
            f"detect_anomaly: op '{op.name}' produced {bad} in the forward pass from finite "
            f"{_inputs(parents)}{_where(out)}{during}"
        )


def check_backward(op: Any, grads: Iterable[Any], node: Any, parents: Sequence[Any]) -> None:
    """Raise if op's vjp gave a non-finite gradient for one of its finite inputs."""
    for k, g in enumerate(grads):
        bad = None if g is None else _first_bad(g)
        if bad is not None and _inputs_finite(parents):
            raise FloatingPointError(
                f"detect_anomaly: op '{op.name}' produced {bad} in the backward pass, in the "
                f"gradient for its input {k} (its {_inputs(parents)}){_where(node)}"
            )
