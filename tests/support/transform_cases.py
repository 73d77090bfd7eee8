"""Every op of Tensor and Value as a hypothesis case, shared by the transform tests.

A case is `Case(name, build)`: `build(draw)` draws inputs and returns
`(f, args)`, where f maps nodes to one node and args are float64 ndarrays
(Tensor cases) or Values (Value cases). Inputs keep clear of the points where
an op is not differentiable (relu and abs at 0, clip's bounds, ties of
max/min/maximum/minimum) and of the edges of its domain, so the cases also
serve the finite-difference checks; `test_jvp.py` tests ties on purpose.
"""

from collections import namedtuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, Value, broadcast_to, concatenate, linear, maximum, minimum, stack, where
from autograd.engine import apply
from autograd.tensor_ops import CrossEntropyParams, SoftmaxCrossEntropy

Case = namedtuple("Case", "name build")

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
NONEMPTY = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def rng(draw):
    """Values come from a seeded generator: hypothesis draws the shapes, axes, indices and seeds
    (drawing every element through hypothesis would cost most of the tests' time)."""
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def array(draw, shape, lo=-2.0, hi=2.0):
    return rng(draw).uniform(lo, hi, shape)


def grid(draw, shape, offset=0.05, unique=False):
    """Values k/10 + offset: with offset 0.05, at least 0.05 from 0, +-0.5 and from each other."""
    size = int(np.prod(shape))
    k = rng(draw).choice(40, size, replace=not unique) - 20
    return (k / 10 + offset).reshape(shape)


def nonzero(draw, shape):
    """Magnitudes in [0.5, 2] with either sign: safe denominators."""
    return array(draw, shape, 0.5, 2.0) * rng(draw).choice([-1.0, 1.0], shape)


def axis_and_keepdims(draw, ndim):
    axis = draw(st.none() | st.integers(-ndim, ndim - 1) | hnp.valid_tuple_axes(ndim, min_size=1))
    return axis, draw(st.booleans())


def broadcast_pair(draw):
    return draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes


# Builders -------------------------------------------------------------------------
def unary(name, fn, lo=-2.0, hi=2.0, kinked=False, as_value=False):
    def build(draw):
        shape = () if as_value else draw(SHAPES)
        x = grid(draw, shape) if kinked else array(draw, shape, lo, hi)
        return fn, [Value(float(x)) if as_value else x]

    return Case(name, build)


def binary(name, fn, left=None, right=None, as_value=False):
    def build(draw):
        sa, sb = ((), ()) if as_value else broadcast_pair(draw)
        xs = [(make or array)(draw, shape) for make, shape in ((left, sa), (right, sb))]
        return fn, [Value(float(x)) for x in xs] if as_value else xs

    return Case(name, build)


def positive(draw, shape):
    return array(draw, shape, 0.2, 2.0)


# The ops Tensor and Value share: (name, f, low, high, kinked) and (name, f, left, right).
ELEMENTWISE = [
    ("exp", lambda x: x.exp(), -2.0, 2.0, False),
    ("log", lambda x: x.log(), 0.2, 3.0, False),
    ("sqrt", lambda x: x.sqrt(), 0.2, 3.0, False),
    ("sin", lambda x: x.sin(), -2.0, 2.0, False),
    ("cos", lambda x: x.cos(), -2.0, 2.0, False),
    ("tanh", lambda x: x.tanh(), -2.0, 2.0, False),
    ("sigmoid", lambda x: x.sigmoid(), -2.0, 2.0, False),
    ("neg", lambda x: -x, -2.0, 2.0, False),
    ("relu", lambda x: x.relu(), -2.0, 2.0, True),
    ("abs", lambda x: x.abs(), -2.0, 2.0, True),
    ("pow 3", lambda x: x**3, -2.0, 2.0, False),
    ("pow -1.5", lambda x: x**-1.5, 0.2, 3.0, False),
    ("rpow", lambda x: 2**x, -2.0, 2.0, False),
    ("numbers", lambda x: (1 - x) * 3 + 2 / (x + 5) - x / 4, -2.0, 2.0, False),
]
BINARY = [
    ("add", lambda a, b: a + b, None, None),
    ("sub", lambda a, b: a - b, None, None),
    ("mul", lambda a, b: a * b, None, None),
    ("div", lambda a, b: a / b, None, nonzero),
    ("pow", lambda a, b: a**b, positive, None),
    ("with numbers", lambda a, b: (a + 1.5) * b - 2.0 / b, None, nonzero),
]


def reduction(name, method):
    def build(draw):
        shape = draw(NONEMPTY)
        axis, keepdims = axis_and_keepdims(draw, len(shape))
        x = grid(draw, shape, unique=True)  # no ties
        return (lambda x: getattr(x, method)(axis=axis, keepdims=keepdims)), [x]

    return Case(name, build)


def normalizer(name, method):
    def build(draw):
        shape = draw(NONEMPTY)
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        return (lambda x: getattr(x, method)(axis)), [array(draw, shape)]

    return Case(name, build)


MATMUL_SHAPES = {  # (left shape, right shape) from sizes b, m, n, k
    "1-D @ 1-D": lambda b, m, n, k: ((n,), (n,)),
    "1-D @ 2-D": lambda b, m, n, k: ((n,), (n, k)),
    "2-D @ 1-D": lambda b, m, n, k: ((m, n), (n,)),
    "2-D @ 2-D": lambda b, m, n, k: ((m, n), (n, k)),
    "batched": lambda b, m, n, k: ((b, m, n), (b, n, k)),
    "batch broadcast": lambda b, m, n, k: ((b, 1, m, n), (b, n, k)),
    "1-D @ batched": lambda b, m, n, k: ((n,), (b, n, k)),
    "batched @ 1-D": lambda b, m, n, k: ((b, m, n), (n,)),
}


