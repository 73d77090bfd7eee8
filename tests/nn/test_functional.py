"""nn.functional: activations and losses against central differences and the notes' closed forms."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import nn
from autograd import Tensor
from autograd.engine import apply
from autograd.tensor_ops import CrossEntropyParams, SoftmaxCrossEntropy
from nn import functional as F
from nn._erf import erf
from tests.support.gradients import assert_input_grads, central_difference

shapes = array_shapes(min_dims=1, max_dims=3, max_side=4)
seeds = st.integers(0, 2**32 - 1)


def away_from(x, kinks, gap=1e-3):
    """x with entries within `gap` of a kink moved off it (central differences straddle kinks badly)."""
    x = x.copy()
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + 10 * gap
    return x


def sample(shape, seed, scale=2.0, kinks=()):
    return away_from(np.random.default_rng(seed).normal(scale=scale, size=shape), kinks)


ACTIVATIONS = [
    (F.sigmoid, ()),
    (F.tanh, ()),
    (F.relu, (0,)),
    (F.leaky_relu, (0,)),
    (F.elu, (0,)),
    (F.softplus, ()),
    (F.silu, ()),
    (lambda x: F.silu(x, beta=2.5), ()),
    (F.gelu, ()),
    (lambda x: F.gelu(x, approximate="tanh"), ()),
    (lambda x: F.gelu(x, approximate="sigmoid"), ()),
    (F.hard_sigmoid, (-2, 2)),
    (F.hard_tanh, (-1, 1)),
    (erf, ()),
    (lambda x: F.softmax(x, axis=-1), ()),
    (lambda x: F.softmax(x, axis=0, beta=3.0), ()),
    (F.log_softmax, ()),
]


@pytest.mark.parametrize("fn, kinks", ACTIVATIONS)
@given(shape=shapes, seed=seeds)
def test_activation_gradients_match_central_differences(fn, kinks, shape, seed):
    assert_input_grads(fn, sample(shape, seed, kinks=kinks))


@given(shape=shapes, seed=seeds)
def test_activation_modules_compute_their_functions(shape, seed):
    x = Tensor(sample(shape, seed))
    pairs = [
        (nn.Sigmoid(), F.sigmoid),
        (nn.Tanh(), F.tanh),
        (nn.ReLU(), F.relu),
        (nn.LeakyReLU(), F.leaky_relu),
        (nn.ELU(), F.elu),
        (nn.Softplus(), F.softplus),
        (nn.SiLU(), F.silu),
        (nn.GELU(), F.gelu),
        (nn.HardSigmoid(), F.hard_sigmoid),
        (nn.HardTanh(), F.hard_tanh),
        (nn.Softmax(), F.softmax),
        (nn.LogSoftmax(), F.log_softmax),
    ]
    for module, fn in pairs:
        np.testing.assert_array_equal(module(x).data, fn(x).data, err_msg=type(module).__name__)
    np.testing.assert_array_equal(nn.GELU("tanh")(x).data, F.gelu(x, approximate="tanh").data)
    np.testing.assert_array_equal(nn.LeakyReLU(0.2)(x).data, F.leaky_relu(x, 0.2).data)


def grad_at(fn, points):
    x = Tensor(np.asarray(points, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return x.grad


def test_definitions_follow_the_notes():
    x = np.array([-3.0, -1.5, -0.5, 0.0, 0.5, 1.5, 3.0])
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(F.sigmoid(x).data, sig, rtol=1e-15)
    np.testing.assert_allclose(F.hard_sigmoid(x).data, np.clip(0.25 * x + 0.5, 0, 1))
    np.testing.assert_allclose(F.hard_tanh(x).data, np.clip(x, -1, 1))
    np.testing.assert_allclose(F.leaky_relu(x).data, np.where(x > 0, x, 0.01 * x))
    np.testing.assert_allclose(F.elu(x).data, np.where(x > 0, x, np.expm1(x)), rtol=1e-12)
    np.testing.assert_allclose(F.softplus(x).data, np.log1p(np.exp(x)), rtol=1e-12)
    np.testing.assert_allclose(F.silu(x).data, x * sig, rtol=1e-15)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(F.gelu(x).data, exact, rtol=1e-14)
    np.testing.assert_allclose(F.tanh(x).data, 2 * F.sigmoid(2 * x).data - 1, atol=1e-15)


def test_derivatives_at_the_notable_points():
    assert grad_at(F.sigmoid, [0.0])[0] == 0.25  # the logistic's largest slope
    assert np.all(grad_at(F.sigmoid, np.linspace(-9, 9, 101)) <= 0.25)
    np.testing.assert_array_equal(grad_at(F.relu, [-1.0, 0.0, 1.0]), [0, 0, 1])  # relu'(0) = 0
    np.testing.assert_allclose(grad_at(F.leaky_relu, [-1.0, 0.0, 1.0]), [0.01, 0.01, 1])
    np.testing.assert_allclose(grad_at(F.elu, [-1.0, 0.0, 1.0]), [math.exp(-1), 1, 1])
    np.testing.assert_array_equal(grad_at(F.hard_sigmoid, [-3.0, -1.9, 0.0, 1.9, 3.0]), [0, 0.25, 0.25, 0.25, 0])
    np.testing.assert_array_equal(grad_at(F.hard_tanh, [-2.0, -0.5, 0.5, 2.0]), [0, 1, 1, 0])
    x = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(grad_at(erf, x), 2 / math.sqrt(math.pi) * np.exp(-x * x), rtol=1e-15)


def test_softplus_derivative_is_the_sigmoid_even_at_zero():
    x = np.concatenate([np.linspace(-30, 30, 61), [0.0]])
    np.testing.assert_allclose(grad_at(F.softplus, x), F.sigmoid(x).data, rtol=1e-12, atol=1e-300)


@pytest.mark.numerics
def test_softplus_and_logits_loss_stay_finite_for_huge_inputs():
    x = np.array([-1e4, -1000.0, 1000.0, 1e4])
    np.testing.assert_array_equal(F.softplus(x).data, [0, 0, 1000, 1e4])
    np.testing.assert_array_equal(grad_at(F.softplus, x), [0, 0, 1, 1])
    z = Tensor(np.array([-1e4, 1e4, -1e4, 1e4]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    loss.backward()
    assert loss.item() == 2e4  # the two confident mistakes cost |z| each
    np.testing.assert_array_equal(z.grad, [0, 0, -1, 1])  # sigmoid(z) - y


def test_swish_limits():
    x = np.linspace(-5, 5, 11)
    np.testing.assert_array_equal(F.silu(x, beta=0.0).data, x / 2)
    np.testing.assert_allclose(F.silu(x, beta=1e4).data, np.maximum(x, 0), atol=1e-12)
    assert F.swish is F.silu


def test_gelu_approximations_are_close_to_the_exact_form():
    x = np.linspace(-8, 8, 4001)
    exact = F.gelu(x).data
    assert np.abs(F.gelu(x, approximate="tanh").data - exact).max() < 1e-3
    # x sigmoid(1.702 x) is the cruder one: about 0.02 at worst (near |x| = 2)
    assert np.abs(F.gelu(x, approximate="sigmoid").data - exact).max() < 0.025
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(x, approximate="erf")


def test_erf_matches_math_erf_and_keeps_float32():
    x = np.linspace(-6, 6, 1001)
    np.testing.assert_array_equal(erf(Tensor(x)).data, [math.erf(v) for v in x])
    assert erf(Tensor(x.astype(np.float32))).dtype == np.float32


def test_erf_second_derivative_through_create_graph():
    x = Tensor(np.array([-0.7, 0.2, 1.3]), requires_grad=True)
    erf(x).sum().backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.sum().backward()
    d = x.data
    np.testing.assert_allclose(x.grad, -4 * d / math.sqrt(math.pi) * np.exp(-d * d), rtol=1e-13)


@given(shape=array_shapes(min_dims=1, max_dims=2, max_side=4), seed=seeds)
def test_softmax_of_two_classes_is_the_sigmoid_of_the_difference(shape, seed):
    z = np.random.default_rng(seed).normal(scale=3, size=shape + (2,))
    a = F.softmax(z, axis=-1).data
    np.testing.assert_allclose(a[..., 0], F.sigmoid(z[..., 0] - z[..., 1]).data, rtol=1e-12, atol=1e-15)


def test_softmax_jacobian_and_hardmax_limit():
    z = np.array([0.3, -1.2, 2.0, 0.9])
    a = F.softmax(z).data
    jac = np.stack([grad_at(lambda t, i=i: F.softmax(t)[i], z) for i in range(4)])
    np.testing.assert_allclose(jac, np.diag(a) - np.outer(a, a), atol=1e-15)
    np.testing.assert_allclose(F.softmax(z, beta=1e3).data, [0, 0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(F.softmax(z * 0).data, np.full(4, 0.25))


def test_sigmoid_or_neuron_of_the_notes():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    out = F.sigmoid(Tensor(x) @ np.array([20.0, 20.0]) - 10.0).data
    np.testing.assert_allclose(out, [4.54e-5, 0.99995, 0.99995, 1.0], rtol=1e-3)
    np.testing.assert_array_equal(out > 0.5, [False, True, True, True])


@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=3), k=st.integers(1, 3), seed=seeds)
def test_maxout_gradient_goes_to_the_winning_piece(shape, k, seed):
    x = np.random.default_rng(seed).normal(size=shape[:-1] + (shape[-1] * k,))
    out = F.maxout(x, k).data
    np.testing.assert_array_equal(out, x.reshape(*shape, k).max(axis=-1))
    g = grad_at(lambda t: F.maxout(t, k), x).reshape(*shape, k)
    np.testing.assert_array_equal(g, x.reshape(*shape, k) == out[..., None])
    assert_input_grads(lambda t: F.maxout(t, k), x)
    with pytest.raises(ValueError, match="maxout"):
        F.maxout(np.zeros((2, 5)), 2)


@given(shape=array_shapes(min_dims=2, max_dims=3, max_side=4), seed=seeds)
def test_prelu_gradients_for_input_and_slopes(shape, seed):
    rng = np.random.default_rng(seed)
    x = away_from(rng.normal(size=shape), (0,))
    assert_input_grads(F.prelu, x, np.array([0.3]))
    assert_input_grads(F.prelu, x, rng.uniform(0, 0.5, size=shape[1]))
    slopes = np.full(shape[1], 0.25)
    expected = np.where(x > 0, x, x * slopes.reshape(-1, *[1] * (x.ndim - 2)))
    np.testing.assert_allclose(F.prelu(x, slopes).data, expected)


def test_prelu_rejects_a_wrong_number_of_slopes():
    with pytest.raises(ValueError, match=r"prelu: 3 slopes .* shape \(2, 4\)"):
        F.prelu(np.zeros((2, 4)), np.ones(3))


# Losses ------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "half_sum"]


def reduce_np(per_item, reduction):
    return {"mean": per_item.mean(), "sum": per_item.sum(), "half_sum": 0.5 * per_item.sum()}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=shapes, seed=seeds)
def test_mse_loss(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    a, y = rng.normal(size=shape), rng.normal(size=shape)
    loss = F.mse_loss(a, Tensor(y), reduction=reduction)
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), reduce_np((a - y) ** 2, reduction), rtol=1e-12)
    assert_input_grads(lambda p, t: F.mse_loss(p, t, reduction=reduction), a, y)


def logits_and_labels(seed, batch, classes, scale=3.0):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=scale, size=(batch, classes)), rng.integers(0, classes, size=batch)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(batch=st.integers(1, 5), classes=st.integers(2, 5), seed=seeds)
def test_cross_entropy_with_labels_one_hot_and_probabilities(reduction, batch, classes, seed):
    z, labels = logits_and_labels(seed, batch, classes)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = reduce_np(-log_p[np.arange(batch), labels], reduction)
    one_hot = np.eye(classes)[labels]
    for target in (labels, Tensor(labels), one_hot, Tensor(one_hot)):
        loss = F.cross_entropy(z, target, reduction=reduction)
        assert loss.shape == ()
        np.testing.assert_allclose(
            loss.item(), expected, rtol=1e-12, atol=1e-14
        )  # a loss near 0 is a difference of O(1) terms
    np.testing.assert_allclose(F.nll_loss(log_p, labels, reduction=reduction).item(), expected, rtol=1e-12)
    probs = np.random.default_rng(seed).dirichlet(np.ones(classes), size=batch)
    np.testing.assert_allclose(
        F.cross_entropy(z, probs, reduction=reduction).item(),
        reduce_np(-(probs * log_p).sum(axis=1), reduction),
        rtol=1e-12,
    )
    assert_input_grads(lambda t: F.cross_entropy(t, labels, reduction=reduction), z)
    assert_input_grads(lambda t, p: F.cross_entropy(t, p, reduction=reduction), z, probs)
    assert_input_grads(lambda t: F.nll_loss(t, labels, reduction=reduction), log_p)


@pytest.mark.numerics
def test_cross_entropy_gradient_is_softmax_minus_one_hot_and_stable():
    z = Tensor(np.array([[1e4, 0.0, -1e4], [0.5, 0.2, -0.3]]), requires_grad=True)
    loss = F.cross_entropy(z, np.array([2, 0]), reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item()) and math.isclose(loss.item(), 2e4 + F.cross_entropy(z[1:], [0]).item())
    np.testing.assert_allclose(z.grad, F.softmax(z).data - np.eye(3)[[2, 0]], atol=1e-15)


def test_cross_entropy_of_a_single_sample_and_its_errors():
    z = np.array([0.1, 2.0, -1.0])
    np.testing.assert_allclose(F.cross_entropy(z, 1).item(), F.cross_entropy(z[None], [1]).item())
    with pytest.raises(ValueError, match="cross_entropy: label 3 is out of range for 3 classes"):
        F.cross_entropy(z[None], [3])
    with pytest.raises(ValueError, match="cross_entropy: label -1 is out of range"):
        F.cross_entropy(np.zeros((2, 3)), [0, -1])
    with pytest.raises(ValueError, match=r"nll_loss: 3 labels for a batch of 2"):
        F.nll_loss(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="cross_entropy: input must have shape"):
        F.cross_entropy(np.zeros((2, 3, 4)), [0, 1])
    with pytest.raises(ValueError, match="non-integral"):
        F.cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(np.zeros((2, 3)), [0, 1], reduction="average")


# cross_entropy is one op (autograd.tensor_ops.SoftmaxCrossEntropy): these check it against
# closed forms written with NumPy alone.
def np_log_softmax(z):
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


def softmax_cross_entropy(z, t, scale=1.0, reduce=True):
    """The fused op itself, for the per-row results that cross_entropy does not offer."""
    return apply(SoftmaxCrossEntropy, CrossEntropyParams(scale, reduce), z, t)


@given(batch=st.integers(1, 8), classes=st.integers(1, 6), seed=seeds)
def test_cross_entropy_is_the_composite_and_its_gradient_the_notes_delta(batch, classes, seed):
    """mean(logsumexp(z) - z_label), and d/dz = (softmax(z) - onehot) / n: the notes' a - y."""
    z, labels = logits_and_labels(seed, batch, classes)
    x = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(x, labels)
    composite = np.mean(np.logaddexp.reduce(z, axis=1) - z[np.arange(batch), labels])
    assert loss.shape == () and loss.dtype == np.float64
    np.testing.assert_allclose(loss.item(), composite, rtol=1e-12, atol=1e-14)
    loss.backward()
    one_hot = np.eye(classes)[labels]
    np.testing.assert_allclose(x.grad, (np.exp(np_log_softmax(z)) - one_hot) / batch, rtol=1e-12, atol=1e-15)
    assert loss._op is SoftmaxCrossEntropy and loss._parents[0] is x  # one node, no mean after it


