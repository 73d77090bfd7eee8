"""Elementwise operations shared by `Value` and `Tensor`.

Each rule is written once with `ns.*` functions and Python operators, so it
runs on floats, ndarrays, `Value`s and `Tensor`s alike (see engine.py).
`out` is the op's own result: rules reuse it where the derivative is a
function of the output (exp, tanh, sigmoid, sqrt).
"""
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


class PowConst(Op):
    """x ** c for a constant exponent c (kept in params, never differentiated)."""

    name = "**"
    forward = staticmethod(lambda ns, c, x: ns.power(x, c))
    vjp = staticmethod(lambda ns, c, g, out, x: (g * c * ns.power(x, c - 1),))
    jvp = staticmethod(lambda ns, c, ts, out, x: ts[0] * c * ns.power(x, c - 1))


class Pow(BinaryOp):
    """a ** b where the exponent is itself differentiable: d/db = a**b log a."""

    name = "**"
    forward = staticmethod(lambda ns, p, a, b: ns.power(a, b))
    vjp_a = staticmethod(lambda ns, p, g, out, a, b: g * b * ns.power(a, b - 1))
    vjp_b = staticmethod(lambda ns, p, g, out, a, b: g * out * ns.log(a))
    jvp = staticmethod(lambda ns, p, ts, out, a, b: (
        ts[0] * b * ns.power(a, b - 1) + ts[1] * out * ns.log(a)))


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
