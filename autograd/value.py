"""`Value`: one Python float per node, the fast path for scalar graphs.

No NumPy in the forward or backward pass: the rules in ops.py run on floats
through `FloatNS`, or on `Value`s through `ValueNS` when the backward pass is
itself recorded (create_graph=True).
"""

from collections.abc import Callable, Sequence
from numbers import Real
from operator import mul
from typing import Any

import numpy as np

from . import engine, ops
from .engine import Op
from .namespaces import FloatNS, NumpyNS, ValueNS
from .node import Node


def _real(where: str, x: Any) -> float:
    """A number as a float; an int beyond the float range is a ValueError naming `where`."""
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{where}: integer too large to convert to float") from None


_new = object.__new__


class WeightedSum(Op):
    """b + sum_i w_i x_i as ONE node, a neuron's weighted sum; params = n.

    Parents are w_1..w_n, x_1..x_n, b. Spelled with * and +, a neuron makes 2n
    nodes; one node with 2n + 1 parents does the same arithmetic with a
    fraction of the bookkeeping, which is what keeps scalar networks fast.
    """

    name = "w·x+b"
    forward = staticmethod(lambda ns, n, *v: sum(map(mul, v[:n], v[n : 2 * n]), v[2 * n]))
    vjp = staticmethod(lambda ns, n, g, out, *v: (*[g * x for x in v[n : 2 * n]], *[g * w for w in v[:n]], g))
    jvp = staticmethod(
        lambda ns, n, ts, out, *v: sum(ts[i] * v[n + i] + v[i] * ts[n + i] for i in range(n)) + ts[2 * n]
    )


class Value(Node):
    """A scalar node: `Value(2.0, label="a")`. `.data` and `.grad` are floats."""

    __slots__ = ()
    raw_ns = FloatNS
    graph_ns = ValueNS
    keeps_all_grads = True  # micrograd semantics: every node's .grad is filled
    zero_grad_value = 0.0

    def __init__(self, data: Any, label: str = "") -> None:
        if isinstance(data, Value):
            data = data._data
        try:
            if isinstance(data, (str, bytes)):  # float("3.5") parses text; a Value holds numbers
                raise TypeError
            data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__} {data!r}") from None
        except OverflowError:
            raise ValueError("Value: integer too large to convert to float") from None
        self._init_leaf(data, True, label)

    @property
    def data(self) -> float:
        return self._data  # type: ignore[no-any-return]  # Node._data is Any: floats here

    @data.setter
    def data(self, new: float) -> None:
        self._data = float(new)

    # Family hooks used by the engine -------------------------------------
    @staticmethod
    def _wrap(
        x: float,
        op: type[Op] | None = None,
        params: Any = None,
        parents: tuple[Node, ...] = (),
        stamp: int | None = 0,
        scope: tuple[str, ...] = (),
    ) -> "Value":
        """A node around float `x`: a constant leaf, or the output of `op` when op is given."""
        v = _new(Value)
        v._set(x, op is not None, op, params, parents, stamp, scope)
        return v

    @staticmethod
    def fit_tangent(t: Any, out: Any) -> Any:
        return t

    @staticmethod
    def ieee_vjp(op: type[Op], node: Node, g: float) -> tuple[float | None, ...]:
        """Redo a backward rule that Python refused (x / 0) in IEEE arithmetic."""
        with np.errstate(all="ignore"):
            pgs = op.vjp(
                NumpyNS,
                node._params,
                np.float64(g),
                np.float64(node._data),
                *[np.float64(p._data) for p in node._parents],
            )
        return tuple(None if pg is None else float(pg) for pg in pgs)

    @staticmethod
    def ieee_jvp(op: type[Op], params: Any, ts: Any, out: Node, parents: Sequence[Node]) -> float:
        """Redo a tangent rule that Python refused (x / 0) in IEEE arithmetic."""
        with np.errstate(all="ignore"):
            t = op.jvp(
                NumpyNS,
                params,
                tuple(np.float64(t) for t in ts),
                np.float64(out._data),
                *[np.float64(p._data) for p in parents],
            )
        return float(t)

    @staticmethod
    def seed(node: Node, grad: Any, create_graph: bool) -> Any:
        g = 1.0 if grad is None else _seed_number(grad._data if isinstance(grad, Value) else grad)
        return Value(g) if create_graph else g

    # Operators: the rest come from Node's method table, through _operator ----------
    def _const(self, other: Any, where: str) -> "Value | None":
        if isinstance(other, Value):
            return other
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Value._wrap(_real(where, other))  # a constant: no gradient is computed for it
        return None

    @staticmethod
    def _operator(op: type[Op], reflected: bool) -> Callable[..., Any]:
        """`a op b` with a Value: numbers become constants (x / 0 is IEEE's inf or nan: Div's
        forward divides with FloatNS.divide)."""

        apply = engine.apply

        def operator(self, other):
            if type(other) is not Value:
                other = self._const(other, op.name)
                if other is None:
                    return NotImplemented
            return apply(op, None, other, self) if reflected else apply(op, None, self, other)

        return operator

    def __pow__(self, other: Any) -> "Value":  # type: ignore[override]
        if isinstance(other, Value):
            return engine.apply(ops.Pow, None, self, other)
        if not isinstance(other, (int, float)) or isinstance(other, bool):
            return NotImplemented
        _real("**", other)  # an int beyond the float range fails here, not in the backward pass
        return engine.apply(ops.PowConst, other, self)

    @staticmethod
    def weighted_sum(weights: Sequence[Any], inputs: Sequence[Any], bias: Any = 0.0) -> "Value":
        """sum_i weights[i] * inputs[i] + bias as one node (numbers become constants)."""
        if len(weights) != len(inputs):
            raise ValueError(f"weighted_sum: {len(weights)} weights but {len(inputs)} inputs")
        parents = [v if type(v) is Value else _constant(v) for v in (*weights, *inputs, bias)]
        return engine.apply(WeightedSum, len(weights), *parents)

    # Conveniences --------------------------------------------------------
    def item(self) -> float:
        return self._data

    def __float__(self) -> float:
        return self._data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data:.6g}, grad={_fmt(self.grad)}{label})"


def _seed_number(grad: Any) -> float:
    """backward's grad as a float; text (float("2") would parse it) and non-numbers are a TypeError."""
    if not isinstance(grad, (str, bytes)):
        try:
            return float(grad)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"backward: grad must be a real number, got {type(grad).__name__} {grad!r}")


def _constant(x: Any) -> Value:
    """A number as a constant leaf (no gradient); a Value passes through."""
    if isinstance(x, Value):
        return x
    # Real: NumPy's integer and floating scalars too (np.int64, np.float32), as Value() takes them
    if (isinstance(x, (int, float)) or isinstance(x, Real)) and not isinstance(x, bool):
        return Value._wrap(_real("weighted_sum", x))
    raise TypeError(f"Value: expected a Value or a real number, got {type(x).__name__}")


def _fmt(g: Any) -> str:
    return f"{g:.6g}" if isinstance(g, float) else repr(g)


Value._family = Value