@given(batch=st.integers(1, 5), classes=st.integers(1, 5), seed=seeds)
def test_softmax_cross_entropy_reductions_and_target_gradient(batch, classes, seed):
    """Per row ("none"), summed and scaled; targets are any nonnegative weights and get
    d/dt = -scale log softmax(z), the logits d/dz = scale (softmax(z) rowsum(t) - t)."""
    rng = np.random.default_rng(seed)
    z, t = rng.normal(scale=3.0, size=(batch, classes)), rng.uniform(0, 2, size=(batch, classes))
    log_p = np_log_softmax(z)
    per_row = -(t * log_p).sum(axis=1)
    rows = softmax_cross_entropy(Tensor(z), Tensor(t), reduce=False)
    assert rows.shape == (batch,)
    np.testing.assert_allclose(rows.data, per_row, rtol=1e-12, atol=1e-14)
    for scale in (1.0, 0.5, 1.0 / batch):
        x, w = Tensor(z, requires_grad=True), Tensor(t, requires_grad=True)
        loss = softmax_cross_entropy(x, w, scale)
        assert loss.shape == ()
        np.testing.assert_allclose(loss.item(), scale * per_row.sum(), rtol=1e-12, atol=1e-14)
        loss.backward()
        np.testing.assert_allclose(
            x.grad, scale * (np.exp(log_p) * t.sum(axis=1, keepdims=True) - t), rtol=1e-12, atol=1e-15
        )
        # log p near 0 is a difference of terms up to |log p|'s largest: rounding is absolute
        np.testing.assert_allclose(w.grad, -scale * log_p, rtol=1e-12, atol=1e-14 * np.abs(log_p).max())
    for reduce in (True, False):
        assert_input_grads(lambda a, b: softmax_cross_entropy(a, b, 0.5, reduce), z, t)
    # through cross_entropy: a probability Tensor that requires grad gets its gradient
    x, w = Tensor(z, requires_grad=True), Tensor(t, requires_grad=True)
    F.cross_entropy(x, w, reduction="sum").backward()
    np.testing.assert_allclose(w.grad, -log_p, rtol=1e-12, atol=1e-14 * np.abs(log_p).max())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_keeps_float32(reduction):
    rng = np.random.default_rng(0)
    z, labels = rng.normal(scale=3.0, size=(7, 4)), rng.integers(0, 4, size=7)
    x = Tensor(z.astype(np.float32), requires_grad=True)
    for target in (labels, np.eye(4, dtype=np.float32)[labels]):
        x.grad = None
        loss = F.cross_entropy(x, target, reduction=reduction)
        loss.backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32
        exact = F.cross_entropy(Tensor(z, requires_grad=True), labels, reduction=reduction)
        np.testing.assert_allclose(loss.item(), exact.item(), rtol=1e-6)
    probs = Tensor(np.full((7, 4), 0.25, dtype=np.float32), requires_grad=True)
    F.cross_entropy(x, probs).backward()
    assert probs.grad.dtype == np.float32
    # a float64 target: the result's dtype is NumPy's for t * z, the gradient keeps the input's
    x.grad = None
    loss = F.cross_entropy(x, np.full((7, 4), 0.25))
    loss.backward()
    assert loss.dtype == np.float64 and x.grad.dtype == np.float32


