"""Numerics: the saturating functions and losses stay finite and exact for inputs of +-1e4 in
float32 and float64, gradients included, and a float32 network trains in float32 throughout."""

import numpy as np
import pytest

import nn
from autograd import Tensor, Value, detect_anomaly
from nn import functional as F

pytestmark = pytest.mark.numerics  # values at inf/nan and exact bits: CI reruns them under a second BLAS kernel

# Rows of logits: saturated both ways, all equal, and moderate.
LOGITS = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [-30.0, 1.0, 30.0]])
LABELS = np.array([0, 2, 1, 2])  # right, wrong, tie and right
TARGETS = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.5, 0.0, 1.0]])


# Closed forms in float64, written without the library's formulas.


def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def one_hot(labels, n):
    return np.eye(n)[labels]


# name: (the function of a Tensor, its value, the gradient of the sum of its values)
CASES = {
    "Tensor.sigmoid": (Tensor.sigmoid, sigmoid, lambda x: sigmoid(x) * sigmoid(-x)),
    "F.sigmoid": (F.sigmoid, sigmoid, lambda x: sigmoid(x) * sigmoid(-x)),
    "F.softplus": (F.softplus, softplus, sigmoid),
    "Tensor.log_softmax": (
        lambda t: t.log_softmax(axis=1),
        log_softmax,
        lambda x: 1 - x.shape[1] * np.exp(log_softmax(x)),
    ),
    "F.log_softmax": (
        lambda t: F.log_softmax(t, axis=1),
        log_softmax,
        lambda x: 1 - x.shape[1] * np.exp(log_softmax(x)),
    ),
    "F.cross_entropy": (
        lambda t: F.cross_entropy(t, LABELS),
        lambda x: -(log_softmax(x) * one_hot(LABELS, 3)).sum(axis=1).mean(),
        lambda x: (np.exp(log_softmax(x)) - one_hot(LABELS, 3)) / len(x),
    ),
    "F.binary_cross_entropy_with_logits": (
        lambda t: F.binary_cross_entropy_with_logits(t, TARGETS.astype(t.dtype)),
        lambda x: (softplus(x) - x * TARGETS).mean(),
        lambda x: (sigmoid(x) - TARGETS) / x.size,
    ),
}


def tolerance(dtype):
    """Rounding of the inputs: values near 1e4 are known to 1e4 * eps, and so are log-probabilities."""
    eps = np.finfo(dtype).eps
    return dict(rtol=8 * eps, atol=8 * eps * np.abs(LOGITS).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_finite_and_exact_at_plus_minus_1e4(name, dtype):
    fn, value, gradient = CASES[name]
    x = Tensor(LOGITS.astype(dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"), detect_anomaly():  # not even inside
        out = fn(x)
        out.sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(out.data, value(LOGITS), **tolerance(dtype))
    np.testing.assert_allclose(x.grad, gradient(LOGITS), **tolerance(dtype))


@pytest.mark.parametrize("z", [-1e4, -745.0, -30.0, 0.0, 30.0, 1e4])
def test_value_sigmoid_is_finite_and_exact(z):
    x = Value(z)
    y = x.sigmoid()
    y.backward()
    assert y.data == pytest.approx(sigmoid(z), rel=1e-15, abs=0)
    assert x.grad == pytest.approx(sigmoid(z) * sigmoid(-z), rel=1e-12, abs=1e-15)  # s (1 - s) near 1


def test_a_float32_network_trains_in_float32_without_overflow():
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(64, 20)) * 50).astype(np.float32)  # large inputs: large logits
    y = (X[:, :4].argmax(axis=1)).astype(np.int64)
    model = nn.MLP([20, 32, 32, 4], rng=0, dtype=np.float32)
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    with np.errstate(over="raise", invalid="raise", divide="raise"), detect_anomaly():
        for _ in range(100):
            h = Tensor(X)
            for layer in model:
                h = layer(h)
                assert h.dtype == np.float32, f"{type(layer).__name__} gave {h.dtype}"
            loss = F.cross_entropy(h, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            assert loss.dtype == np.float32
    for p in model.parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.1 * losses[0]
