"""The shared graph helpers: engine.raw_vjp (a node's op rule on raw data, IEEE at a division by
zero) against central differences and closed forms, and scope's path."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, Value, linear, scope
from autograd.engine import MODE, raw_vjp
from autograd.graph_reading import local_derivatives, node_vjp

finite = st.floats(-3, 3, allow_nan=False)


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(1, 3), ins=st.integers(1, 3), outs=st.integers(1, 3), data=st.data())
def test_raw_vjp_of_a_three_input_op_matches_central_differences(rows, ins, outs, data):
    x, w, b = (
        data.draw(hnp.arrays(np.float64, shape, elements=finite)) for shape in ((rows, ins), (outs, ins), (outs,))
    )
    out = linear(Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True))
    g = data.draw(hnp.arrays(np.float64, (rows, outs), elements=finite))
    grads = raw_vjp(out, g)
    eps = 1e-6
    for k, array in enumerate((x, w, b)):
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            bumped = [a.copy() for a in (x, w, b)], [a.copy() for a in (x, w, b)]
            bumped[0][k][index] += eps
            bumped[1][k][index] -= eps
            up, down = (np.sum(g * (p[0] @ p[1].T + p[2])) for p in bumped)
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-6, atol=1e-6)


def test_raw_vjp_gives_ieee_results_where_python_floats_refuse():
    x = Value(0.0)
    y = x.sqrt()  # d/dx = 0.5 / sqrt(x): Python raises at 0, IEEE gives inf
    (pg,) = raw_vjp(y, 1.0)
    assert pg == math.inf
    assert local_derivatives(y) == [math.inf]


def test_node_vjp_fits_a_broadcast_gradient_to_the_parent():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.arange(3.0), requires_grad=True)
    grads = node_vjp(a * b, np.ones((2, 3)))
    np.testing.assert_array_equal(grads[1], np.full(3, 2.0))  # summed over the broadcast rows
    np.testing.assert_array_equal(grads[0], np.broadcast_to(np.arange(3.0), (2, 3)))


def test_scope_gives_its_path_and_restores_it_after_an_error():
    with scope("encoder") as outer:
        with scope(3) as inner:
            assert MODE.scope == ("encoder", "3") == inner
        assert outer == ("encoder",)
    try:
        with scope("failing"):
            raise KeyError("x")
    except KeyError:
        pass
    assert MODE.scope == ()
