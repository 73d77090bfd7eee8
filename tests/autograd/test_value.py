"""Value: every operator and method against central differences, plus the notes' closed forms."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, no_grad

away = st.floats(0.2, 2.0).flatmap(lambda v: st.sampled_from([v, -v]))
positive = st.floats(0.3, 3.0)

UNARY = {
    "exp": (lambda v: v.exp(), math.exp, away),
    "log": (lambda v: v.log(), math.log, positive),
    "sqrt": (lambda v: v.sqrt(), math.sqrt, positive),
    "sin": (lambda v: v.sin(), math.sin, away),
    "cos": (lambda v: v.cos(), math.cos, away),
    "tanh": (lambda v: v.tanh(), math.tanh, away),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), away),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0), away),
    "abs": (lambda v: v.abs(), abs, away),
    "neg": (lambda v: -v, lambda x: -x, away),
    "pow_number": (lambda v: v**3, lambda x: x**3, away),
    "pow_fraction": (lambda v: v**0.5, math.sqrt, positive),
    "rpow": (lambda v: 2**v, lambda x: 2**x, away),
    "rsub": (lambda v: 1 - v, lambda x: 1 - x, away),
    "rdiv": (lambda v: 2 / v, lambda x: 2 / x, away),
    "radd_rmul": (lambda v: 3 + 2 * v, lambda x: 3 + 2 * x, away),
}


def central(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name, data):
    op, reference, values = UNARY[name]
    x0 = data.draw(values)
    x = Value(x0)
    y = op(x)
    assert y.data == pytest.approx(reference(x0), rel=1e-12)
    y.backward()
    assert x.grad == pytest.approx(central(reference, x0), rel=1e-6, abs=1e-9)


BINARY = {
    "add": (lambda a, b: a + b),
    "sub": (lambda a, b: a - b),
    "mul": (lambda a, b: a * b),
    "div": (lambda a, b: a / b),
    "pow": (lambda a, b: abs(a) ** b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(a0=away, b0=away)
def test_binary(name, a0, b0):
    f = BINARY[name]
    a, b = Value(a0), Value(b0)
    f(a, b).backward()
    assert a.grad == pytest.approx(central(lambda x: f(x, b0), a0), rel=1e-6, abs=1e-9)
    assert b.grad == pytest.approx(central(lambda y: f(a0, y), b0), rel=1e-6, abs=1e-9)


def test_the_contract_example():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a**2 / b - (-a).exp()
    c.backward()
    assert c.data == pytest.approx(-6 + 4 / -3 - math.exp(-2))
    assert a.grad == pytest.approx(-3 + 2 * 2 / -3 + math.exp(-2))
    assert b.grad == pytest.approx(2 - 4 / 9)
    assert isinstance(a.grad, float) and isinstance(a.data, float)


def test_notes_worked_example_logistic_neuron():
    """f(x; w, b) = 1 / (exp(-(w x + b)) + 1) at x = 1, w = 0, b = 0."""
    x, w, b = Value(1.0), Value(0.0), Value(0.0)
    f = 1 / ((-(w * x + b)).exp() + 1)
    f.backward()
    assert f.data == 0.5
    assert (w.grad, b.grad, x.grad) == (0.25, 0.25, 0.0)


def test_sigmoid_derivative_at_zero_and_tanh_identity():
    z = Value(0.0)
    z.sigmoid().backward()
    assert z.grad == 0.25
    for x0 in (-2.0, -0.3, 0.0, 0.7, 3.0):
        x = Value(x0)
        assert x.tanh().data == pytest.approx((2 * (2 * x).sigmoid() - 1).data, abs=1e-15)


def test_gradient_of_sum_of_squares():
    x, y = Value(1.0), Value(2.0)
    (x**2 + y**2).backward()
    assert (x.grad, y.grad) == (2.0, 4.0)


def test_reused_node_gets_the_summed_gradient():
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    assert b.grad == 12.0 and a.grad == 24.0


def test_relu_derivative_at_zero_is_zero():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0


def test_backward_accumulates_and_zero_grad_resets():
    x = Value(3.0)
    (x * x).backward()
    (x * 2).backward()
    assert x.grad == 8.0
    x.zero_grad()
    assert x.grad == 0.0


@pytest.mark.slow  # a chain of 100,000 nodes
def test_hundred_thousand_node_chain_without_recursion():
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.00001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.00001**100_000, rel=1e-9)


def test_ieee_results_instead_of_python_exceptions():
    x = Value(0.0)
    assert math.isinf((1 / x).data) and math.isinf(x.log().data)
    assert math.isnan(Value(-1.0).sqrt().data) and math.isinf(Value(1000.0).exp().data)
    y = Value(0.0)
    y.log().backward()
    assert math.isinf(y.grad)


def test_no_grad_records_nothing():
    x = Value(2.0)
    with no_grad():
        y = x * x
    assert y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_second_backward_without_retain_graph_raises():
    x = Value(2.0)
    y = (x * x).exp()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == pytest.approx(2 * 2 * 2 * math.exp(4))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_bad_data_and_operands_raise_type_errors():
    with pytest.raises(TypeError, match="Value"):
        Value("abc")
    with pytest.raises(TypeError):
        Value(1.0) + "x"


@given(n=st.integers(1, 6), data=st.data())
def test_weighted_sum_is_one_node_with_the_right_gradients(n, data):
    ws = [data.draw(away) for _ in range(n)]
    xs = [data.draw(away) for _ in range(n)]
    b0 = data.draw(away)
    w, x, b = [Value(v) for v in ws], [Value(v) for v in xs], Value(b0)
    z = Value.weighted_sum(w, x, b)
    assert z.data == pytest.approx(sum(a * c for a, c in zip(ws, xs)) + b0, rel=1e-12)
    assert len(z._parents) == 2 * n + 1
    z.tanh().backward()
    for i in range(n):
        f_w = lambda v: math.tanh(sum(a * c for a, c in zip(ws[:i] + [v] + ws[i + 1 :], xs)) + b0)
        f_x = lambda v: math.tanh(sum(a * c for a, c in zip(ws, xs[:i] + [v] + xs[i + 1 :])) + b0)
        assert w[i].grad == pytest.approx(central(f_w, ws[i]), rel=1e-6, abs=1e-9)
        assert x[i].grad == pytest.approx(central(f_x, xs[i]), rel=1e-6, abs=1e-9)
    assert b.grad == pytest.approx(1 - math.tanh(z.data) ** 2)


def test_weighted_sum_checks_lengths_and_accepts_numbers():
    with pytest.raises(ValueError, match="weighted_sum: 2 weights but 1 inputs"):
        Value.weighted_sum([Value(1.0), Value(2.0)], [1.0])
    assert Value.weighted_sum([Value(2.0)], [3.0], 1.0).data == 7.0