@pytest.mark.numerics
def test_cross_entropy_with_minus_infinity_logits():
    """An -inf logit adds nothing where the target is 0 (no nan, not even a warning), and
    where the target puts mass on it the loss is +inf, as -log 0 is."""
    z = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf]])
    log_p = z - np.log([[1 + np.e], [np.exp(2) + np.exp(0.5)]])  # -inf where z is
    quiet = dict(over="raise", invalid="raise", divide="raise")
    for target in ([0, 1], np.eye(3)[[2, 0]], np.array([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])):
        t = np.eye(3)[target] if isinstance(target, list) else target
        x = Tensor(z, requires_grad=True)
        with np.errstate(**quiet):
            loss = F.cross_entropy(x, target, reduction="sum")
            loss.backward()
        assert loss.item() == pytest.approx(-(t * np.where(t > 0, log_p, 0)).sum(), rel=1e-14)
        np.testing.assert_allclose(x.grad, np.exp(log_p) - t, rtol=1e-14, atol=1e-16)
    # a target with mass on an -inf logit: +inf per row, in the mean, and for labels
    on_minus_inf = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    rows = softmax_cross_entropy(Tensor(z), Tensor(on_minus_inf), reduce=False)
    assert rows.data[0] == np.inf and rows.data[1] == pytest.approx(-log_p[1, 0], rel=1e-14)
    x, t = Tensor(z, requires_grad=True), Tensor(on_minus_inf, requires_grad=True)
    with np.errstate(**quiet):
        loss = F.cross_entropy(x, t)
        loss.backward()
    assert loss.item() == np.inf
    np.testing.assert_allclose(x.grad, (np.exp(log_p) - on_minus_inf) / 2, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(t.grad, -log_p / 2, rtol=1e-14)  # +inf at the -inf logits
    assert F.cross_entropy(z, np.array([1, 2])).item() == np.inf


@given(batch=st.integers(1, 4), classes=st.integers(2, 4), seed=seeds)
def test_cross_entropy_second_derivatives(batch, classes, seed):
    """The gradient recorded with create_graph=True, differentiated again, matches central
    differences of the ordinary first-order gradient (w . dL/dz, for both z and soft targets)."""
    rng = np.random.default_rng(seed)
    z, labels = logits_and_labels(seed, batch, classes, scale=1.5)
    t = rng.uniform(0, 1, size=(batch, classes))
    w = rng.normal(size=(batch, classes))

    def first_order(z, t=None):
        """w . dL/dz by an ordinary backward pass, for labels (t None) or soft targets t."""
        x = Tensor(z, requires_grad=True)
        F.cross_entropy(x, labels if t is None else t).backward()
        return float((x.grad * w).sum())

    for soft in (False, True):
        x, p = Tensor(z, requires_grad=True), Tensor(t, requires_grad=True)
        F.cross_entropy(x, p if soft else labels).backward(create_graph=True)
        assert isinstance(x.grad, Tensor)
        first = (x.grad * w).sum()
        x.grad = p.grad = None
        first.backward()
        expected = central_difference(first_order, [z, t] if soft else [z])
        np.testing.assert_allclose(x.grad, expected[0], rtol=1e-5, atol=1e-7)
        if soft:
            np.testing.assert_allclose(p.grad, expected[1], rtol=1e-5, atol=1e-7)


def test_cross_entropy_new_errors():
    with pytest.raises(ValueError, match=r"cross_entropy: cannot average over an empty batch \(input shape \(0, 3"):
        F.cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    assert F.cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int), reduction="sum").item() == 0
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(2, 0\) has no classes"):
        F.cross_entropy(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(TypeError, match="cross_entropy: logits must be real numbers, got dtype complex128"):
        F.cross_entropy(np.ones((2, 3), dtype=complex), [0, 1])
    with pytest.raises(TypeError, match="cross_entropy: targets must be real numbers"):
        F.cross_entropy(np.ones((2, 3)), np.ones((2, 3), dtype=complex))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=shapes, seed=seeds)
