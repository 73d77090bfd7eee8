"""grad, value_and_grad, vjp, jacobian: argument handling, return types and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, Value, grad, jacobian, no_grad, value_and_grad, vjp
from tests.support.transform_cases import array

SETTINGS = settings(max_examples=25, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)


def loss(w, x):
    return ((x @ w).tanh() ** 2).sum()


@SETTINGS
@given(data=st.data())
def test_grad_matches_backward(data):
    n, m = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    w, x = array(data.draw, (n, m)), array(data.draw, (3, n))
    tw, tx = Tensor(w, requires_grad=True), Tensor(x, requires_grad=True)
    loss(tw, tx).backward()
    gw, gx = grad(loss, argnums=(0, 1))(w, x)
    assert type(gw) is np.ndarray and gw.shape == w.shape and gx.shape == x.shape
    np.testing.assert_array_equal(gw, tw.grad)
    np.testing.assert_array_equal(gx, tx.grad)
    np.testing.assert_array_equal(grad(loss)(w, x), tw.grad)  # argnums=0
    np.testing.assert_array_equal(grad(loss, argnums=-1)(w, x), tx.grad)


def test_input_kinds_and_return_types():
    f = lambda x: (x * x).sum() if isinstance(x, Tensor) else x * x
    assert grad(f)(3.0) == 6.0 and isinstance(grad(f)(3.0), float)
    assert grad(f)(3) == 6.0 and isinstance(grad(f)(3), float)  # ints mean floats
    assert grad(f)(Value(3.0)) == 6.0 and isinstance(grad(f)(Value(3.0)), float)
    g = grad(f)(np.array(3.0))
    assert isinstance(g, np.ndarray) and g.shape == ()
    g = grad(f)(Tensor(np.array([1.0, 2.0], dtype=np.float32)))
    assert g.dtype == np.float32 and g.tolist() == [2.0, 4.0]
    value, g = value_and_grad(f)(np.array([1.0, 2.0]))
    assert isinstance(value, float) and value == 5.0 and g.tolist() == [2.0, 4.0]


def test_other_arguments_reach_f_unchanged():
    seen = []

    def f(x, labels, n):
        seen.append((type(labels), n))
        return x.log_softmax()[np.arange(n), labels].sum()

    x = np.zeros((2, 3))
    g = grad(f)(x, np.array([0, 2]), 2)
    assert seen == [(np.ndarray, 2)]  # integer arrays and ints are not data to compute with
    np.testing.assert_allclose(g, [[2 / 3, -1 / 3, -1 / 3], [-1 / 3, -1 / 3, 2 / 3]], rtol=1e-15)


def test_float_arrays_not_differentiated_still_reach_f_as_tensors():
    g = grad(lambda a, b: (a * b.sigmoid()).sum(), argnums=0)(np.ones(2), np.zeros(2))
    np.testing.assert_allclose(g, [0.5, 0.5])
    assert grad(lambda a, k: a * k.exp(), argnums=0)(1.0, 0.0) == 1.0


def test_the_callers_tensors_and_graph_are_left_alone():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = w * 3  # the caller's own graph
    g = grad(lambda x: (x * h).sum())(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(g, [3.0, 6.0])
    g = grad(lambda h: (h * h).sum())(h)  # a non-leaf input: differentiated as a new leaf
    np.testing.assert_array_equal(g, [6.0, 12.0])
    assert w.grad is None
    h.sum().backward()  # still usable: nothing was consumed
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def test_grad_works_inside_no_grad_and_without_a_path():
    with no_grad():
        assert grad(lambda x: x * x)(Value(2.0)) == 4.0
    np.testing.assert_array_equal(grad(lambda x, y: (y * 2).sum(), 0)(np.ones(2), Tensor(np.ones(2))), [0, 0])
    assert grad(lambda x: Value(1.0) * 2)(Value(5.0)) == 0.0


def test_vjp():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, vjp_fn = vjp(lambda x, y: x * y + x, x, y)
    np.testing.assert_array_equal(out, [4.0, 10.0])
    gx, gy = vjp_fn(np.array([1.0, 0.0]))
    np.testing.assert_array_equal(gx, [4.0, 0.0])
    np.testing.assert_array_equal(gy, [1.0, 0.0])
    gx, gy = vjp_fn(np.array([0.0, 2.0]))  # callable again: the graph is kept
    np.testing.assert_array_equal(gx, [0.0, 10.0])
    out, vjp_fn = vjp(lambda a: a.sin(), Value(0.5))
    assert out == np.sin(0.5) and vjp_fn(2.0) == (2 * np.cos(0.5),)
    with pytest.raises(ValueError, match=r"backward: grad has shape \(3,\) but the tensor has shape \(2,\)"):
        vjp(lambda x: x * 2, x)[1](np.ones(3))


@SETTINGS
@given(shape=SHAPES, out_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), data=st.data())
def test_jacobian_shapes_and_modes_agree(shape, out_shape, data):
    x = array(data.draw, shape)
    w = array(data.draw, out_shape + shape)
    axes = tuple(range(-len(shape), 0)) or None
    f = lambda x: (w * x.tanh()).sum(axis=axes) if axes else w * x.tanh()
    rev = jacobian(f)(x)
    fwd = jacobian(f, mode="forward")(x)
    assert rev.shape == out_shape + shape
    np.testing.assert_allclose(rev, w * (1 - np.tanh(x) ** 2), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(fwd, rev, rtol=1e-14, atol=1e-15)


def test_jacobian_of_several_arguments_values_and_empty_outputs():
    ja, jb = jacobian(lambda a, b: a @ b, (0, 1))(np.ones((2, 3)), np.arange(3.0))
    assert ja.shape == (2, 2, 3) and jb.shape == (2, 3)
    np.testing.assert_array_equal(ja[1, 1], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(jb, np.ones((2, 3)))
    assert jacobian(lambda v: v * v)(Value(3.0)) == 6.0
    assert jacobian(lambda v: v * v, mode="forward")(Value(3.0)) == 6.0
    assert jacobian(lambda x: x[x.data > 5])(np.ones(3)).shape == (0, 3)


def test_argument_errors():
    f = lambda x, y: (x * y).sum()
    with pytest.raises(ValueError, match=r"grad: argnums 2 is out of range for a function called with 2"):
        grad(f, 2)(1.0, 2.0)
    with pytest.raises(ValueError, match=r"grad: repeated position in argnums \(0, -2\)"):
        grad(f, (0, -2))(1.0, 2.0)
    with pytest.raises(TypeError, match="grad: argnums must be an int or a tuple of ints, got True"):
        grad(f, True)(1.0, 2.0)
    with pytest.raises(ValueError, match="jacobian: argnums is empty"):
        jacobian(f, ())(1.0, 2.0)
    with pytest.raises(ValueError, match=r"grad: f must return a scalar \(one element\).*shape \(3,\)"):
        grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(TypeError, match="value_and_grad: f must return a Tensor or a Value, got float"):
        value_and_grad(lambda x: 1.0)(2.0)
    with pytest.raises(
        TypeError,
        match=r"grad: argument 0 must hold real floating-point numbers"
        r".*int64 \(shape \(2,\)\)",
    ):
        grad(lambda x: x.sum())(Tensor(np.array([1, 2])))
    with pytest.raises(TypeError, match="grad: argument 0 must hold real floating-point numbers.*complex128"):
        grad(lambda x: x.sum())(np.array([1j]))
    with pytest.raises(ValueError, match="jacobian: mode must be 'reverse' or 'forward', got 'both'"):
        jacobian(f, mode="both")
