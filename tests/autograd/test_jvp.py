"""Forward mode: jvp's per-op tangent rules agree with the reverse-mode rules, op by op."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, Value, grad, jacobian, jvp, maximum, no_grad
from tests.support.transform_cases import TENSOR_CASES, VALUE_CASES, array, floats

CASES = TENSOR_CASES + VALUE_CASES
IDS = [f"{'Value' if c in VALUE_CASES else 'Tensor'} {c.name}" for c in CASES]
SETTINGS = settings(max_examples=25, deadline=None)


def tangents_for(draw, args):
    """One tangent per argument, of its shape (a float for a Value)."""
    return [draw(floats(-2, 2)) if isinstance(a, Value) else array(draw, a.shape) for a in args]


def contract(jac, v):
    """J v for one input: sum over the input's axes (the last ones of J)."""
    return np.tensordot(jac, v, axes=np.ndim(v))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_jvp_matches_reverse_mode(case, data):
    """J v from jvp equals jacobian(f)(x) @ v, and for the scalar <f, w>, <grad, v>."""
    f, args = case.build(data.draw)
    vs = tangents_for(data.draw, args)
    argnums = tuple(range(len(args)))
    out, t = jvp(f, tuple(args), tuple(vs))
    with no_grad():
        value = f(*[a if isinstance(a, Value) else Tensor(a) for a in args])
    np.testing.assert_array_equal(out, value.data)
    assert np.shape(t) == np.shape(out)
    expected = sum(contract(j, v) for j, v in zip(jacobian(f, argnums)(*args), vs))
    np.testing.assert_allclose(t, expected, rtol=1e-12, atol=1e-12)

    w = array(data.draw, np.shape(out))  # weights make the scalar depend on every output

    def scalar(*xs):
        y = f(*xs)
        return y * float(w) if isinstance(y, Value) else (y * w).sum()

    _, t = jvp(scalar, tuple(args), tuple(vs))
    expected = sum(float(np.sum(np.multiply(g, v))) for g, v in zip(grad(scalar, argnums)(*args), vs))
    assert t == pytest.approx(expected, rel=1e-12, abs=1e-12)


@SETTINGS
@given(data=st.data())
def test_ties_split_tangents_as_gradients(data):
    """max/min/maximum share ties evenly in both modes, so J v still matches at a tie."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    v = data.draw(hnp.arrays(np.float64, shape, elements=floats(-2, 2)))
    for f in (lambda x: x.max(axis=-1), lambda x: x.min(), lambda x: maximum(x, 0.0) + x.abs()):
        _, t = jvp(f, (x,), (v,))
        np.testing.assert_allclose(t, contract(jacobian(f)(x), v), rtol=1e-12, atol=1e-12)


def test_jvp_known_values():
    x = np.array([0.3, -1.2])
    out, t = jvp(lambda x: x.sin() * x, (x,), (np.array([1.0, 2.0]),))
    np.testing.assert_allclose(out, np.sin(x) * x, rtol=1e-15)
    np.testing.assert_allclose(t, (np.cos(x) * x + np.sin(x)) * [1.0, 2.0], rtol=1e-14)
    out, t = jvp(lambda a, b: a * b.exp(), (Value(2.0), Value(0.5)), (1.0, -1.0))
    assert isinstance(out, float) and isinstance(t, float)
    assert t == pytest.approx(np.exp(0.5) - 2.0 * np.exp(0.5), rel=1e-15)


def test_jvp_runs_no_backward_pass_and_records_no_graph():
    seen = []

    def f(x):
        y = x.tanh()
        seen.append(y)
        return y.sum()

    _, t = jvp(f, (np.ones(3),), (np.ones(3),))
    assert not seen[0].requires_grad and seen[0]._op is None  # nothing recorded
    assert t == pytest.approx(3 * (1 - np.tanh(1.0) ** 2), rel=1e-15)


def test_jvp_bare_arguments_and_constant_output():
    out, t = jvp(lambda x: x * 2, 1.5, 1.0)
    assert out == 3.0 and t == 2.0
    w = Tensor(np.ones(2))
    out, t = jvp(lambda x: w * 3, (np.ones(2),), (np.ones(2),))  # f ignores x
    np.testing.assert_array_equal(t, [0.0, 0.0])


def test_forward_over_reverse_gives_hessian_vector_products():
    x = np.array([0.5, -0.3, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    f = lambda x: (x.tanh() * x[::-1]).sum() + x[[0, 0, 2]].exp().sum()  # scatter's jvp too
    _, hv = jvp(grad(f), (x,), (v,))
    from autograd import hessian

    np.testing.assert_allclose(hv, hessian(f)(x) @ v, rtol=1e-12, atol=1e-14)


def test_jvp_errors():
    with pytest.raises(ValueError, match=r"jvp: tangent 0 has shape \(2,\) but primal 0 has shape \(3,\)"):
        jvp(lambda x: x, (np.zeros(3),), (np.zeros(2),))
    with pytest.raises(ValueError, match="jvp: 2 primal"):
        jvp(lambda x, y: x, (1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match="jvp: f must return a Tensor or a Value, got str"):
        jvp(lambda x: "no", (1.0,), (1.0,))
    with pytest.raises(NotImplementedError, match="jvp: forward mode must be the outermost"):
        grad(lambda x: jvp(lambda y: y * y, (x,), (1.0,))[0])(2.0)


def test_value_tangents_at_singular_points_follow_ieee():
    """Python floats raise on x / 0 where NumPy gives inf: the tangent rules must not crash."""
    with np.errstate(all="ignore"):
        assert jvp(lambda v: v.log(), (Value(0.0),), (1.0,)) == (-np.inf, np.inf)
        out, t = jvp(lambda a, b: a / b, (Value(1.0), Value(0.0)), (1.0, 1.0))
    assert out == np.inf and t == -np.inf  # the tangent of a forward Python refused too
