"""Elementwise operations shared by `Value` and `Tensor`.

Each rule is written once with `ns.*` functions and Python operators, so it
runs on floats, ndarrays, `Value`s and `Tensor`s alike (see engine.py).
`out` is the op's own result: rules reuse it where the derivative is a
function of the output (exp, tanh, sigmoid, sqrt).
"""

from typing import Any  # the values a rule sees: floats, ndarrays, Values or Tensors

from .engine import BinaryOp, Op


class Add(Op):
    name = "+"
    forward = staticmethod(lambda ns, p, a, b: a + b)
    vjp = staticmethod(lambda ns, p, g, out, a, b: (g, g))
    jvp = staticmethod(lambda ns, p, ts, out, a, b: ts[0] + ts[1])


class Sub(Op):
    name = "-"
    forward = staticmethod(lambda ns, p, a, b: a - b)
    vjp = staticmethod(lambda ns, p, g, out, a, b: (g, -g))
    jvp = staticmethod(lambda ns, p, ts, out, a, b: ts[0] - ts[1])


class Mul(BinaryOp):
    name = "*"
    forward = staticmethod(lambda ns, p, a, b: a * b)
    vjp_a = staticmethod(lambda ns, p, g, out, a, b: g * b)
    vjp_b = staticmethod(lambda ns, p, g, out, a, b: g * a)
    jvp = staticmethod(lambda ns, p, ts, out, a, b: ts[0] * b + a * ts[1])


class Div(BinaryOp):
    name = "/"
    forward = staticmethod(lambda ns, p, a, b: a / b)
    vjp_a = staticmethod(lambda ns, p, g, out, a, b: g / b)
    vjp_b = staticmethod(lambda ns, p, g, out, a, b: -g * a / (b * b))
    jvp = staticmethod(lambda ns, p, ts, out, a, b: (ts[0] - out * ts[1]) / b)


class Neg(Op):
    name = "neg"
    forward = staticmethod(lambda ns, p, x: -x)
    vjp = staticmethod(lambda ns, p, g, out, x: (-g,))
    jvp = staticmethod(lambda ns, p, ts, out, x: -ts[0])


def _plus_one_where(x: Any, singular: Any) -> Any:
    """x + 1 where `singular` (a bool, or a bool array of x's broadcast shape) holds, else x."""
    if getattr(singular, "ndim", 0) == 0:
        return x + 1 if singular else x
    return x + singular if singular.any() else x


def _slope(ns: Any, c: Any, x: Any) -> Any:
    """c x**(c - 1), the slope of x**c, with 0 where c = 0 and x = 0.

    There x**0 is constant, but x**(c - 1) is 0**-1 = inf and 0 * inf = nan; the exponent c,
    not c - 1, gives c x**0 = 0. The higher derivatives are again such slopes (the second of
    x**2 is 2 * (1 x**0)), so every order is exact at 0, as in PyTorch (which masks it to 0).
    """
    singular = (ns.raw(c) == 0) & (ns.raw(x) == 0)
    return c * ns.power(x, _plus_one_where(c - 1, singular))


def _log_base(ns: Any, a: Any, b: Any) -> Any:
    """log a for d(a**b)/db = a**b log a, with log 1 = 0 where a = 0 and b >= 0: there a**b is
    0 (or 1) for every nearby b >= 0, and PyTorch's derivative is 0, not 0 * -inf = nan."""
    return ns.log(_plus_one_where(a, (ns.raw(a) == 0) & (ns.raw(b) >= 0)))


class PowConst(Op):
    """x ** c for a constant exponent c (kept in params, never differentiated)."""

    name = "**"
    forward = staticmethod(lambda ns, c, x: ns.power(x, c))
    vjp = staticmethod(lambda ns, c, g, out, x: (g * _slope(ns, c, x),))
    jvp = staticmethod(lambda ns, c, ts, out, x: ts[0] * _slope(ns, c, x))


class Pow(BinaryOp):
    """a ** b where the exponent is itself differentiable: d/db = a**b log a."""

    name = "**"
    forward = staticmethod(lambda ns, p, a, b: ns.power(a, b))
    vjp_a = staticmethod(lambda ns, p, g, out, a, b: g * _slope(ns, b, a))
    vjp_b = staticmethod(lambda ns, p, g, out, a, b: g * out * _log_base(ns, a, b))
    jvp = staticmethod(lambda ns, p, ts, out, a, b: ts[0] * _slope(ns, b, a) + ts[1] * out * _log_base(ns, a, b))


class Exp(Op):
    name = "exp"
    forward = staticmethod(lambda ns, p, x: ns.exp(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * out,))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * out)


class Log(Op):
    name = "log"
    forward = staticmethod(lambda ns, p, x: ns.log(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g / x,))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] / x)


class Sqrt(Op):
    name = "sqrt"
    forward = staticmethod(lambda ns, p, x: ns.sqrt(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g / (2 * out),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] / (2 * out))


class Sin(Op):
    name = "sin"
    forward = staticmethod(lambda ns, p, x: ns.sin(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * ns.cos(x),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * ns.cos(x))


class Cos(Op):
    name = "cos"
    forward = staticmethod(lambda ns, p, x: ns.cos(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (-g * ns.sin(x),))
    jvp = staticmethod(lambda ns, p, ts, out, x: -ts[0] * ns.sin(x))


class Tanh(Op):
    name = "tanh"
    forward = staticmethod(lambda ns, p, x: ns.tanh(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * (1 - out * out),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * (1 - out * out))


class Sigmoid(Op):
    name = "sigmoid"
    forward = staticmethod(lambda ns, p, x: ns.sigmoid(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * out * (1 - out),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * out * (1 - out))


class Relu(Op):
    """max(0, x); relu'(0) = 0 (the kink gets the left derivative, as in PyTorch)."""

    name = "relu"
    forward = staticmethod(lambda ns, p, x: ns.relu(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * ns.positive(x),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * ns.positive(x))


class Abs(Op):
    """|x|; abs'(0) = 0."""

    name = "abs"
    forward = staticmethod(lambda ns, p, x: ns.abs(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * ns.sign(x),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * ns.sign(x))
