"""autograd.symbolic: expression trees of Value graphs and their rule-based derivatives.

Every op Value has is checked at hypothesis-drawn points against backward(), central differences
and (after simplification) SymPy's own diff; the swell of a chain of shared products is checked
against its exact size law.
"""

import inspect
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Expression, Tensor, Value, engine, expression, ops, symbolic_derivative
from autograd.value import WeightedSum
from tests.support.gradients import central_difference


def sympy_or_fail():
    try:
        import sympy
    except ImportError:
        pytest.fail('SymPy is needed for this cross-check: pip install -e ".[symbolic]" (or make setup)')
    return sympy


# (name, function of the leaves a and b, interval the leaves are drawn from)
CASES = [
    ("add", lambda a, b: a + b * a, (-3, 3)),
    ("sub", lambda a, b: a - b * a - 2, (-3, 3)),
    ("mul", lambda a, b: a * b * a, (-3, 3)),
    ("div", lambda a, b: a / (b + a) + 1 / b, (0.3, 3)),
    ("neg", lambda a, b: -(a * b), (-3, 3)),
    ("pow_const", lambda a, b: (a * b) ** 3 + a**-1.5, (0.3, 3)),
    ("pow", lambda a, b: a**b + 2**a, (0.3, 3)),
    ("exp", lambda a, b: (a * b).exp(), (-2, 2)),
    ("log", lambda a, b: (a * b).log(), (0.3, 3)),
    ("log1p", lambda a, b: (a * b - 0.05).log1p(), (0.3, 3)),
    ("sqrt", lambda a, b: (a * b + a).sqrt(), (0.3, 3)),
    ("sin", lambda a, b: (a * b - a).sin(), (-3, 3)),
    ("cos", lambda a, b: (a * b - a).cos(), (-3, 3)),
    ("tanh", lambda a, b: (a * b - a).tanh(), (-3, 3)),
    ("sigmoid", lambda a, b: (a * b - a).sigmoid(), (-3, 3)),
    ("relu", lambda a, b: (a * b - a).relu() * b, (-3, 3)),
    ("abs", lambda a, b: (a * b - a).abs() * b, (-3, 3)),
    ("weighted_sum", lambda a, b: Value.weighted_sum([a, b, 2.0], [b, a, a], 0.5), (-3, 3)),
]
KINKED = {"relu": [(-1.1, 0.4), (-0.3, -2.0)], "abs": [(-1.1, 0.4), (-0.3, -2.0)]}  # points off the kink


def leaves(a, b):
    return Value(a, label="a"), Value(b, label="b")


def op_classes(root):
    return {node._op for node in engine.toposort(root) if node._op is not None}


def test_every_op_value_has_is_covered():
    value_ops = {
        obj
        for _, obj in inspect.getmembers(ops, inspect.isclass)
        if issubclass(obj, engine.Op) and obj.__module__ == ops.__name__ and obj is not ops.Elementwise
    } | {WeightedSum}
    covered = set().union(*(op_classes(fn(*leaves(0.7, 1.3))) for _, fn, _ in CASES))
    assert value_ops <= covered, f"no symbolic test for {value_ops - covered}"


