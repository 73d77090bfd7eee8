"""Elementwise operations shared by `Value` and `Tensor`.

Each rule is written once with `ns.*` functions and Python operators, so it
runs on floats, ndarrays, `Value`s and `Tensor`s alike (see engine.py and
namespaces.py). `out` is the op's own result: rules reuse it where the
derivative is a function of the output (exp, tanh, sigmoid, sqrt). The
methods `x.exp()`, `a + b` ... come from the method table in node.py.
"""

from collections.abc import Callable
from typing import Any  # the values a rule sees: floats, ndarrays, Values or Tensors

from .engine import BinaryOp, Op


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class Elementwise(Op):
    """f applied to each element of one input: declared by its forward and its vjp alone.

    The Jacobian of such an op is diagonal, so the vjp, (g * f'(x),), also gives the jvp,
    t * f'(x): the same rule with the tangent in g's place.
    """

    exact_shapes = True  # g * f'(x) has x's shape

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        vjp = cls.vjp
        cls.jvp = staticmethod(lambda ns, p, ts, out, x: vjp(ns, p, ts[0], out, x)[0])

    @staticmethod
    def define(name: str, forward: Callable[..., Any], vjp: Callable[..., Any]) -> type["Elementwise"]:
        """The op `name` from its forward(ns, params, x) and vjp(ns, params, g, out, x) rules."""
        rules = {"name": name, "forward": staticmethod(forward), "vjp": staticmethod(vjp), "__module__": __name__}
        return type(_class_name(name), (Elementwise,), rules)


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
    forward = staticmethod(lambda ns, p, a, b: ns.divide(a, b))  # IEEE's inf/nan at b = 0, for floats too
    vjp_a = staticmethod(lambda ns, p, g, out, a, b: g / b)
    vjp_b = staticmethod(lambda ns, p, g, out, a, b: -g * a / (b * b))
    jvp = staticmethod(lambda ns, p, ts, out, a, b: (ts[0] - out * ts[1]) / b)


class Neg(Elementwise):
    name = "neg"
    forward = staticmethod(lambda ns, p, x: -x)
    vjp = staticmethod(lambda ns, p, g, out, x: (-g,))


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


class PowConst(Elementwise):
    """x ** c for a constant exponent c (kept in params, never differentiated)."""

    name = "**"
    exact_shapes = False  # an array exponent may broadcast x
    forward = staticmethod(lambda ns, c, x: ns.power(x, c))
    vjp = staticmethod(lambda ns, c, g, out, x: (g * _slope(ns, c, x),))


class Pow(BinaryOp):
    """a ** b where the exponent is itself differentiable: d/db = a**b log a."""

    name = "**"
    forward = staticmethod(lambda ns, p, a, b: ns.power(a, b))
    vjp_a = staticmethod(lambda ns, p, g, out, a, b: g * _slope(ns, b, a))
    vjp_b = staticmethod(lambda ns, p, g, out, a, b: g * out * _log_base(ns, a, b))
    jvp = staticmethod(lambda ns, p, ts, out, a, b: ts[0] * _slope(ns, b, a) + ts[1] * out * _log_base(ns, a, b))


# The elementwise functions: name, forward(ns, params, x) and vjp(ns, params, g, out, x), whose
# g * f'(x) uses out = f(x) where that is cheaper (see Elementwise). relu'(0) = abs'(0) = 0.
Exp = Elementwise.define("exp", lambda ns, p, x: ns.exp(x), lambda ns, p, g, out, x: (g * out,))
Log = Elementwise.define("log", lambda ns, p, x: ns.log(x), lambda ns, p, g, out, x: (g / x,))
Log1p = Elementwise.define("log1p", lambda ns, p, x: ns.log1p(x), lambda ns, p, g, out, x: (g / (1 + x),))
Sqrt = Elementwise.define("sqrt", lambda ns, p, x: ns.sqrt(x), lambda ns, p, g, out, x: (g / (2 * out),))
Sin = Elementwise.define("sin", lambda ns, p, x: ns.sin(x), lambda ns, p, g, out, x: (g * ns.cos(x),))
Cos = Elementwise.define("cos", lambda ns, p, x: ns.cos(x), lambda ns, p, g, out, x: (-g * ns.sin(x),))
Tanh = Elementwise.define("tanh", lambda ns, p, x: ns.tanh(x), lambda ns, p, g, out, x: (g * (1 - out * out),))
Sigmoid = Elementwise.define("sigmoid", lambda ns, p, x: ns.sigmoid(x), lambda ns, p, g, out, x: (g * out * (1 - out),))
Relu = Elementwise.define("relu", lambda ns, p, x: ns.relu(x), lambda ns, p, g, out, x: (g * ns.positive(x),))
Abs = Elementwise.define("abs", lambda ns, p, x: ns.abs(x), lambda ns, p, g, out, x: (g * ns.sign(x),))