def matmul_case(kind):
    def build(draw):
        sa, sb = MATMUL_SHAPES[kind](*draw(st.tuples(*[st.integers(1, 3)] * 4)))
        return (lambda a, b: a @ b), [array(draw, sa), array(draw, sb)]

    return Case(f"matmul {kind}", build)


def linear_case(draw):
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    xs = [array(draw, lead + (n_in,)), array(draw, (n_out, n_in))]
    if draw(st.booleans()):
        xs.append(array(draw, (n_out,)))
    return (lambda x, w, *b: linear(x, w, *b)), xs


def weighted_sum_case(draw):
    n = draw(st.integers(1, 3))
    values = [Value(float(v)) for v in array(draw, 2 * n + 1)]
    return (lambda *v: Value.weighted_sum(v[:n], v[n : 2 * n], v[2 * n])), values


def reshape_case(draw):
    shape = draw(SHAPES)
    new = draw(st.permutations(shape)) + [1] if shape else [1, 1]
    return (lambda x: x.reshape(*new)), [array(draw, shape)]


def transpose_case(draw):
    shape = draw(SHAPES)
    axes = draw(st.permutations(range(len(shape))))
    return (lambda x: x.transpose(*axes)), [array(draw, shape)]


def basic_index_case(draw):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True))
    return (lambda x: x[index]), [array(draw, shape)]


def integer_index_case(draw):
    """Repeated integer indices must add up their gradients."""
    shape = draw(NONEMPTY)
    index = draw(hnp.arrays(np.intp, draw(st.integers(1, 5)), elements=st.integers(-shape[0], shape[0] - 1)))
    return (lambda x: x[index]), [array(draw, shape)]


def mask_case(draw):
    shape = draw(NONEMPTY)
    mask = draw(hnp.arrays(np.bool_, shape))
    return (lambda x: x[mask]), [array(draw, shape)]


def concatenate_case(draw):
    shape = draw(NONEMPTY)
    axis = draw(st.integers(0, len(shape) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    xs = [array(draw, shape[:axis] + (n,) + shape[axis + 1 :]) for n in sizes]
    return (lambda *ts: concatenate(ts, axis)), xs


def stack_case(draw):
    shape = draw(SHAPES)
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [array(draw, shape) for _ in range(draw(st.integers(1, 3)))]
    return (lambda *ts: stack(ts, axis)), xs


def where_case(draw):
    sa, sb = broadcast_pair(draw)
    cond = draw(hnp.arrays(np.bool_, np.broadcast_shapes(sa, sb)))
    return (lambda a, b: where(cond, a, b)), [array(draw, sa), array(draw, sb)]


def broadcast_to_case(draw):
    shape = draw(SHAPES)
    target = draw(hnp.broadcastable_shapes(shape, max_dims=4, max_side=3).map(lambda s: np.broadcast_shapes(s, shape)))
    return (lambda x: broadcast_to(x, target)), [array(draw, shape)]


def softmax_cross_entropy_case(draw, target_needs_grad=True):
    """nn.functional.cross_entropy's fused op: (n, k) logits and nonnegative target weights
    (rows need not sum to 1), summed and scaled, or per row. With target_needs_grad=False
    the target is a constant one-hot (class labels), so only the logits' rule runs."""
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    params = CrossEntropyParams(draw(st.sampled_from([1.0, 0.5, 1.0 / n])), draw(st.booleans()))
    z = array(draw, (n, k))
    if target_needs_grad:
        return (lambda z, t: apply(SoftmaxCrossEntropy, params, z, t)), [z, array(draw, (n, k), 0.1, 1.0)]
    one_hot = Tensor(np.eye(k)[rng(draw).integers(0, k, n)])
    return (lambda z: apply(SoftmaxCrossEntropy, params, z, one_hot)), [z]


TENSOR_CASES = [
    *[unary(*op) for op in ELEMENTWISE],
    unary("clip", lambda x: x.clip(-0.5, 0.5), kinked=True),
    *[binary(*op) for op in BINARY],
    binary("maximum", maximum, left=grid, right=lambda draw, s: grid(draw, s, offset=0.02)),
    binary("minimum", minimum, left=grid, right=lambda draw, s: grid(draw, s, offset=0.02)),
    Case("where", where_case),
    *[matmul_case(kind) for kind in MATMUL_SHAPES],
    Case("linear", linear_case),
    reduction("sum", "sum"),
    reduction("mean", "mean"),
    reduction("max", "max"),
    reduction("min", "min"),
    reduction("logsumexp", "logsumexp"),
    normalizer("softmax", "softmax"),
    normalizer("log_softmax", "log_softmax"),
    Case("softmax_cross_entropy", softmax_cross_entropy_case),
    Case("softmax_cross_entropy labels", lambda draw: softmax_cross_entropy_case(draw, False)),
    Case("reshape", reshape_case),
    Case("transpose", transpose_case),
    Case("getitem basic", basic_index_case),
    Case("getitem integers", integer_index_case),
    Case("getitem mask", mask_case),
    Case("concatenate", concatenate_case),
    Case("stack", stack_case),
    Case("broadcast_to", broadcast_to_case),
]


VALUE_CASES = [
    *[unary(*op, as_value=True) for op in ELEMENTWISE],
    *[binary(*op, as_value=True) for op in BINARY],
    Case("weighted_sum", weighted_sum_case),
]
