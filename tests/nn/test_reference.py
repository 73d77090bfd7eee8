"""nn.reference: hand-derived backprop against central finite differences.

The finite differences use a forward cost written here, independently of the
module, so a shared mistake in an activation or a loss cannot hide.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nn.reference import (
    WatermelonBP,
    backprop,
    bp_accumulated_step,
    bp_standard_step,
    bp_updates,
    cost,
    deltas,
    forward,
    init_watermelon_params,
    watermelon_error,
)

# --- an independent plain-NumPy forward cost -------------------------------

_erf = np.vectorize(math.erf)


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


ACT = {
    "sigmoid": _sig,
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1.0),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "identity": lambda z: z,
    "hard_sigmoid": lambda z: np.minimum(np.maximum(0.25 * z + 0.5, 0.0), 1.0),
    "hard_tanh": lambda z: np.minimum(np.maximum(z, -1.0), 1.0),
    "silu": lambda z: z * _sig(z),
    "gelu": lambda z: z * 0.5 * (1.0 + _erf(z / math.sqrt(2.0))),
}
# Points where the derivative jumps; finite differences are meaningless there.
KINKS = {"relu": [0.0], "leaky_relu": [0.0], "hard_sigmoid": [-2.0, 2.0], "hard_tanh": [-1.0, 1.0]}
HIDDEN = sorted(ACT)
PAIRINGS = [(out, "quadratic") for out in HIDDEN + ["softmax"]] + [
    ("sigmoid", "cross_entropy"),
    ("softmax", "nll"),
]


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def plain_forward(Ws, bs, x, hidden, output):
    a, zs = x, []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = a @ W.T + b
        zs.append(z)
        last = l == len(Ws) - 1
        a = (_softmax(z) if output == "softmax" else ACT[output](z)) if last else ACT[hidden](z)
    return zs, a


def plain_cost(Ws, bs, x, y, hidden, output, loss):
    zs, a = plain_forward(Ws, bs, x, hidden, output)
    if loss == "quadratic":
        per_sample = 0.5 * np.sum((a - y) ** 2, axis=1)
    elif loss == "cross_entropy":
        # from the logits: log(1 - a) loses digits when a is near 1, and the
        # finite differences would magnify that loss by 1/eps
        z = zs[-1]
        per_sample = np.sum(np.logaddexp(0, z) - y * z, axis=1)
    else:
        per_sample = -np.sum(y * np.log(a), axis=1)
    return np.mean(per_sample)


def numeric_grads(Ws, bs, x, y, hidden, output, loss, eps=1e-6):
    """Central differences of the batch-mean cost for every weight and bias."""

    def fd(arr):
        g = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + eps
            cp = plain_cost(Ws, bs, x, y, hidden, output, loss)
            arr[i] = old - eps
            cm = plain_cost(Ws, bs, x, y, hidden, output, loss)
            arr[i] = old
            g[i] = (cp - cm) / (2 * eps)
        return g

    return [fd(W) for W in Ws], [fd(b) for b in bs]


def make_problem(seed, sizes, batch, output, loss):
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0.0, 1.0 / math.sqrt(i), size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(0.0, 0.5, size=o) for o in sizes[1:]]
    x = rng.normal(size=(batch, sizes[0]))
    n_out = sizes[-1]
    if loss == "nll":
        y = np.eye(n_out)[rng.integers(0, n_out, size=batch)]
    elif loss == "cross_entropy":
        y = rng.uniform(0, 1, size=(batch, n_out))  # soft targets are fine for BCE
    else:
        y = rng.normal(size=(batch, n_out))
    return Ws, bs, x, y


def far_from_kinks(Ws, bs, x, hidden, output, margin=1e-4):
    zs, _ = plain_forward(Ws, bs, x, hidden, output)
    for l, z in enumerate(zs):
        name = output if l == len(zs) - 1 else hidden
        for k in KINKS.get(name, []):
            if np.any(np.abs(z - k) < margin):
                return False
    return True


def check_against_fd(Ws, bs, x, y, hidden, output, loss):
    dWs, dbs = backprop(Ws, bs, x, y, activation=hidden, output_activation=output, loss=loss)
    nWs, nbs = numeric_grads(Ws, bs, x, y, hidden, output, loss)
    assert len(dWs) == len(Ws) and len(dbs) == len(bs)
    for l in range(len(Ws)):
        assert dWs[l].shape == Ws[l].shape and dbs[l].shape == bs[l].shape
        np.testing.assert_allclose(dWs[l], nWs[l], rtol=1e-6, atol=1e-8, err_msg=f"dW[{l}]")
        np.testing.assert_allclose(dbs[l], nbs[l], rtol=1e-6, atol=1e-8, err_msg=f"db[{l}]")


# --- gradients against finite differences -----------------------------------


@pytest.mark.parametrize("output,loss", PAIRINGS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_activation_and_pairing(hidden, output, loss):
    # The full matrix once, on a small two-hidden-layer network.
    sizes = [3, 4, 3, 3]
    for seed in range(20):
        Ws, bs, x, y = make_problem(seed, sizes, batch=3, output=output, loss=loss)
        if far_from_kinks(Ws, bs, x, hidden, output):
            break
    else:
        pytest.fail("no sample away from the kinks")
    check_against_fd(Ws, bs, x, y, hidden, output, loss)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 5), min_size=3, max_size=6),  # 1-4 hidden layers
    batch=st.integers(1, 5),
    hidden=st.sampled_from(HIDDEN),
    pairing=st.sampled_from(PAIRINGS),
)
def test_random_networks(seed, sizes, batch, hidden, pairing):
    output, loss = pairing
    if loss == "nll" and sizes[-1] == 1:
        sizes = sizes[:-1] + [2]  # a one-class softmax has zero gradient everywhere
    Ws, bs, x, y = make_problem(seed, sizes, batch, output, loss)
    assume(far_from_kinks(Ws, bs, x, hidden, output))
    check_against_fd(Ws, bs, x, y, hidden, output, loss)


def test_single_layer_network():
    # No hidden layer: only the output activation is used.
    Ws, bs, x, y = make_problem(7, [4, 2], batch=6, output="tanh", loss="quadratic")
    check_against_fd(Ws, bs, x, y, "relu", "tanh", "quadratic")


def test_cost_matches_plain_cost():
    for output, loss in PAIRINGS:
        Ws, bs, x, y = make_problem(3, [3, 4, 2], batch=4, output=output, loss=loss)
        got = cost(Ws, bs, x, y, activation="gelu", output_activation=output, loss=loss)
        want = plain_cost(Ws, bs, x, y, "gelu", output, loss)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-14), (output, loss)


def test_linear_alias_and_input_not_modified():
    Ws, bs, x, y = make_problem(5, [2, 3, 2], batch=4, output="identity", loss="quadratic")
    copies = [W.copy() for W in Ws], [b.copy() for b in bs], x.copy(), y.copy()
    a = backprop(Ws, bs, x, y, activation="linear", output_activation="linear")
    b = backprop(Ws, bs, x, y, activation="identity", output_activation="identity")
    for u, v in zip(a[0] + a[1], b[0] + b[1]):
        np.testing.assert_array_equal(u, v)
    for u, v in zip(copies[0] + copies[1] + [copies[2], copies[3]], Ws + bs + [x, y]):
        np.testing.assert_array_equal(u, v)


# --- forward and the error terms --------------------------------------------


def test_forward_shapes_and_values():
    Ws, bs, x, _ = make_problem(1, [3, 5, 4, 2], batch=6, output="softmax", loss="nll")
    zs, acts = forward(Ws, bs, x, activation="tanh", output_activation="softmax")
    assert [z.shape for z in zs] == [(6, 5), (6, 4), (6, 2)]
    assert [a.shape for a in acts] == [(6, 3), (6, 5), (6, 4), (6, 2)]
    np.testing.assert_array_equal(acts[0], x)
    np.testing.assert_allclose(zs[0], x @ Ws[0].T + bs[0])
    np.testing.assert_allclose(acts[1], np.tanh(zs[0]))
    np.testing.assert_allclose(acts[-1].sum(axis=1), 1.0)
    _, a_plain = plain_forward(Ws, bs, x, "tanh", "softmax")
    np.testing.assert_allclose(acts[-1], a_plain, rtol=1e-12)


@pytest.mark.parametrize("output,loss", [("sigmoid", "cross_entropy"), ("softmax", "nll")])
def test_output_delta_is_a_minus_y(output, loss):
    Ws, bs, x, y = make_problem(11, [3, 4, 3], batch=5, output=output, loss=loss)
    ds = deltas(Ws, bs, x, y, activation="sigmoid", output_activation=output, loss=loss)
    _, acts = forward(Ws, bs, x, activation="sigmoid", output_activation=output)
    np.testing.assert_allclose(ds[-1], acts[-1] - y, rtol=1e-12, atol=1e-15)


def test_quadratic_sigmoid_delta_keeps_sigma_prime():
    # The learning-slowdown contrast: with quadratic cost the sigma'(z) factor stays.
    Ws, bs, x, y = make_problem(12, [3, 4, 3], batch=5, output="sigmoid", loss="quadratic")
    ds = deltas(Ws, bs, x, y)
    _, acts = forward(Ws, bs, x)
    a = acts[-1]
    np.testing.assert_allclose(ds[-1], (a - y) * a * (1 - a), rtol=1e-12)


def test_hidden_delta_recursion_and_gradient_formula():
    Ws, bs, x, y = make_problem(13, [3, 4, 5, 2], batch=7, output="sigmoid", loss="quadratic")
    ds = deltas(Ws, bs, x, y, activation="tanh")
    zs, acts = forward(Ws, bs, x, activation="tanh")
    assert [d.shape for d in ds] == [(7, 4), (7, 5), (7, 2)]
    for l in range(2):
        np.testing.assert_allclose(ds[l], (ds[l + 1] @ Ws[l + 1]) * (1 - np.tanh(zs[l]) ** 2), rtol=1e-12)
    dWs, dbs = backprop(Ws, bs, x, y, activation="tanh")
    for l in range(3):
        np.testing.assert_allclose(dWs[l], ds[l].T @ acts[l] / 7, rtol=1e-12)
        np.testing.assert_allclose(dbs[l], ds[l].mean(axis=0), rtol=1e-12)


def test_relu_derivative_at_zero_is_zero():
    # z = 0 exactly in the hidden layer: relu'(0) = 0 blocks the error signal.
    Ws = [np.zeros((2, 2)), np.ones((1, 2))]
    bs = [np.zeros(2), np.zeros(1)]
    x, y = np.array([[1.0, -1.0]]), np.array([[3.0]])
    ds = deltas(Ws, bs, x, y, activation="relu", output_activation="identity")
    np.testing.assert_array_equal(ds[0], [[0.0, 0.0]])
    assert ds[1][0, 0] == -3.0


def test_vanishing_gradient_in_deep_sigmoid_net():
    # sigma' <= 1/4, so with small weights the error terms shrink going back.
    rng = np.random.default_rng(0)
    sizes = [5] * 8
    Ws = [rng.normal(0, 0.5, size=(5, 5)) for _ in sizes[1:]]
    bs = [np.zeros(5) for _ in sizes[1:]]
    x, y = rng.normal(size=(10, 5)), rng.uniform(size=(10, 5))
    norms = [np.linalg.norm(d) for d in deltas(Ws, bs, x, y)]
    assert norms[0] < norms[-1] / 100


@pytest.mark.numerics
def test_saturated_sigmoid_outputs_do_not_overflow():
    Ws = [np.array([[800.0], [-800.0]])]
    bs = [np.zeros(2)]
    x, y = np.array([[1.0]]), np.array([[0.0, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        dWs, _ = backprop(Ws, bs, x, y, output_activation="sigmoid", loss="cross_entropy")
    np.testing.assert_allclose(dWs[0], [[1.0], [-1.0]])


# --- errors -------------------------------------------------------------------


def _good():
    return make_problem(0, [3, 4, 2], batch=5, output="sigmoid", loss="quadratic")


def test_rejects_mismatched_layer_shapes():
    Ws, bs, x, y = _good()
    Ws[1] = np.zeros((2, 5))
    with pytest.raises(ValueError, match=r"backprop.*\(2, 5\).*\(4, 3\)"):
        backprop(Ws, bs, x, y)


def test_rejects_bad_bias_shape():
    Ws, bs, x, y = _good()
    bs[0] = np.zeros(3)
    with pytest.raises(ValueError, match=r"backprop: biases\[0\] has shape \(3,\)"):
        backprop(Ws, bs, x, y)


def test_rejects_bad_x_and_y_shapes():
    Ws, bs, x, y = _good()
    with pytest.raises(ValueError, match=r"backprop: x has shape \(5, 2\)"):
        backprop(Ws, bs, x[:, :2], y)
    with pytest.raises(ValueError, match=r"backprop: x has shape \(3,\)"):
        backprop(Ws, bs, x[0], y)
    with pytest.raises(ValueError, match=r"backprop: y has shape \(5, 3\), expected \(5, 2\)"):
        backprop(Ws, bs, x, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"backprop: y has shape \(4, 2\)"):
        backprop(Ws, bs, x, y[:4])


def test_rejects_layer_count_mismatch_and_empty():
    Ws, bs, x, y = _good()
    with pytest.raises(ValueError, match="backprop: got 2 weight matrices but 1 bias"):
        backprop(Ws, bs[:1], x, y)
    with pytest.raises(ValueError, match="backprop: weights is empty"):
        backprop([], [], x, y)


def test_rejects_unknown_names():
    Ws, bs, x, y = _good()
    with pytest.raises(ValueError, match="backprop: unknown activation 'swishy'"):
        backprop(Ws, bs, x, y, activation="swishy")
    with pytest.raises(ValueError, match="backprop: unknown output_activation 'foo'"):
        backprop(Ws, bs, x, y, output_activation="foo")
    with pytest.raises(ValueError, match="backprop: unknown loss 'hinge'"):
        backprop(Ws, bs, x, y, loss="hinge")
    with pytest.raises(ValueError, match="forward: unknown activation"):
        forward(Ws, bs, x, activation="nope")
    with pytest.raises(ValueError, match="deltas: unknown loss"):
        deltas(Ws, bs, x, y, loss="mse2")


def test_rejects_bad_pairings():
    Ws, bs, x, y = _good()
    with pytest.raises(ValueError, match="backprop: loss 'nll' needs output_activation='softmax', got 'sigmoid'"):
        backprop(Ws, bs, x, np.eye(2)[[0, 1, 0, 1, 1]], loss="nll")
    with pytest.raises(ValueError, match="backprop: loss 'cross_entropy'.*got 'softmax'"):
        backprop(Ws, bs, x, y, output_activation="softmax", loss="cross_entropy")
    with pytest.raises(ValueError, match="backprop: 'softmax' is supported as output_activation only"):
        backprop(Ws, bs, x, y, activation="softmax")
    with pytest.raises(ValueError, match="backprop: loss 'nll' needs one-hot y"):
        backprop(Ws, bs, x, np.full((5, 2), 0.7), output_activation="softmax", loss="nll")


# --- 西瓜书 standard and accumulated BP ----------------------------------------


def wm_error_plain(p, X, Y):
    """E = (1/m) sum_k 1/2 sum_j (y_hat_j - y_j)^2, written out independently."""
    b = _sig(X @ p["v"] - p["gamma"])
    y_hat = _sig(b @ p["w"] - p["theta"])
    return np.mean(0.5 * np.sum((y_hat - Y) ** 2, axis=1))


def wm_numeric_grad(p, X, Y, eps=1e-6):
    grads = {}
    for key, arr in p.items():
        g = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + eps
            ep = wm_error_plain(p, X, Y)
            arr[i] = old - eps
            em = wm_error_plain(p, X, Y)
            arr[i] = old
            g[i] = (ep - em) / (2 * eps)
        grads[key] = g
    return grads


def test_watermelon_init():
    p = init_watermelon_params(3, 5, 2, seed=4)
    assert {k: v.shape for k, v in p.items()} == {"v": (3, 5), "gamma": (5,), "w": (5, 2), "theta": (2,)}
    for arr in p.values():
        assert np.all((arr > 0) & (arr < 1))
    q = init_watermelon_params(3, 5, 2, seed=4)
    for k in p:
        np.testing.assert_array_equal(p[k], q[k])
    assert not np.array_equal(init_watermelon_params(3, 5, 2, seed=5)["v"], p["v"])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 4),
    q=st.integers(1, 5),
    l=st.integers(1, 3),
    eta=st.floats(0.01, 2.0),
)
def test_standard_step_is_minus_eta_grad_of_Ek(seed, d, q, l, eta):
    rng = np.random.default_rng(seed)
    p = init_watermelon_params(d, q, l, seed=seed)
    x, y = rng.normal(size=d), rng.uniform(size=l)
    new = bp_standard_step(p, x, y, eta)
    grad = wm_numeric_grad({k: v.copy() for k, v in p.items()}, x[None, :], y[None, :])
    for key in ("v", "gamma", "w", "theta"):
        np.testing.assert_allclose(new[key] - p[key], -eta * grad[key], rtol=1e-6, atol=1e-9, err_msg=key)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 6),
    d=st.integers(1, 4),
    q=st.integers(1, 5),
    l=st.integers(1, 3),
    eta=st.floats(0.01, 2.0),
)
def test_accumulated_step_is_minus_eta_grad_of_E(seed, m, d, q, l, eta):
    rng = np.random.default_rng(seed)
    p = init_watermelon_params(d, q, l, seed=seed)
    X, Y = rng.normal(size=(m, d)), (rng.uniform(size=(m, l)) > 0.5).astype(float)
    new = bp_accumulated_step(p, X, Y, eta)
    grad = wm_numeric_grad({k: v.copy() for k, v in p.items()}, X, Y)
    for key in ("v", "gamma", "w", "theta"):
        np.testing.assert_allclose(new[key] - p[key], -eta * grad[key], rtol=1e-6, atol=1e-9, err_msg=key)
    assert watermelon_error(p, X, Y) == pytest.approx(wm_error_plain(p, X, Y), rel=1e-12)


def test_standard_step_updates_sample_by_sample_in_order():
    rng = np.random.default_rng(1)
    p = init_watermelon_params(2, 3, 1, seed=1)
    X, Y = rng.normal(size=(4, 2)), np.array([[1.0], [0.0], [1.0], [0.0]])
    expected = {k: v.copy() for k, v in p.items()}
    for k in range(4):
        upd = bp_updates(expected, X[k], Y[k], eta=0.5)
        expected = {key: expected[key] + upd[key] for key in expected}
    got = bp_standard_step(p, X, Y, eta=0.5)
    for key in p:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-13)
    # The order matters: standard BP is not accumulated BP.
    reordered = bp_standard_step(p, X[::-1], Y[::-1], eta=0.5)
    assert not np.allclose(reordered["v"], got["v"])
    assert not np.allclose(bp_accumulated_step(p, X, Y, eta=0.5)["v"], got["v"])
    # The input dict is left unchanged.
    np.testing.assert_array_equal(p["v"], init_watermelon_params(2, 3, 1, seed=1)["v"])


def test_book_update_formulas_for_one_sample():
    p = init_watermelon_params(2, 3, 2, seed=2)
    x, y, eta = np.array([0.3, -1.2]), np.array([1.0, 0.0]), 0.7
    b = _sig(x @ p["v"] - p["gamma"])
    y_hat = _sig(b @ p["w"] - p["theta"])
    g = y_hat * (1 - y_hat) * (y - y_hat)
    e = b * (1 - b) * (p["w"] @ g)
    upd = bp_updates(p, x, y, eta)
    np.testing.assert_allclose(upd["w"], eta * np.outer(b, g), rtol=1e-13)
    np.testing.assert_allclose(upd["theta"], -eta * g, rtol=1e-13)
    np.testing.assert_allclose(upd["v"], eta * np.outer(x, e), rtol=1e-13)
    np.testing.assert_allclose(upd["gamma"], -eta * e, rtol=1e-13)


@pytest.mark.parametrize("mode", ["standard", "accumulated"])
def test_watermelon_bp_learns_xor(mode):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([0, 1, 1, 0], dtype=float)
    net = WatermelonBP(2, 4, 1, seed=0)
    history = net.fit(X, Y, eta=2.0, epochs=4000, mode=mode)
    assert history[-1] < history[0] / 10
    np.testing.assert_array_equal((net.predict(X)[:, 0] > 0.5).astype(int), [0, 1, 1, 0])


def test_watermelon_errors():
    p = init_watermelon_params(2, 3, 1, seed=0)
    with pytest.raises(ValueError, match=r"bp_standard_step: X has shape \(4, 3\)"):
        bp_standard_step(p, np.zeros((4, 3)), np.zeros((4, 1)), 0.1)
    with pytest.raises(ValueError, match=r"bp_accumulated_step: Y has shape \(4, 2\)"):
        bp_accumulated_step(p, np.zeros((4, 2)), np.zeros((4, 2)), 0.1)
    with pytest.raises(ValueError, match="bp_updates: params is missing"):
        bp_updates({"v": p["v"]}, np.zeros(2), np.zeros(1))
    with pytest.raises(ValueError, match="WatermelonBP.fit: mode"):
        WatermelonBP(2, 3, 1).fit(np.zeros((1, 2)), np.zeros(1), mode="batch")
