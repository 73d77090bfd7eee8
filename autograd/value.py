"""`Value`: one Python float per node, the fast path for scalar graphs.

No NumPy in the forward or backward pass: the rules in ops.py run on floats
through `FloatNS`, or on `Value`s through `ValueNS` when the backward pass is
itself recorded (create_graph=True).
"""

import math
from numbers import Real
from operator import mul

from . import engine, ops
from .engine import Op
from .node import Node


def _safe(fn, nan_domain=True):
    """Wrap a math function so it returns IEEE inf/nan instead of raising, like NumPy."""

    def wrapped(x):
        try:
            return fn(x)
        except OverflowError:
            return math.inf
        except ValueError:
            if not nan_domain:
                raise
            return math.nan

    wrapped.__name__ = fn.__name__
    return wrapped


def _log(x):
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _power(a, b):
    try:
        r = a**b
    except (ZeroDivisionError, OverflowError):  # 0.0 ** -1, 10.0 ** 400: IEEE gives +-inf
        b = float(b)  # what Python computed with
        if a < 0 and not b.is_integer():
            return math.nan  # (-1e308) ** 2.5
        return math.copysign(math.inf, a) if b % 2 == 1 else math.inf
    return math.nan if isinstance(r, complex) else r


def _real(where, x):
    """A number as a float; an int beyond the float range is a ValueError naming `where`."""
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{where}: integer too large to convert to float") from None


def _ieee_div(a, b):
    """a / b with IEEE semantics for b == 0 (Python raises instead)."""
    if a == 0 or a != a:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


_new = object.__new__


class FloatNS:
    """Elementary functions on Python floats."""

    exp = staticmethod(_safe(math.exp))
    log = staticmethod(_log)
    sqrt = staticmethod(_safe(math.sqrt))
    sin = staticmethod(_safe(math.sin))
    cos = staticmethod(_safe(math.cos))
    tanh = staticmethod(math.tanh)
    sigmoid = staticmethod(_sigmoid)
    relu = staticmethod(lambda x: x if x > 0 or x != x else 0.0)  # relu(nan) is nan, as in NumPy
    positive = staticmethod(lambda x: 1.0 if x > 0 else 0.0)
    abs = staticmethod(abs)
    sign = staticmethod(lambda x: (x > 0) - (x < 0) if x == x else x)  # sign(nan) is nan
    power = staticmethod(_power)
    zeros_like = staticmethod(lambda x: 0.0)
    raw = staticmethod(lambda x: x)


