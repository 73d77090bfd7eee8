"""Symbolic differentiation, the course's second way: rewrite rules on expression trees.

`expression(root)` reads the formula of a `Value` graph as an `Expression` tree. Leaves are the
graph's labelled `Value`s (variables) and its numbers (constants). A subgraph used twice becomes
two copies of the same subtree: a formula has no names for intermediate results, and that is
where expression swell comes from. (In memory the copies are one shared object; `.size` counts
them as the tree they stand for.)

`symbolic_derivative(root, wrt)` differentiates that tree by one rewrite rule per operation
(d(u v) = du v + u dv, d exp(u) = exp(u) du, ...), applied to every occurrence of every subtree,
as a rewrite system without common-subexpression detection does: its work grows with the tree,
not with the graph. `simplify=True` then applies the obvious algebra: 0 and 1 identities
(u + 0 = u, u * 1 = u, u * 0 = 0, u ** 1 = u, --u = u, u + -v = u - v) and constant folding. Simplifying,
evaluating and printing handle each distinct subtree object once (the result is the same).

Conventions: the derivative of relu is step(u) (step(0) = 0) and that of abs is sign(u)
(sign(0) = 0), as in the engine; step and sign have derivative 0. `u * 0 = 0` holds in the
simplified form even where u is infinite or NaN, as in every computer algebra system.

SymPy is optional (`pip install "chainrule[symbolic]"`): `.to_sympy()` uses it to render and
cross-check; no derivative here is computed by it. Everything is iterative (no recursion).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

import numpy as np

from . import engine, ops
from .namespaces import FloatNS, _log1p, _power
from .node import shared_elementwise
from .value import Value, WeightedSum, _real

__all__ = ["Expression", "expression", "symbolic_derivative"]

SYMPY_MISSING = (
    "Expression.to_sympy: SymPy is not installed; install it with "
    '`pip install "chainrule[symbolic]"` (or `pip install sympy`)'
)


def _operator_pair(
    op: str,
) -> tuple[Callable[[Expression, object], Expression], Callable[[Expression, object], Expression]]:
    """The methods `self op other` and `other op self` (the reflected one), building unsimplified trees."""

    def forward(self: Expression, other: object) -> Expression:
        return Expression(op, (self, _lift(other)))

    def reflected(self: Expression, other: object) -> Expression:
        return Expression(op, (_lift(other), self))

    return forward, reflected


class Expression:
    """A node of an expression tree: a constant, a variable, or an operation on sub-expressions.

    `op` is "const", "var", one of + - * / ** or "neg", or a function name (exp, log, log1p, sqrt, sin,
    cos, tanh, sigmoid, relu, abs, step, sign); `args` are the operands, `value` a constant's
    float, `name` a variable's label. Arithmetic operators build new (unsimplified) trees.
    """

    __slots__ = ("op", "args", "value", "name", "_size")

    def __init__(self, op: str, args: tuple = (), value: float | None = None, name: str | None = None):
        self.op, self.args, self.value, self.name = op, args, value, name
        self._size = None

    # Building --------------------------------------------------------------
    @staticmethod
    def constant(x: float) -> Expression:
        return Expression("const", value=float(x))

    @staticmethod
    def variable(name: str) -> Expression:
        return Expression("var", name=name)

    # a + b, b + a, ...: each operator and its reflected form (2 * u) build one node
    __add__, __radd__ = _operator_pair("+")
    __sub__, __rsub__ = _operator_pair("-")
    __mul__, __rmul__ = _operator_pair("*")
    __truediv__, __rtruediv__ = _operator_pair("/")
    __pow__ = _operator_pair("**")[0]

    def __neg__(self):
        return Expression("neg", (self,))

    # Reading ---------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of nodes of the tree, leaves included, every copy of a repeated subtree counted."""
        if self._size is None:

            def count(node, sizes):
                node._size = 1 + sum(sizes)
                return node._size

            return _fold(self, count, memo={})
        return self._size

    @property
    def variables(self) -> list[str]:
        """The variables' names, sorted."""
        names = set()
        _fold(self, lambda node, _: names.add(node.name) if node.op == "var" else None, memo={})
        return sorted(names)

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The tree's value with variables from `values` (label -> number), in the engine's float arithmetic."""
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise ValueError(f"Expression.evaluate: no value for the variable(s) {missing}; given {sorted(values)}")
        env = {}
        for name in self.variables:
            value = values[name]
            if isinstance(value, (str, bytes, bool)) or not isinstance(value, (int, float, np.number)):
                raise TypeError(
                    f"Expression.evaluate: the value of {name!r} must be a real number, "
                    f"got {type(value).__name__} {value!r}"
                )
            env[name] = _real("Expression.evaluate", value)

        def value_of(node, args):
            if node.op == "const":
                return node.value
            if node.op == "var":
                return env[node.name]
            return OPERATIONS[node.op].compute(*args)

        return _fold(self, value_of, memo={})

    def derivative(self, wrt: str, simplify: bool = False) -> Expression:
        """d self / d (the variable named `wrt`), by the rewrite rules; see the module docstring."""

        def rule(node, parts):
            if node.op == "const":
                return ZERO, False
            if node.op == "var":
                return (ONE, True) if node.name == wrt else (ZERO, False)
            dargs, depends = zip(*parts)
            return OPERATIONS[node.op].derivative(node.args, dargs, depends), any(depends)

        d = _fold(self, rule)[0]
        return d.simplify() if simplify else d

    def simplify(self) -> Expression:
        """0 and 1 identities and constant folding, bottom-up."""

        def simplest(node, args):
            return node if not args else _simplest(node.op, tuple(args))

        return _fold(self, simplest, memo={})

    def __str__(self) -> str:
        return _render(self, _TEXT)

    def latex(self) -> str:
        return _render(self, _LATEX)

    def __repr__(self) -> str:
        text = str(self) if self.size <= 200 else f"<{self.size} nodes>"
        return f"Expression({text})"

    def to_sympy(self):
        """The same formula as a SymPy expression (variables are real Symbols)."""
        try:
            import sympy
        except ImportError:
            raise ImportError(SYMPY_MISSING) from None
        symbols = {}

        def convert(node, args):
            if node.op == "const":
                v = node.value
                return sympy.Integer(int(v)) if v.is_integer() else sympy.Float(v)
            if node.op == "var":
                return symbols.setdefault(node.name, sympy.Symbol(node.name, real=True))
            return OPERATIONS[node.op].sympy(sympy, *args)

        return _fold(self, convert, memo={})


def _lift(x) -> Expression:
    if isinstance(x, Expression):
        return x
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return Expression.constant(x)
    raise TypeError(f"Expression: cannot combine with {type(x).__name__} {x!r}")


ZERO, ONE = Expression.constant(0.0), Expression.constant(1.0)


def _fold(root: Expression, combine: Callable, memo: dict | None = None):
    """combine(node, [results of its args]) bottom-up over every occurrence of every node.

    With `memo` (a dict) each distinct node object is combined once. Every result here depends
    on the subtree alone, so the memo changes the work, never the result; differentiation runs
    without it, visiting each copy of a repeated subtree as a tree-rewriting system does.
    """
    results, stack = [], [(root, False)]
    while stack:
        node, ready = stack.pop()
        if memo is not None and id(node) in memo:
            results.append(memo[id(node)])
            continue
        if node.args and not ready:
            stack.append((node, True))
            stack.extend((arg, False) for arg in reversed(node.args))
            continue
        k = len(node.args)
        args = results[len(results) - k :]
        del results[len(results) - k :]
        out = combine(node, args)
        if memo is not None:
            memo[id(node)] = out
        results.append(out)
    return results[0]


# One entry per operation: how to compute it, differentiate it, write it and give it to SymPy ----


class Operation:
    def __init__(self, compute, derivative, text, latex, sympy):
        self.compute, self.derivative, self.text, self.latex, self.sympy = compute, derivative, text, latex, sympy


def _call(name: str) -> Callable:
    return lambda u: Expression(name, (u,))


exp, log, log1p, sqrt, sin, cos, tanh, sigmoid, step, sign = map(
    _call, ("exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "step", "sign")
)


def _d_power(args, dargs, depends):
    """d u**v: the power rule when v is free of wrt, the exponential rule when u is, else both."""
    (u, v), (du, dv) = args, dargs
    power_rule = v * u ** (v - 1) * du
    exponential_rule = u**v * log(u) * dv
    if not depends[1]:
        return power_rule
    if not depends[0]:
        return exponential_rule
    return power_rule + exponential_rule


def _function(name, fn, derivative, latex, sympy):
    return Operation(fn, derivative, name + "({})", latex, sympy)


OPERATIONS: dict[str, Operation] = {
    "+": Operation(lambda a, b: a + b, lambda x, d, dep: d[0] + d[1], "{} + {}", "{} + {}", lambda sp, a, b: a + b),
    "-": Operation(lambda a, b: a - b, lambda x, d, dep: d[0] - d[1], "{} - {}", "{} - {}", lambda sp, a, b: a - b),
    "*": Operation(
        lambda a, b: a * b,
        lambda x, d, dep: d[0] * x[1] + x[0] * d[1],
        "{} * {}",
        r"{} \cdot {}",
        lambda sp, a, b: a * b,
    ),
    "/": Operation(
        FloatNS.divide,
        lambda x, d, dep: (d[0] * x[1] - x[0] * d[1]) / x[1] ** 2,
        "{} / {}",
        r"\frac{{{}}}{{{}}}",
        lambda sp, a, b: a / b,
    ),
    "**": Operation(_power, _d_power, "{} ** {}", "{}^{{{}}}", lambda sp, a, b: a**b),
    "neg": Operation(lambda a: -a, lambda x, d, dep: -d[0], "-{}", "-{}", lambda sp, a: -a),
    "exp": _function(
        "exp", FloatNS.exp, lambda x, d, dep: exp(x[0]) * d[0], r"\exp\left({}\right)", lambda sp, a: sp.exp(a)
    ),
    "log": _function(
        "log", FloatNS.log, lambda x, d, dep: d[0] / x[0], r"\log\left({}\right)", lambda sp, a: sp.log(a)
    ),
    "log1p": _function(
        "log1p",
        _log1p,
        lambda x, d, dep: d[0] / (1 + x[0]),
        r"\log\left(1 + {}\right)",
        lambda sp, a: sp.log(1 + a),
    ),
    "sqrt": _function(
        "sqrt", FloatNS.sqrt, lambda x, d, dep: d[0] / (2 * sqrt(x[0])), r"\sqrt{{{}}}", lambda sp, a: sp.sqrt(a)
    ),
    "sin": _function(
        "sin", FloatNS.sin, lambda x, d, dep: cos(x[0]) * d[0], r"\sin\left({}\right)", lambda sp, a: sp.sin(a)
    ),
    "cos": _function(
        "cos", FloatNS.cos, lambda x, d, dep: -sin(x[0]) * d[0], r"\cos\left({}\right)", lambda sp, a: sp.cos(a)
    ),
    "tanh": _function(
        "tanh",
        FloatNS.tanh,
        lambda x, d, dep: (1 - tanh(x[0]) ** 2) * d[0],
        r"\tanh\left({}\right)",
        lambda sp, a: sp.tanh(a),
    ),
    "sigmoid": _function(
        "sigmoid",
        FloatNS.sigmoid,
        lambda x, d, dep: sigmoid(x[0]) * (1 - sigmoid(x[0])) * d[0],
        r"\sigma\left({}\right)",
        lambda sp, a: 1 / (1 + sp.exp(-a)),
    ),
    "relu": _function(
        "relu",
        FloatNS.relu,
        lambda x, d, dep: step(x[0]) * d[0],
        r"\operatorname{{relu}}\left({}\right)",
        lambda sp, a: sp.Max(0, a),
    ),
    "abs": _function(
        "abs", FloatNS.abs, lambda x, d, dep: sign(x[0]) * d[0], r"\left|{}\right|", lambda sp, a: sp.Abs(a)
    ),
    # step and sign appear in derivatives (of relu and abs); their own derivative is 0
    "step": _function(
        "step",
        FloatNS.positive,
        lambda x, d, dep: ZERO,
        r"\operatorname{{step}}\left({}\right)",
        lambda sp, a: sp.Heaviside(a, 0),
    ),
    "sign": _function(
        "sign",
        lambda a: float(FloatNS.sign(a)),
        lambda x, d, dep: ZERO,
        r"\operatorname{{sign}}\left({}\right)",
        lambda sp, a: sp.sign(a),
    ),
}


# Reading a Value graph --------------------------------------------------------


def _weighted_sum(n, *parts):
    """b + w1 x1 + ... + wn xn, added in the order WeightedSum's forward adds them."""
    ws, xs, total = parts[:n], parts[n : 2 * n], parts[2 * n]
    for w, x in zip(ws, xs):
        total = total + w * x
    return total


