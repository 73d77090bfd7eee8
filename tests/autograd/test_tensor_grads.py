"""Every differentiable Tensor op: gradient == central differences on hypothesis inputs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

from autograd import Tensor, concatenate, linear, maximum, minimum, stack, where
from tests.support.gradients import central_difference

SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(shape, lo=0.2, hi=2.0):
    """Values with |x| in [lo, hi]: keeps kinks (relu, abs, clip) and poles out of reach."""
    return st.tuples(arrays(np.float64, shape, elements=floats(lo, hi)), arrays(np.bool_, shape)).map(
        lambda ab: np.where(ab[1], ab[0], -ab[0])
    )


def check_grads(fn, *arrays_in, rtol=1e-6, atol=1e-8):
    """Compare reverse mode with central differences for sum(fn(...) * w), w fixed and random."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays_in]
    out = fn(*tensors)
    w = np.random.default_rng(0).normal(size=out.shape)
    (out * w).sum().backward()
    numeric = central_difference(lambda *xs: float(np.sum(fn(*map(Tensor, xs)).data * w)), arrays_in)
    for t, n in zip(tensors, numeric):
        assert t.grad.shape == t.shape
        np.testing.assert_allclose(t.grad, n, rtol=rtol, atol=atol)


UNARY = {
    "exp": (Tensor.exp, away_from_zero),
    "log": (Tensor.log, lambda s: arrays(np.float64, s, elements=floats(0.3, 3))),
    "sqrt": (Tensor.sqrt, lambda s: arrays(np.float64, s, elements=floats(0.3, 3))),
    "abs": (Tensor.abs, away_from_zero),
    "sin": (Tensor.sin, away_from_zero),
    "cos": (Tensor.cos, away_from_zero),
    "tanh": (Tensor.tanh, away_from_zero),
    "sigmoid": (Tensor.sigmoid, away_from_zero),
    "relu": (Tensor.relu, away_from_zero),
    "neg": (Tensor.__neg__, away_from_zero),
    "clip": (
        lambda t: t.clip(-1.0, 1.0),  # values kept off the bounds (kinks)
        lambda s: away_from_zero(s).map(lambda x: np.where(np.abs(np.abs(x) - 1) < 0.05, x / 2, x)),
    ),
    "square": (lambda t: t**2, away_from_zero),
    "cube_root_abs": (lambda t: t.abs() ** (1 / 3), away_from_zero),
    "rpow": (lambda t: 2.0**t, away_from_zero),
    "rsub": (lambda t: 1.0 - t, away_from_zero),
    "rdiv": (lambda t: 1.0 / t, away_from_zero),
    "softmax": (lambda t: t.softmax(axis=-1) if t.ndim else t.exp(), away_from_zero),
    "log_softmax": (lambda t: t.log_softmax(axis=0) if t.ndim else t.exp(), away_from_zero),
    "T": (lambda t: t.T, away_from_zero),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_ops(name, data):
    fn, values = UNARY[name]
    x = data.draw(values(data.draw(SHAPES)))
    check_grads(fn, x)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs() ** b,
    "maximum": maximum,
    "minimum": minimum,
    "where": lambda a, b: where(a.data > 0, a, b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_ops_broadcasting(name, data):
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    a = data.draw(away_from_zero(shapes[0], 0.5, 2.0))
    b = data.draw(away_from_zero(shapes[1], 0.5, 2.0))
    if name in ("maximum", "minimum"):
        b = b * 0.7  # no ties: |a| >= 0.5 and b is scaled, so a == b is (almost) impossible
        if np.any(np.isclose(*np.broadcast_arrays(a, b), atol=1e-3)):
            return
    check_grads(BINARY[name], a, b)


@given(data=st.data())
def test_binary_ops_with_ndarray_and_number_operands(data):
    shape = data.draw(SHAPES)
    x = data.draw(away_from_zero(shape))
    c = data.draw(away_from_zero(shape))
    check_grads(lambda t: (c - t) * 3.0 / (t * c + 5.0) + c**2 - 2.0 * t, x)


REDUCTIONS = ["sum", "mean", "max", "min", "logsumexp"]


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data())
def test_reductions(name, data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    # distinct values so max/min have no ties here (ties are tested on their own)
    x = (
        np.random.default_rng(data.draw(st.integers(0, 1000)))
        .permutation(np.linspace(-2, 2, int(np.prod(shape))))
        .reshape(shape)
    )
    axis = data.draw(
        st.none()
        | st.integers(-len(shape), len(shape) - 1)
        | st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)
    )
    keepdims = data.draw(st.booleans())
    check_grads(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x)


def test_max_and_min_split_the_gradient_evenly_among_ties():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = Tensor(np.array([1.0, 1.0, 4.0]), requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad, [0.5, 0.5, 0])
    a, b = Tensor(np.array([2.0]), requires_grad=True), Tensor(np.array([2.0]), requires_grad=True)
    maximum(a, b).sum().backward()
    assert a.grad[0] == b.grad[0] == 0.5


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (3, 4)),
    ((3,), (2, 3, 4)),
    ((2, 1, 2, 3), (3, 3, 2)),
    ((4, 3), (2, 3, 1)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@given(seed=st.integers(0, 10_000))
def test_matmul(shapes, seed):
    rng = np.random.default_rng(seed)
    check_grads(lambda a, b: a @ b, rng.normal(size=shapes[0]), rng.normal(size=shapes[1]))


@pytest.mark.parametrize("x_shape", [(3, 4), (4,), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("with_bias", [True, False])
@given(seed=st.integers(0, 10_000))
def test_linear(x_shape, with_bias, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=(5, 4)), rng.normal(size=5)
    if with_bias:
        check_grads(lambda x, w, b: linear(x, w, b), x, w, b)
        np.testing.assert_allclose(linear(Tensor(x), Tensor(w), Tensor(b)).data, x @ w.T + b)
    else:
        check_grads(lambda x, w: linear(x, w), x, w)


@given(
    rows=st.integers(1, 24),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 24),
    with_bias=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_linear_either_way_blas_is_handed_the_product(rows, n_in, n_out, with_bias, seed):
    """A batch with fewer rows than outputs is multiplied as w @ x.T (tensor_ops.product_transposed),
    others as x @ w.T: the same values, gradients and row-major layout either way."""
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(rows, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    args = (x, w, b) if with_bias else (x, w)
    out = linear(*map(Tensor, args)).data
    assert out.flags.c_contiguous and out.shape == (rows, n_out)
    np.testing.assert_allclose(out, x @ w.T + b if with_bias else x @ w.T, rtol=1e-12, atol=1e-12)
    check_grads(lambda *ts: linear(*ts), *args)


@pytest.mark.parametrize("rows", [3, 12], ids=["x @ w.T", "w @ x.T"])
def test_linear_result_dtype_is_the_products_either_way(rows):
    # the bias is added into the product's dtype, as `out += b` would: a float64 bias does not
    # promote a float32 layer
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(rows, 4)).astype(np.float32), rng.normal(size=(20, 4)).astype(np.float32)
    b = rng.normal(size=20)
    out = linear(Tensor(x), Tensor(w), Tensor(b)).data
    expected = x @ w.T
    expected += b
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert linear(Tensor(x.astype(np.float64)), Tensor(w), Tensor(b)).data.dtype == np.float64


def test_linear_checks_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(3, 4\) does not fit a weight of shape \(5, 3\)"):
        linear(Tensor(np.ones((3, 4))), Tensor(np.ones((5, 3))))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(4,\)"):
        linear(Tensor(np.ones((3, 4))), Tensor(np.ones((5, 4))), Tensor(np.ones(4)))


@given(data=st.data())
def test_reshape_and_transpose(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=4, max_side=3))
    x = data.draw(away_from_zero(shape))
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    check_grads(lambda t: t.transpose(*axes).reshape(-1) * 2.0, x)
    check_grads(lambda t: t.reshape(shape[::-1]).transpose(), x)


INDICES = [
    (slice(1, None),),
    (0,),
    (Ellipsis, 1),
    (None, slice(None, None, -1)),
    (np.array([0, 2, 0, 0]),),  # repeated integer indices accumulate
    (np.array([1, 1]), np.array([0, 0])),
    (np.array([[True, False, True], [False, True, True], [True, True, False]]),),
    (slice(None), np.array([2, 2, 1])),
]


@pytest.mark.parametrize("index", INDICES, ids=range(len(INDICES)))
@given(seed=st.integers(0, 10_000))
def test_getitem(index, seed):
    x = np.random.default_rng(seed).normal(size=(3, 3))
    check_grads(lambda t: t[index], x)


def test_getitem_repeated_indices_accumulate_exactly():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[np.array([0, 0, 0, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 0, 1])


@given(data=st.data())
def test_concatenate_and_stack(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a, b, c = (data.draw(away_from_zero(shape)) for _ in range(3))
    check_grads(lambda x, y, z: concatenate([x, y * y, z], axis=axis), a, b, c)
    check_grads(lambda x, y, z: stack([x, y * y, z], axis=axis), a, b, c)


def test_graph_reusing_a_node_sums_its_gradient_paths():
    x = np.array([0.5, -1.5, 2.0])
    check_grads(lambda t: (t * t).tanh() * t + t.exp() * t.sin(), x)


@given(data=st.data())
def test_float32_stays_float32_forward_and_backward(data):
    shape = data.draw(SHAPES)
    x = Tensor(data.draw(away_from_zero(shape)).astype(np.float32), requires_grad=True)
    y = ((x * 2.0 + 1).tanh() ** 2 / 3.0 + x.sigmoid() - 0.5 * x).exp()
    out = y.sum() + (x.reshape(-1) @ x.reshape(-1)) + y.logsumexp()
    assert y.dtype == np.float32 and out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32