@pytest.mark.parametrize("name, fn, interval", CASES, ids=[c[0] for c in CASES])
@settings(max_examples=15)
@given(data=st.data())
def test_derivative_equals_backward_and_central_differences(name, fn, interval, data):
    a0, b0 = (data.draw(st.floats(*interval)) for _ in range(2))
    if name in KINKED:
        assume(abs(a0 * b0 - a0) > 1e-3)
    a, b = leaves(a0, b0)
    f = fn(a, b)
    f.backward()
    point = {"a": a0, "b": b0}
    assert expression(f).evaluate(point) == f.data  # the same float operations, in order
    numeric = central_difference(lambda x, y: fn(*leaves(float(x), float(y))).data, [a0, b0])
    for leaf, fd in zip((a, b), numeric):
        for simplify in (False, True):
            d = symbolic_derivative(f, leaf, simplify=simplify).evaluate(point)
            assert d == pytest.approx(leaf.grad, rel=1e-12, abs=1e-12)
            assert d == pytest.approx(float(fd), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name, fn, interval", CASES, ids=[c[0] for c in CASES])
def test_simplified_derivative_equals_sympys_diff(name, fn, interval):
    sympy = sympy_or_fail()
    a, b = leaves(0.7, 1.3)
    f = fn(a, b)
    theirs = expression(f).to_sympy()
    for leaf in (a, b):
        ours = symbolic_derivative(f, leaf, simplify=True).to_sympy()
        symbol = sympy.Symbol(leaf.label, real=True)
        expected = sympy.diff(theirs, symbol)
        difference = sympy.simplify(ours - expected)
        if difference == 0:
            continue
        # Heaviside / sign conventions differ at the kink, and folded constants are floats
        # (log(2) became 0.693...): off the kink the difference must vanish to rounding
        for point in [(0.7, 1.3), (1.1, 0.4), (2.0, 2.5), (0.3, 2.0)] + KINKED.get(name, []):
            subs = dict(zip(sympy.symbols("a b", real=True), point))
            assert abs(float(difference.subs(subs))) < 1e-12, (ours, expected, point)


def test_worked_example_of_the_notes():
    x, w, b = Value(1.0, label="x"), Value(0.0, label="w"), Value(0.0, label="b")
    f = 1 / ((-(w * x + b)).exp() + 1)
    e = expression(f)
    assert str(e) == "1 / (exp(-(w * x + b)) + 1)" and e.size == 11
    assert e.evaluate({"x": 1, "w": 0, "b": 0}) == 0.5
    dw = symbolic_derivative(f, w)
    assert str(dw) == (
        "(0 * (exp(-(w * x + b)) + 1) - 1 * (exp(-(w * x + b)) * -(1 * x + w * 0 + 0) + 0))"
        " / (exp(-(w * x + b)) + 1) ** 2"
    )
    simple = symbolic_derivative(f, w, simplify=True)
    assert str(simple) == "-(exp(-(w * x + b)) * -x) / (exp(-(w * x + b)) + 1) ** 2"
    assert simple.size < dw.size
    for wrt in (w, b):
        assert symbolic_derivative(f, wrt, simplify=True).evaluate({"x": 1, "w": 0, "b": 0}) == 0.25
    assert simple.latex() == (
        r"\frac{-\left(\exp\left(-\left(w \cdot x + b\right)\right) \cdot -x\right)}"
        r"{\left(\exp\left(-\left(w \cdot x + b\right)\right) + 1\right)^{2}}"
    )


def squaring_chain(n):
    """u_0 = x, u_k = u_(k-1) * u_(k-1): n multiplications of a shared subterm (x ** 2**n)."""
    x = Value(1.01, label="x")
    u = x
    for _ in range(n):
        u = u * u
    return x, u


@pytest.mark.parametrize("n", range(0, 11))
def test_size_law_of_a_chain_of_shared_products(n):
    x, u = squaring_chain(n)
    assert len(engine.toposort(u)) == n + 1  # the graph: linear in n
    assert expression(u).size == 2 ** (n + 1) - 1  # the tree: every copy written out
    assert symbolic_derivative(u, x).size == (n + 1) * 2 ** (n + 1) - 1
    assert symbolic_derivative(u, x, simplify=True).size == max(1, n * 2 ** (n + 1) - 1)
    value = symbolic_derivative(u, x, simplify=True).evaluate({"x": 1.01})
    assert value == pytest.approx(2**n * 1.01 ** (2**n - 1), rel=1e-12)


@pytest.mark.parametrize("n", range(1, 9))
def test_size_law_of_a_tanh_chain(n):
    """u_k = tanh(w_k u_(k-1) + b_k): d/dw_1 copies each u_k into the next layer's chain-rule factor."""
    x = Value(0.5, label="x")
    w1 = u = None
    for k in range(1, n + 1):
        w = Value(0.9, label=f"w{k}")
        w1 = w1 or w
        u = (w * (u or x) + Value(0.1, label=f"b{k}")).tanh()
    assert len(engine.toposort(u)) == expression(u).size == 5 * n + 1  # nothing shared: graph = tree
    assert symbolic_derivative(u, w1).size == 5 * n * n + 14 * n + 1  # quadratic
    assert 2 * symbolic_derivative(u, w1, simplify=True).size == 5 * n * n + 21 * n - 2


@pytest.mark.parametrize(
    "text, simplified",
    [
        ("x + 0", "x"),
        ("0 + x", "x"),
        ("x - 0", "x"),
        ("0 - x", "-x"),
        ("x * 1", "x"),
        ("1 * x", "x"),
        ("x * 0", "0"),
        ("0 * x", "0"),
        ("-1 * x", "-x"),
        ("x / 1", "x"),
        ("0 / x", "0"),
        ("x ** 1", "x"),
        ("x ** 0", "1"),
        ("-(-x)", "x"),
        ("(2 + 3) * x", "5 * x"),
        ("exp(0) * x + (1 - 1)", "x"),
        ("2 ** 3 / 4", "2"),
        ("x + -x", "x - x"),
        ("x - -1 * x", "x + x"),
    ],
)
def test_simplification_rules(text, simplified):
    namespace = {"x": Expression.variable("x"), "exp": lambda e: Expression("exp", (e,))}
    e = eval(
        text.replace("0", "Expression.constant(0)")
        .replace("1", "Expression.constant(1)")
        .replace("2", "Expression.constant(2)")
        .replace("3", "Expression.constant(3)")
        .replace("4", "Expression.constant(4)"),
        {**namespace, "Expression": Expression},
    )
    assert str(e.simplify()) == simplified


def test_second_derivative_equals_double_backward():
    x = Value(0.8, label="x")
    f = (x * x).tanh() * x.sin()
    (g,) = engine.backward_pass(f, Value(1.0), retain_graph=True, create_graph=True, wrt=[x])
    (h,) = engine.backward_pass(g, 1.0, retain_graph=False, create_graph=False, wrt=[x])
    second = expression(f).derivative("x").derivative("x", simplify=True)
    assert second.evaluate({"x": 0.8}) == pytest.approx(h, rel=1e-12)


@pytest.mark.slow  # a deep chain
def test_deep_chain_is_iterative():
    x = Value(0.5, label="x")
    u = x
    for _ in range(3000):  # three times Python's recursion limit
        u = u * 0.9999 + 0.0001
    d = symbolic_derivative(u, x, simplify=True)
    assert d.evaluate({"x": 0.5}) == pytest.approx(0.9999**3000, rel=1e-9)
    assert d.size == 1  # 1 * 0.9999 * 0.9999 ...: folded to one constant
    assert len(str(expression(u))) > 3000
    assert symbolic_derivative(u, x).size > 3000**2  # unsimplified, each u_k is copied


def test_errors_name_the_operation():
    x = Value(1.0, label="x")
    with pytest.raises(TypeError, match="expression: root must be a Value"):
        expression(Tensor(np.ones(2)))
    with pytest.raises(TypeError, match="symbolic_derivative: root must be a Value, got float"):
        symbolic_derivative(1.0, x)
    with pytest.raises(ValueError, match="symbolic_derivative: wrt .* is not a leaf of root's graph"):
        symbolic_derivative(x * 2, Value(1.0, label="y"))
    with pytest.raises(TypeError, match="symbolic_derivative: wrt must be a leaf Value"):
        symbolic_derivative(x * 2, x * 3)
    with pytest.raises(ValueError, match="expression: a leaf .* has no label"):
        expression(x * Value(2.0))
    with pytest.raises(ValueError, match="two different leaves are labelled 'x'"):
        expression(x * Value(2.0, label="x"))
    with pytest.raises(ValueError, match=r"Expression.evaluate: no value for the variable\(s\) \['x'\]"):
        expression(x * 2).evaluate({"y": 1.0})
    with pytest.raises(TypeError, match="Expression.evaluate: the value of 'x' must be a real number, got str"):
        expression(x * 2).evaluate({"x": "1.0"})
    with pytest.raises(ValueError, match="Expression.evaluate: integer too large"):
        expression(x * 2).evaluate({"x": 10**400})
    assert expression(x * 2).evaluate({"x": np.float32(1.5)}) == 3.0


def test_evaluate_follows_ieee_like_the_engine():
    x = Value(0.0, label="x")
    assert math.isinf(expression(1 / x).evaluate({"x": 0.0}))
    assert math.isnan(expression((x - 1).log()).evaluate({"x": 0.0}))


def test_to_sympy_without_sympy_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sympy", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "chainrule\[symbolic\]"'):
        expression(Value(1.0, label="x").exp()).to_sympy()


def test_a_scalar_network_labelled_by_its_parameter_names():
    import nn

    model = nn.scalar.MLP([2, 3, 1], rng=0)
    out = model([0.5, -1.0])
    with pytest.raises(ValueError, match="model.named_parameters"):
        expression(out)  # each neuron calls its weights w.0, w.1, ...
    for name, p in model.named_parameters():
        p.label = name
    out.backward()
    point = {p.label: p.data for p in model.parameters()}
    for p in model.parameters():
        assert symbolic_derivative(out, p, simplify=True).evaluate(point) == pytest.approx(p.grad, rel=1e-12, abs=1e-15)
