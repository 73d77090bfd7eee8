"""Higher-order derivatives: recorded backward passes, grad of grad, hessians, for every op."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, Value, grad, gradgradcheck, hessian, jacobian
from tests.support.transform_cases import TENSOR_CASES, VALUE_CASES, array, floats

SETTINGS = settings(max_examples=25, deadline=None)
CASES = TENSOR_CASES + VALUE_CASES
IDS = [f"{'Value' if c in VALUE_CASES else 'Tensor'} {c.name}" for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=8, deadline=None)  # each example differentiates a whole backward pass
@given(data=st.data())
def test_every_op_passes_gradgradcheck(case, data):
    """Second derivatives of every op (its vjp rule run on nodes) against differences of its gradient."""
    f, args = case.build(data.draw)
    assert gradgradcheck(f, *args, atol=1e-6, rtol=1e-5)


@SETTINGS
@given(n=st.integers(1, 5), data=st.data())
def test_hessian_of_quadratic_form(n, data):
    a = array(data.draw, (n, n))
    x = array(data.draw, (n,))
    np.testing.assert_allclose(hessian(lambda x: x @ (a @ x))(x), a + a.T, rtol=1e-14, atol=1e-14)


@SETTINGS
@given(data=st.data())
def test_hessian_of_sum_tanh(data):
    x = array(data.draw, data.draw(st.integers(1, 6)), -3, 3)
    th = np.tanh(x)
    np.testing.assert_allclose(
        hessian(lambda x: x.tanh().sum())(x), np.diag(-2 * th * (1 - th**2)), rtol=1e-13, atol=1e-15
    )


@SETTINGS
@given(x=floats(-4, 4))
def test_third_derivative_of_sin_is_minus_cos(x):
    d3 = grad(grad(grad(lambda v: v.sin())))
    assert d3(Value(x)) == pytest.approx(-np.cos(x), rel=1e-13, abs=1e-15)

    def derivative(f):  # of an elementwise f: the gradient of its sum
        return grad(lambda t: f(t).sum())

    d3_tensor = derivative(derivative(derivative(lambda t: t.sin())))
    np.testing.assert_allclose(d3_tensor(np.array([x, x / 2])), -np.cos([x, x / 2]), rtol=1e-13, atol=1e-15)
    assert isinstance(d3(x), float) and d3(x) == pytest.approx(-np.cos(x), rel=1e-13, abs=1e-15)


@SETTINGS
@given(x=floats(-2, 2))
def test_backward_with_create_graph_records_the_backward_pass(x):
    v = Value(x)
    (v**3 + v.sin()).backward(create_graph=True)
    first = v.grad
    assert isinstance(first, Value) and first.data == pytest.approx(3 * x * x + np.cos(x), rel=1e-14)
    v.zero_grad()
    first.backward()
    assert v.grad == pytest.approx(6 * x - np.sin(x), rel=1e-13, abs=1e-14)

    t = Tensor(np.array([x, 1.0]), requires_grad=True)
    (t**3).sum().backward(create_graph=True)
    first = t.grad
    t.zero_grad()
    first.sum().backward()
    np.testing.assert_allclose(t.grad, [6 * x, 6.0], rtol=1e-14, atol=1e-14)


def test_nested_grad_takes_partial_derivatives():
    """Inner grad w.r.t. a, with b = 2a built by the outer function: d/da (a b^2) = b^2 = 4x^2,
    whose derivative is 8x (not the total derivative 12x^2 of a (2a)^2 w.r.t. a)."""
    x = np.array([0.5, -1.5])
    inner = lambda a, b: (a * b * b).sum()
    outer = grad(lambda x: grad(inner, 0)(x, x * 2).sum())
    np.testing.assert_allclose(outer(x), 8 * x, rtol=1e-15)


def test_closures_over_outer_variables():
    """d/dx [d/dy (x y^2) at y = 3] = d/dx 6x = 6."""
    outer = grad(lambda x: grad(lambda y: x * y * y)(Value(3.0)) * 1.0)
    assert outer(Value(2.0)) == pytest.approx(6.0, rel=1e-15)


def test_hessian_blocks_and_types():
    f = lambda x, y: (x * x * y).sum() + (y**3).sum()
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    (hxx, hxy), (hyx, hyy) = hessian(f, (0, 1))(x, y)
    np.testing.assert_allclose(hxx, np.diag(2 * y), rtol=1e-15)
    np.testing.assert_allclose(hxy, np.diag(2 * x), rtol=1e-15)
    np.testing.assert_allclose(hyx, hxy.T, rtol=1e-15)
    np.testing.assert_allclose(hyy, np.diag(6 * y), rtol=1e-15)
    h = hessian(lambda v: v.exp() * v)(1.5)
    assert isinstance(h, float) and h == pytest.approx(np.exp(1.5) * 3.5, rel=1e-14)
    assert hessian(lambda v: v.exp() * v)(Value(1.5)) == pytest.approx(np.exp(1.5) * 3.5, rel=1e-14)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=3), data=st.data())
def test_jacobian_of_jacobian_is_the_second_derivative_tensor(shape, data):
    x = array(data.draw, shape)
    second = jacobian(jacobian(lambda t: t.sin() * t.sum()))(x)
    assert second.shape == shape * 3
    s = x.sum()
    expected = np.zeros(shape * 3)
    for i in np.ndindex(shape):  # d2/dx_j dx_k of sin(x_i) * s
        for j in np.ndindex(shape):
            for k in np.ndindex(shape):
                value = -np.sin(x[i]) * s * (i == j) * (i == k)
                value += np.cos(x[i]) * ((i == j) + (i == k))
                expected[i + j + k] = value
    np.testing.assert_allclose(second, expected, rtol=1e-13, atol=1e-14)