class ValueNS:
    """The same functions on `Value`s, so a backward pass can be recorded."""

    exp = staticmethod(lambda x: x.exp())
    log = staticmethod(lambda x: x.log())
    sqrt = staticmethod(lambda x: x.sqrt())
    sin = staticmethod(lambda x: x.sin())
    cos = staticmethod(lambda x: x.cos())
    tanh = staticmethod(lambda x: x.tanh())
    sigmoid = staticmethod(lambda x: x.sigmoid())
    relu = staticmethod(lambda x: x.relu())
    positive = staticmethod(lambda x: 1.0 if x._data > 0 else 0.0)  # constant: no gradient
    abs = staticmethod(lambda x: x.abs())
    sign = staticmethod(lambda x: FloatNS.sign(x._data))
    power = staticmethod(lambda a, b: a**b)
    zeros_like = staticmethod(lambda x: 0.0)
    raw = staticmethod(lambda x: x._data if isinstance(x, Value) else x)


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

    def __init__(self, data, label=""):
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
    def data(self):
        return self._data

    @data.setter
    def data(self, new):
        self._data = float(new)

    # Family hooks used by the engine -------------------------------------
    @staticmethod
    def _wrap(x, op=None, params=None, parents=(), stamp=0, scope=()):
        """A node around float `x`: a constant leaf, or the output of `op` when op is given."""
        v = _new(Value)
        v._set(x, op is not None, op, params, parents, stamp, scope)
        return v

    @staticmethod
    def fit_tangent(t, out):
        return t

    @staticmethod
    def ieee_vjp(op, node, g):
        """Redo a backward rule that Python refused (x / 0) in IEEE arithmetic."""
        import numpy as np

        from .tensor_ops import NumpyNS

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
    def ieee_jvp(op, params, ts, out, parents):
        """Redo a tangent rule that Python refused (x / 0) in IEEE arithmetic."""
        import numpy as np

        from .tensor_ops import NumpyNS

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
    def seed(node, grad, create_graph):
        g = 1.0 if grad is None else _seed_number(grad._data if isinstance(grad, Value) else grad)
        return Value(g) if create_graph else g

    # Operators -----------------------------------------------------------
    def _binary(self, op, other, reflected=False):
        if type(other) is not Value:
            if isinstance(other, Value):
                pass
            elif isinstance(other, (int, float)) and not isinstance(other, bool):
                other = Value._wrap(_real(op.name, other))  # a constant: no gradient is computed for it
            else:
                return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        try:
            return engine.apply(op, None, a, b)
        except ZeroDivisionError:
            return Value._constant_result(op, _ieee_div(a._data, b._data), a, b)

    @staticmethod
    def _constant_result(op, data, *parents):
        """Record a result whose forward Python refused (e.g. x / 0) with IEEE value `data`."""
        mode = engine.PER_THREAD.mode
        if not mode.grad_enabled:
            out = Value._wrap(data)
        else:
            out = Value._wrap(data, op, None, parents, engine.DATA_WRITES[0], mode.scope)
        if mode.hooked:
            engine._forward_hooks(mode, op, None, out, parents)  # as engine.apply does
        return out

    def __add__(self, other):
        return self._binary(ops.Add, other)

    def __radd__(self, other):
        return self._binary(ops.Add, other, reflected=True)

    def __sub__(self, other):
        return self._binary(ops.Sub, other)

    def __rsub__(self, other):
        return self._binary(ops.Sub, other, reflected=True)

    def __mul__(self, other):
        return self._binary(ops.Mul, other)

    def __rmul__(self, other):
        return self._binary(ops.Mul, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(ops.Div, other)

    def __rtruediv__(self, other):
        return self._binary(ops.Div, other, reflected=True)

    def __pow__(self, other):
        if isinstance(other, Value):
            return engine.apply(ops.Pow, None, self, other)
        if not isinstance(other, (int, float)) or isinstance(other, bool):
            return NotImplemented
        _real("**", other)  # an int beyond the float range fails here, not in the backward pass
        return engine.apply(ops.PowConst, other, self)

    def __rpow__(self, other):
        return self._binary(ops.Pow, other, reflected=True)

    def __neg__(self):
        return engine.apply(ops.Neg, None, self)

    def __pos__(self):
        return self

    # Elementwise functions ---------------------------------------------
    def exp(self):
        return engine.apply(ops.Exp, None, self)

    def log(self):
        return engine.apply(ops.Log, None, self)

    def sqrt(self):
        return engine.apply(ops.Sqrt, None, self)

    def sin(self):
        return engine.apply(ops.Sin, None, self)

    def cos(self):
        return engine.apply(ops.Cos, None, self)

    def tanh(self):
        return engine.apply(ops.Tanh, None, self)

    def sigmoid(self):
        return engine.apply(ops.Sigmoid, None, self)

    def relu(self):
        return engine.apply(ops.Relu, None, self)

    def abs(self):
        return engine.apply(ops.Abs, None, self)

    __abs__ = abs

    @staticmethod
    def weighted_sum(weights, inputs, bias=0.0):
        """sum_i weights[i] * inputs[i] + bias as one node (numbers become constants)."""
        if len(weights) != len(inputs):
            raise ValueError(f"weighted_sum: {len(weights)} weights but {len(inputs)} inputs")
        parents = [v if type(v) is Value else _constant(v) for v in (*weights, *inputs, bias)]
        return engine.apply(WeightedSum, len(weights), *parents)

    # Conveniences --------------------------------------------------------
    def item(self):
        return self._data

    def __float__(self):
        return self._data

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data:.6g}, grad={_fmt(self.grad)}{label})"


def _seed_number(grad):
    """backward's grad as a float; text (float("2") would parse it) and non-numbers are a TypeError."""
    if not isinstance(grad, (str, bytes)):
        try:
            return float(grad)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"backward: grad must be a real number, got {type(grad).__name__} {grad!r}")


def _constant(x):
    """A number as a constant leaf (no gradient); a Value passes through."""
    if isinstance(x, Value):
        return x
    # Real: NumPy's integer and floating scalars too (np.int64, np.float32), as Value() takes them
    if (isinstance(x, (int, float)) or isinstance(x, Real)) and not isinstance(x, bool):
        return Value._wrap(_real("weighted_sum", x))
    raise TypeError(f"Value: expected a Value or a real number, got {type(x).__name__}")


def _fmt(g):
    return f"{g:.6g}" if isinstance(g, float) else repr(g)


Value._family = Value
