"""autograd.Function: user-defined ops for Value and Tensor, with create_graph and forward mode."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Function, GradcheckError, Tensor, Value, grad, gradcheck, gradgradcheck, hessian, jvp
from tests.support.transform_cases import array

SETTINGS = settings(max_examples=25, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * x.cos()


class Exp(Function):
    """Saves its output: create_graph must see the recorded node, not forward's constant."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class ScaleAdd(Function):
    """a * k + b with a constant k among the arguments and the context holding k."""

    @staticmethod
    def forward(ctx, a, k, b):
        ctx.k = k
        return a * k + b

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None, g

    @staticmethod
    def jvp(ctx, ta, tk, tb):
        assert tk is None
        return ta * ctx.k + tb


class WrongSquare(Function):
    """Deliberately wrong backward at one element: 2x everywhere but 3x at [1, 2]."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        factor = np.full(x.shape, 2.0)
        factor[1, 2] = 3.0
        return g * x * factor

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 2 * x


@SETTINGS
@given(data=st.data())
def test_tensor_function_matches_builtin_gradients(data):
    x = array(data.draw, data.draw(SHAPES))
    t = Tensor(x, requires_grad=True)
    (Sin.apply(t) * Exp.apply(t)).sum().backward()
    np.testing.assert_allclose(t.grad, np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x), rtol=1e-13)
    assert gradcheck(lambda x: Sin.apply(x) * Exp.apply(x), x, atol=1e-8, rtol=1e-7, check_forward=False)


@SETTINGS
@given(x=st.floats(-3, 3))
def test_value_function_first_and_second_derivatives(x):
    v = Value(x)
    y = Sin.apply(v) * 2
    y.backward()
    assert isinstance(y, Value) and v.grad == pytest.approx(2 * np.cos(x), rel=1e-14, abs=1e-15)
    assert grad(grad(lambda v: Sin.apply(v)))(Value(x)) == pytest.approx(-np.sin(x), abs=1e-14)
    assert grad(grad(lambda v: Exp.apply(v)))(Value(x)) == pytest.approx(np.exp(x), rel=1e-14)


def test_create_graph_through_saved_inputs_and_outputs():
    x = np.array([0.2, -0.7, 1.1])
    np.testing.assert_allclose(hessian(lambda x: Sin.apply(x).sum())(x), np.diag(-np.sin(x)), atol=1e-15)
    np.testing.assert_allclose(hessian(lambda x: Exp.apply(x).sum())(x), np.diag(np.exp(x)), rtol=1e-14)
    assert gradgradcheck(lambda x: Sin.apply(x) * Exp.apply(x), x, check_forward=False)
    t = Tensor(x, requires_grad=True)
    Exp.apply(t).sum().backward(create_graph=True)
    first = t.grad
    assert isinstance(first, Tensor) and first.requires_grad
    np.testing.assert_allclose(first.data, np.exp(x), rtol=1e-15)


def test_constants_context_attributes_and_forward_mode():
    a, b = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    ga, gb = grad(lambda a, b: ScaleAdd.apply(a, 3.0, b).sum(), (0, 1))(a, b)
    np.testing.assert_array_equal(ga, [3.0, 3.0])
    np.testing.assert_array_equal(gb, [1.0, 1.0])
    out, t = jvp(lambda a, b: ScaleAdd.apply(a, 3.0, b), (a, b), (np.ones(2), np.array([0.0, 1.0])))
    np.testing.assert_array_equal(out, [3.5, 5.5])
    np.testing.assert_array_equal(t, [3.0, 4.0])
    assert gradcheck(lambda a, b: ScaleAdd.apply(a, 3.0, b), a, b)
    assert jvp(lambda x: Sin.apply(x), (Value(0.5),), (2.0,))[1] == pytest.approx(2 * np.cos(0.5))


def test_saved_tensors_and_needs_input_grad():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, y, n):
            ctx.save_for_backward(x, y)
            seen["needs"] = ctx.needs_input_grad
            return x * y * n

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y * 2, g * x * 2, None

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([3.0, 4.0]))
    Probe.apply(x, y, 2).sum().backward()
    assert seen["needs"] == (True, False, False)
    np.testing.assert_array_equal(x.grad, [6.0, 8.0])
    assert y.grad is None


def test_gradcheck_catches_a_wrong_backward_at_the_right_index():
    x = np.linspace(0.3, 1.4, 12).reshape(3, 4)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: WrongSquare.apply(x).sum(), x)
    message = str(info.value)
    assert "reverse-mode mismatch for input 0 at element (1, 2)" in message
    analytic, numeric, error = map(
        float, re.search(r"analytical (\S+), numerical (\S+), error (\S+) >", message).groups()
    )
    assert analytic == pytest.approx(3 * x[1, 2], rel=1e-12)
    assert numeric == pytest.approx(2 * x[1, 2], rel=1e-8)
    assert error == pytest.approx(x[1, 2], rel=1e-3)


def test_forward_mode_without_jvp_says_so():
    x = np.array([1.0, 2.0])
    with pytest.raises(NotImplementedError, match=r"Exp: forward mode needs a static jvp\(ctx, \*tangents\)"):
        jvp(lambda x: Exp.apply(x), (x,), (x,))
    with pytest.warns(UserWarning, match="Exp defines no jvp, so forward mode was not checked"):
        assert gradcheck(lambda x: Exp.apply(x), x)  # jvp is optional: gradcheck skips forward mode


def test_bad_definitions_and_calls():
    class TwoGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(TypeError, match=r"TwoGrads.backward returned 2 gradient\(s\) for 1 argument"):
        TwoGrads.apply(Tensor(np.ones(2), requires_grad=True)).sum().backward()
    with pytest.raises(TypeError, match="ScaleAdd.apply: arguments mix Values and Tensors"):
        ScaleAdd.apply(Value(1.0), 2.0, Tensor(np.ones(2)))
    assert ScaleAdd.apply(1.0, 2.0, 3.0) == 5.0  # no node: plain forward, no graph


def test_a_saved_output_makes_no_reference_cycle():
    """ctx holds its output weakly: the graph is freed by reference counting alone."""
    import gc
    import weakref

    gc.disable()
    try:
        x = Tensor(np.array([0.5, 1.0]), requires_grad=True)
        y = Exp.apply(x)
        alive = weakref.ref(y)
        y.sum().backward()
        np.testing.assert_allclose(x.grad, np.exp([0.5, 1.0]))
        del y
        assert alive() is None
    finally:
        gc.enable()