GRAPH_OPS: dict[type, Callable] = {
    ops.Add: lambda p, a, b: a + b,
    ops.Sub: lambda p, a, b: a - b,
    ops.Mul: lambda p, a, b: a * b,
    ops.Div: lambda p, a, b: a / b,
    ops.Neg: lambda p, a: -a,
    ops.PowConst: lambda c, a: a ** Expression.constant(c),
    ops.Pow: lambda p, a, b: a**b,
    WeightedSum: _weighted_sum,
    # the elementwise methods of Node's table that are functions here too
    **{
        op: (lambda name: lambda p, a: Expression(name, (a,)))(name)
        for name, op in shared_elementwise().items()
        if name in OPERATIONS
    },
}


def expression(root: Value) -> Expression:
    """The formula computed by the graph of `root` (a Value), as an `Expression`.

    Labelled leaves become variables, constants (numbers mixed in) become numbers; every
    variable must have a label, and one label names one leaf.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expression: root must be a Value, got {type(root).__name__}")
    made: dict = {}
    leaves: dict = {}
    for node in engine.toposort(root):
        if node._op is None:
            made[node] = _leaf("expression", node, leaves)
            continue
        build = GRAPH_OPS.get(node._op)
        if build is None:
            raise ValueError(f"expression: no symbolic rule for the op {node._op.__name__} ({node.op_name!r})")
        made[node] = build(node._params, *(made[p] for p in node._parents))
    return made[root]


def _leaf(where, node, leaves):
    if not node.requires_grad:
        return Expression.constant(node._data)
    if not node.label:
        raise ValueError(
            f"{where}: a leaf {node!r} has no label; label every variable "
            f"(Value(0.5, label='w')) or write constants as Python numbers"
        )
    other = leaves.setdefault(node.label, node)
    if other is not node:
        raise ValueError(
            f"{where}: two different leaves are labelled {node.label!r}; labels name "
            f"the variables, so they must be unique (for a model: "
            f"for name, p in model.named_parameters(): p.label = name)"
        )
    return Expression.variable(node.label)


def symbolic_derivative(root: Value, wrt: Value, simplify: bool = False) -> Expression:
    """d root / d wrt as an `Expression`, by rewrite rules (see the module docstring).

    `wrt` is a labelled leaf `Value` of root's graph. `simplify=True` applies the 0 and 1
    identities and folds constants.
    """
    if not isinstance(root, Value):
        raise TypeError(f"symbolic_derivative: root must be a Value, got {type(root).__name__}")
    if not isinstance(wrt, Value) or not wrt.is_leaf:
        got = repr(wrt) if isinstance(wrt, Value) else type(wrt).__name__
        raise TypeError(f"symbolic_derivative: wrt must be a leaf Value, got {got}")
    f = expression(root)
    if not any(node is wrt for node in engine.toposort(root)):
        raise ValueError(f"symbolic_derivative: wrt {wrt!r} is not a leaf of root's graph")
    return f.derivative(wrt.label, simplify=simplify)


# Simplification ------------------------------------------------------------------


def _is(node: Expression, number: float) -> bool:
    return node.op == "const" and node.value == number


def _simplest(op: str, args: tuple) -> Expression:
    if all(a.op == "const" for a in args):
        return Expression.constant(OPERATIONS[op].compute(*(a.value for a in args)))
    if op == "neg":
        return args[0].args[0] if args[0].op == "neg" else Expression(op, args)
    if len(args) != 2:
        return Expression(op, args)
    a, b = args
    if op == "+":
        return b if _is(a, 0) else a if _is(b, 0) else a - b.args[0] if b.op == "neg" else a + b
    if op == "-":
        return -b if _is(a, 0) else a if _is(b, 0) else a + b.args[0] if b.op == "neg" else a - b
    if op == "*":
        if _is(a, 0) or _is(b, 0):
            return ZERO
        return b if _is(a, 1) else a if _is(b, 1) else -b if _is(a, -1) else -a if _is(b, -1) else a * b
    if op == "/":
        return ZERO if _is(a, 0) else a if _is(b, 1) else a / b
    if op == "**":
        return ONE if _is(b, 0) else a if _is(b, 1) else a**b
    return Expression(op, args)


# Writing ------------------------------------------------------------------------------

# Binding strength: a sub-expression weaker than its parent's operator is parenthesised.
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}
_ATOM = 5


class _Style:
    def __init__(self, template: Callable, number: Callable, variable: Callable, frac_free: bool):
        self.template, self.number, self.variable = template, number, variable
        self.frac_free = frac_free  # LaTeX's \frac and ^{...} group their operands themselves


def _number(v: float) -> str:
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _latex_number(v: float) -> str:
    text = _number(v)
    if "e" in text and not math.isinf(v):
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}.get(text, text)


def _latex_variable(name: str) -> str:
    match = re.fullmatch(r"([A-Za-z])(\d+)", name)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    if re.fullmatch(r"[A-Za-z]", name):
        return name
    return r"\mathrm{" + re.sub(r"([_{}#$%&])", r"\\\1", name) + "}"


_TEXT = _Style(lambda op: OPERATIONS[op].text, _number, str, frac_free=False)
_LATEX = _Style(lambda op: OPERATIONS[op].latex, _latex_number, _latex_variable, frac_free=True)


def _render(root: Expression, style: _Style) -> str:
    """Text with the fewest parentheses the precedences allow; results are (text, precedence)."""

    def write(node, parts):
        if node.op == "const":
            return style.number(node.value), (3 if node.value < 0 else _ATOM)
        if node.op == "var":
            return style.variable(node.name), _ATOM
        mine = _PRECEDENCE.get(node.op, _ATOM)
        if mine == _ATOM:  # a function: its argument is already bracketed
            return style.template(node.op).format(*(text for text, _ in parts)), _ATOM
        if style.frac_free and node.op == "/":
            return style.template(node.op).format(*(text for text, _ in parts)), _ATOM
        texts = []
        for i, (text, theirs) in enumerate(parts):
            right = i == len(parts) - 1 and len(parts) == 2
            tight = (
                theirs < mine
                or (theirs == mine and (right and node.op in ("-", "/") or node.op == "neg"))
                or (node.op == "**" and not right and theirs <= mine)
            )
            if node.op == "**" and right and style.frac_free:
                tight = False  # the exponent is grouped by ^{...}
            texts.append(_bracket(text, style) if tight else text)
        return style.template(node.op).format(*texts), mine

    return _fold(root, write, memo={})[0]


def _bracket(text: str, style: _Style) -> str:
    return rf"\left({text}\right)" if style.frac_free else f"({text})"