def test_binary_cross_entropy_multi_label(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    p, y = rng.uniform(0.05, 0.95, size=shape), rng.integers(0, 2, size=shape).astype(float)
    expected = reduce_np(-(y * np.log(p) + (1 - y) * np.log(1 - p)), reduction)
    np.testing.assert_allclose(F.binary_cross_entropy(p, y, reduction=reduction).item(), expected, rtol=1e-12)
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(z, Tensor(y), reduction=reduction).item(), expected, rtol=1e-10
    )
    assert_input_grads(lambda t: F.binary_cross_entropy(t, y, reduction=reduction), p)
    assert_input_grads(lambda t, u: F.binary_cross_entropy_with_logits(t, u, reduction=reduction), z, y)


def test_binary_cross_entropy_is_finite_at_zero_and_one():
    for dtype in (np.float64, np.float32):
        p = Tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
        loss = F.binary_cross_entropy(p, np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype), reduction="sum")
        loss.backward()
        assert np.isfinite(loss.item()) and loss.item() > 20 and np.all(np.isfinite(p.grad))
        assert loss.dtype == dtype
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input has shape \(3,\) but target has shape \(2,\)"):
        F.binary_cross_entropy(np.full(3, 0.5), np.zeros(2))


def test_losses_keep_float32():
    z = Tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    y = np.array([0, 1, 2, 0])
    for loss in (
        F.cross_entropy(z, y),
        F.nll_loss(z, y),
        F.mse_loss(z, np.ones((4, 3), np.float32)),
        F.binary_cross_entropy_with_logits(z, np.ones((4, 3), np.float32)),
    ):
        assert loss.dtype == np.float32
        z.grad = None
        loss.backward()
        assert z.grad.dtype == np.float32


