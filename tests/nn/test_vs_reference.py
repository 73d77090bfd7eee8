"""Autodiff through nn against the hand-derived backpropagation of nn.reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor
from nn import functional as F
from nn import reference

HIDDEN = sorted(set(reference.ACTIVATIONS) - {"softmax"})


def quadratic(a, y):
    """The reference's cost: the batch mean of 1/2 ||a - y||^2."""
    return F.mse_loss(a, y, reduction="half_sum") / a.shape[0]


def binary_ce(a, y):
    """Binary cross-entropy summed over the outputs, averaged over the batch."""
    return F.binary_cross_entropy(a, y, reduction="sum") / a.shape[0]


def softmax_nll(a, y):
    return F.nll_loss(a.log(), y.data.argmax(axis=1))


# (output activation, reference loss, the same loss written with nn.functional)
PAIRINGS = [
    ("identity", "quadratic", quadratic),
    ("sigmoid", "quadratic", quadratic),
    ("softmax", "quadratic", quadratic),
    ("tanh", "quadratic", quadratic),
    ("sigmoid", "cross_entropy", binary_ce),
    ("softmax", "nll", softmax_nll),
]


def random_problem(rng, sizes, output, loss):
    batch = int(rng.integers(1, 6))
    x = rng.normal(size=(batch, sizes[0]))
    if loss == "nll":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    elif output in ("sigmoid", "softmax") or loss == "cross_entropy":
        y = rng.uniform(0, 1, size=(batch, sizes[-1]))
    else:
        y = rng.normal(size=(batch, sizes[-1]))
    return x, y


@pytest.mark.parametrize("activation", HIDDEN)
@pytest.mark.parametrize("output, loss_name, loss_fn", PAIRINGS)
@settings(max_examples=8)
@given(seed=st.integers(0, 2**32 - 1), n_hidden=st.integers(1, 4))
def test_mlp_gradients_equal_reference_backprop(activation, output, loss_name, loss_fn, seed, n_hidden):
    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in rng.integers(1, 5, size=n_hidden + 2)]
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    model = nn.MLP(sizes, activation=activation, output_activation=output, rng=rng)
    x, y = random_problem(rng, sizes, output, loss_name)
    loss_fn(model(x), Tensor(y)).backward()
    layers = [m for m in model if isinstance(m, nn.Linear)]
    dWs, dbs = reference.backprop(
        [l.weight.data for l in layers],
        [l.bias.data for l in layers],
        x,
        y,
        activation=activation,
        output_activation=output,
        loss=loss_name,
    )
    for layer, dW, db in zip(layers, dWs, dbs):
        np.testing.assert_allclose(layer.weight.grad, dW, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(layer.bias.grad, db, rtol=1e-10, atol=1e-10)


def test_softmax_cross_entropy_on_logits_equals_softmax_nll():
    rng = np.random.default_rng(0)
    model = nn.MLP([3, 5, 4], activation="tanh", rng=1)
    x, y = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
    F.cross_entropy(model(x), y).backward()
    layers = [model[0], model[2]]
    dWs, _ = reference.backprop(
        [l.weight.data for l in layers],
        [l.bias.data for l in layers],
        x,
        np.eye(4)[y],
        activation="tanh",
        output_activation="softmax",
        loss="nll",
    )
    for layer, dW in zip(layers, dWs):
        np.testing.assert_allclose(layer.weight.grad, dW, rtol=1e-10, atol=1e-12)


class WatermelonNet(nn.Module):
    """西瓜书's d-q-l network: b = f(x v - gamma), y_hat = f(b w - theta), with thresholds."""

    def __init__(self, params):
        self.v, self.gamma = nn.Parameter(params["v"]), nn.Parameter(params["gamma"])
        self.w, self.theta = nn.Parameter(params["w"]), nn.Parameter(params["theta"])

    def forward(self, x):
        b = F.sigmoid(x @ self.v - self.gamma)
        return F.sigmoid(b @ self.w - self.theta)

    def params(self):
        return {k: getattr(self, k).data for k in ("v", "gamma", "w", "theta")}


def watermelon_problem(seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(6, 3))
    Y = rng.integers(0, 2, size=(6, 2)).astype(float)
    return X, Y, reference.init_watermelon_params(3, 4, 2, seed=seed)


@pytest.mark.parametrize("mode", ["standard", "accumulated"])
@pytest.mark.parametrize("seed", [0, 1])
def test_watermelon_bp_equals_autodiff_with_sgd(mode, seed):
    """Standard BP is SGD with batch size 1 (in order); accumulated BP is full-batch GD on E."""
    X, Y, params = watermelon_problem(seed)
    eta = 0.5
    net = WatermelonNet(params)
    batch = 1 if mode == "standard" else len(X)
    history = nn.fit(
        net,
        quadratic,
        nn.optim.SGD(net.parameters(), lr=eta),
        (X, Y),
        epochs=10,
        batch_size=batch,
        shuffle=False,
        metrics=(),
        progress=False,
    )
    step = reference.bp_standard_step if mode == "standard" else reference.bp_accumulated_step
    for _ in range(10):
        params = step(params, X, Y, eta)
    for key, value in net.params().items():
        np.testing.assert_allclose(value, params[key], rtol=1e-10, atol=1e-12, err_msg=key)
    assert history["loss"][-1] < history["loss"][0]
