"""log1p, the op added by following docs/design.md's "Adding an op": log(1 + x), d/dx = 1 / (1 + x).

Checked on Value and Tensor: the closed form, central differences on hypothesis shapes,
second derivatives through create_graph, forward mode (jvp), and IEEE values at -1 and below.
"""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from autograd import Tensor, Value, gradgradcheck, jvp
from autograd.namespaces import FloatNS, NumpyNS

ABOVE_MINUS_ONE = st.floats(-0.9, 5.0, allow_nan=False, allow_infinity=False)
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def central_differences(f, x, eps=1e-6):
    """d sum(f(x)) / dx elementwise, as (f(x + eps) - f(x - eps)) / 2 eps for each entry of x."""
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        out[i] = (np.sum(f(up)) - np.sum(f(down))) / (2 * eps)
    return out


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, SHAPES, elements=ABOVE_MINUS_ONE))
def test_tensor_gradient_matches_central_differences_and_closed_form(x):
    t = Tensor(x, requires_grad=True)
    weights = np.linspace(0.5, 1.5, x.size).reshape(x.shape)
    (t.log1p() * weights).sum().backward()
    numeric = central_differences(lambda a: np.log1p(a) * weights, x)
    np.testing.assert_allclose(t.grad, numeric, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t.grad, weights / (1 + x), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(ABOVE_MINUS_ONE)
def test_value_gradient_matches_central_differences_and_closed_form(x):
    v = Value(x)
    y = v.log1p()
    y.backward()
    assert y.data == math.log1p(x)
    assert v.grad == 1 / (1 + x)
    eps = 1e-6
    assert math.isclose(v.grad, (math.log1p(x + eps) - math.log1p(x - eps)) / (2 * eps), rel_tol=1e-5, abs_tol=1e-6)


def test_tiny_inputs_keep_their_precision():
    # log(1 + 1e-20) would be log(1.0) = 0; log1p keeps the 1e-20
    assert Value(1e-20).log1p().data == 1e-20
    assert Tensor(np.array([1e-20])).log1p().data[0] == 1e-20


def test_second_derivative_through_create_graph():
    # d2/dx2 log(1 + x) = -1 / (1 + x)^2
    for x0 in (-0.5, 0.0, 2.0):
        v = Value(x0)
        v.log1p().backward(create_graph=True)
        first = v.grad
        v.zero_grad()
        first.backward()
        assert math.isclose(v.grad, -1 / (1 + x0) ** 2, rel_tol=1e-12)
    x = np.array([[-0.5, 0.0], [0.5, 3.0]])
    t = Tensor(x, requires_grad=True)
    t.log1p().sum().backward(create_graph=True)
    first = t.grad
    t.grad = None
    first.sum().backward()
    np.testing.assert_allclose(t.grad, -1 / (1 + x) ** 2, rtol=1e-12)
    assert gradgradcheck(lambda a: a.log1p(), Tensor(x, requires_grad=True))


def test_forward_mode():
    x = np.array([-0.5, 0.0, 4.0])
    out, tangent = jvp(lambda a: a.log1p(), (Tensor(x),), (Tensor(np.array([1.0, 2.0, 3.0])),))
    np.testing.assert_allclose(out.data, np.log1p(x))
    np.testing.assert_allclose(tangent.data, np.array([1.0, 2.0, 3.0]) / (1 + x))
    value_out, value_tangent = jvp(lambda a: a.log1p(), (Value(1.0),), (3.0,))
    assert value_out == math.log1p(1.0) and value_tangent == 3.0 / 2.0


def test_ieee_values_at_and_below_minus_one():
    assert FloatNS.log1p(-1.0) == -math.inf and math.isnan(FloatNS.log1p(-2.0))
    with np.errstate(all="ignore"):
        assert NumpyNS.log1p(np.array(-1.0)) == -np.inf
    v = Value(-1.0)
    y = v.log1p()
    y.backward()  # 1 / (1 + -1): Python refuses the division, the engine gives IEEE's inf
    assert y.data == -math.inf and v.grad == math.inf