def test_l2_penalty_counts_weights_not_biases():
    model = nn.MLP([3, 4, 2], rng=0)
    lam, n = 0.3, 50
    weights = [model[0].weight.data, model[2].weight.data]
    penalty = nn.l2_penalty(model, lam, n)
    np.testing.assert_allclose(penalty.item(), lam / (2 * n) * sum((w**2).sum() for w in weights))
    penalty.backward()
    np.testing.assert_allclose(model[0].weight.grad, lam / n * weights[0])
    assert model[0].bias.grad is None and model[2].bias.grad is None
    with pytest.raises(ValueError, match="l2_penalty"):
        nn.l2_penalty(nn.ReLU(), lam, n)


def test_prelu_and_leaky_relu_take_the_negative_slope_at_zero():
    """The kink takes the left side (as relu'(0) = 0): slope a at 0 for both."""
    import nn as _nn

    for make in (lambda x: _nn.PReLU(init=0.25)(x), lambda x: _nn.functional.leaky_relu(x, 0.25)):
        x = Tensor(np.array([0.0]), requires_grad=True)
        make(x).sum().backward()
        assert x.grad.tolist() == [0.25]


@pytest.mark.numerics
def test_label_losses_ignore_minus_infinity_in_other_classes():
    z = Tensor(np.array([[0.0, -np.inf, 1.0]]), requires_grad=True)
    loss = F.cross_entropy(z, np.array([0]))
    assert loss.item() == pytest.approx(np.log(1 + np.e))
    loss.backward()
    assert np.all(np.isfinite(z.grad))
    assert F.nll_loss(Tensor(np.array([[-np.inf, -0.5]])), np.array([1])).item() == 0.5


def test_mse_loss_takes_a_numpy_scalar_target_as_the_operators_do():
    # found by the fuzz test: a NumPy scalar does not promote a tensor in `x - t`, so neither in the loss
    x = Tensor(np.array([0.25, -1.0], np.float32), requires_grad=True)
    loss = F.mse_loss(x, np.full(2, 0.5, np.float32))
    assert loss.dtype == np.float32
    scalar = F.mse_loss(Tensor(np.array(0.0, np.float32)), np.float64(0.5))
    assert scalar.dtype == np.float32 and float(scalar.data) == 0.25
    assert (Tensor(np.array(0.0, np.float32)) - np.float64(0.5)).dtype == scalar.dtype
    loss.backward()
    np.testing.assert_allclose(x.grad, (x.data - 0.5), rtol=1e-6)  # 2 (x - t) / n with n = 2
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(2,\) but target has shape \(\)"):
        F.mse_loss(x, 0.5)
