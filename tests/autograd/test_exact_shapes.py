"""Op.exact_shapes: an op that claims its rules keep every input's shape lets the backward pass
test only the dtype per edge. Every claim is checked here on generated shapes and dtypes, and the
gradients that still need a dtype fitted get it."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn
from autograd import Tensor, linear, ops
from autograd.engine import Op, apply, raw_vjp
from autograd.tensor_ops import Linear, SoftmaxCrossEntropy

FLOAT_DTYPES = st.sampled_from([np.float16, np.float32, np.float64])


def _ops_claiming_exact_shapes():
    claimed, stack = set(), [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.exact_shapes and sub.forward is not Op.forward:  # not an abstract base
                claimed.add(sub)
    return sorted(claimed, key=lambda op: op.__name__)


def _claimed_case(op, data):
    """A node made by `op` on generated inputs that require grad, its inputs and a gradient g."""
    dtype = data.draw(FLOAT_DTYPES)
    if issubclass(op, ops.Elementwise):
        shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
        # in (0.5, 2): inside the domain of log, sqrt, log1p and away from relu's and abs's kink
        x = Tensor(data.draw(hnp.arrays(dtype, shape, elements=st.floats(0.5, 2, width=16))), requires_grad=True)
        inputs = (x,)
        out = apply(op, None, x)
    elif op is SoftmaxCrossEntropy:
        rows, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
        logits, weights = (
            Tensor(
                data.draw(hnp.arrays(dtype, (rows, classes), elements=st.floats(-2, 2, width=16))), requires_grad=True
            )
            for _ in range(2)
        )
        inputs = (logits, weights)
        reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
        out = nn.functional.cross_entropy(logits, weights, reduction=reduction)
    elif op is Linear:
        # leading shapes of 0 to 2 dims, up to 12 rows: both ways linear hands BLAS the product
        lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=12))
        n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 12))
        shapes = [(*lead, n_in), (n_out, n_in)] + ([(n_out,)] if data.draw(st.booleans()) else [])
        inputs = tuple(
            Tensor(data.draw(hnp.arrays(dtype, shape, elements=st.floats(-2, 2, width=16))), requires_grad=True)
            for shape in shapes
        )
        out = linear(*inputs)
    else:
        raise AssertionError(f"{op.__name__} claims exact_shapes: add a case for it to this test")
    assert out._op is op
    g = data.draw(hnp.arrays(out._data.dtype, out._data.shape, elements=st.floats(-2, 2, width=16)))
    return out, inputs, g


def test_the_claims_cover_the_training_step_ops_and_leave_out_broadcasting_ones():
    claimed = _ops_claiming_exact_shapes()
    assert ops.Relu in claimed and SoftmaxCrossEntropy in claimed and Linear in claimed
    # these broadcast their inputs (or an array exponent in params): they must be fitted per edge
    for op in (ops.Add, ops.Sub, ops.Mul, ops.Div, ops.Pow, ops.PowConst):
        assert op not in claimed


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_claim_holds_for_its_rules_on_raw_data(data):
    for op in _ops_claiming_exact_shapes():
        out, inputs, g = _claimed_case(op, data)
        grads = raw_vjp(out, g)
        assert len(grads) == len(inputs)
        for x, pg in zip(inputs, grads):
            assert np.shape(pg) == x.shape, (op.__name__, np.shape(pg), x.shape)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_claim_holds_for_its_recorded_rules(data):
    for op in _ops_claiming_exact_shapes():
        out, inputs, g = _claimed_case(op, data)
        out.backward(Tensor(g), create_graph=True)
        for x in inputs:
            assert x.grad.shape == x.shape and x.grad.dtype == x.dtype, (op.__name__, x.grad.shape, x.shape)


def test_a_gradient_of_an_equal_dtype_that_is_not_the_same_object_is_still_fitted():
    # a big-endian leaf: relu's rule gives a native-order gradient, which .grad gets in the leaf's dtype
    x = Tensor(np.array([1.0, -2.0, 3.0], dtype=">f8"), requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.dtype == np.dtype(">f8")
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


def test_an_op_without_the_claim_still_has_its_broadcast_summed():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (Tensor(np.ones((4, 3), dtype=np.float32)) * w).relu().sum().backward()
    assert w.grad.shape == (3,) and w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, [4.0, 4.0, 4.0])


def test_a_float32_layer_into_float64_gradients_is_fitted_to_each_input():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones((4, 3)), requires_grad=True)  # float64: the product promotes
    linear(x, w).relu().sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 4.0, dtype=np.float32))
