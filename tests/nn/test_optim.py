"""nn.optim and nn.init: update rules against hand-written sequences, schedules, clipping, initialisers."""

import math

import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from nn import init


def quadratic_setup(dtype=np.float64):
    """A parameter p and the gradient of sum(c * p^2 / 2), which is c * p."""
    p = nn.Parameter(np.array([1.0, -2.0, 0.5], dtype=dtype))
    c = np.array([1.0, 3.0, 0.5], dtype=dtype)

    def backward():
        p.grad = None
        (Tensor(c) * p * p * 0.5).sum().backward()
        return p.grad.copy()

    return p, backward


def run(make_optimizer, hand_update, steps=4):
    """Apply the optimiser and the hand-written rule side by side; they must agree at every step."""
    p, backward = quadratic_setup()
    opt = make_optimizer([p])
    expected, state = p.data.copy(), {}
    for _ in range(steps):
        g = backward()
        expected = hand_update(expected, g, state)
        opt.step()
        np.testing.assert_allclose(p.data, expected, rtol=1e-14)


def test_sgd_plain_momentum_nesterov_and_weight_decay():
    run(lambda ps: nn.optim.SGD(ps, lr=0.1), lambda w, g, s: w - 0.1 * g)

    def momentum(w, g, s, mu=0.9, nesterov=False, wd=0.0):
        g = g + wd * w
        s["v"] = g if "v" not in s else mu * s["v"] + g
        return w - 0.1 * (g + mu * s["v"] if nesterov else s["v"])

    run(lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9), momentum)
    run(
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda w, g, s: momentum(w, g, s, nesterov=True),
    )
    run(
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.01),
        lambda w, g, s: momentum(w, g, s, mu=0.5, wd=0.01),
    )


def test_adam_matches_the_bias_corrected_rule():
    def adam(w, g, s, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, wd=0.1):
        g = g + wd * w
        s["t"] = s.get("t", 0) + 1
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        m_hat, v_hat = s["m"] / (1 - b1 ** s["t"]), s["v"] / (1 - b2 ** s["t"])
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    run(lambda ps: nn.optim.Adam(ps, lr=0.01, weight_decay=0.1), adam)


def test_adam_first_step_has_the_size_of_the_learning_rate():
    p, backward = quadratic_setup()
    before = p.data.copy()
    backward()
    nn.optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(before - p.data, 0.01 * np.sign(before), rtol=1e-6)


def test_rmsprop_matches_its_rule():
    def rmsprop(w, g, s, lr=0.01, alpha=0.99, eps=1e-8):
        s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
        return w - lr * g / (np.sqrt(s["v"]) + eps)

    run(lambda ps: nn.optim.RMSprop(ps, lr=0.01), rmsprop)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda ps: nn.optim.Adam(ps, weight_decay=0.01),
        lambda ps: nn.optim.RMSprop(ps),
    ],
)
def test_updates_keep_float32_skip_missing_grads_and_mark_stale_graphs(make):
    p, backward = quadratic_setup(np.float32)
    idle = nn.Parameter(np.ones(2, dtype=np.float32))
    caller = np.array([1.0, 2.0])
    own = nn.Parameter(caller)
    opt = make([p, idle, own])
    stale = (p * 2.0).sum()
    backward()
    own.grad = np.ones(2)
    opt.step()
    assert p.data.dtype == np.float32 and p.data[0] != 1.0
    np.testing.assert_array_equal(idle.data, [1.0, 1.0])  # grad None: untouched
    np.testing.assert_array_equal(caller, [1.0, 2.0])  # the caller's array is not updated
    with pytest.raises(RuntimeError, match="modified"):
        stale.backward()
    opt.zero_grad()
    assert p.grad is None and own.grad is None


def test_optimisers_work_on_scalar_values():
    v = Value(3.0)
    opt = nn.optim.Adam([v], lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        ((v - 1.0) ** 2).backward()
        opt.step()
    assert abs(v.data - 1.0) < 1e-2 and isinstance(v.data, float)


def test_optimiser_argument_errors():
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="does not require grad"):
        nn.optim.Adam([Tensor(np.ones(2))])
    with pytest.raises(ValueError, match="lr must be nonnegative"):
        nn.optim.SGD([nn.Parameter([1.0])], lr=-0.1)
    with pytest.raises(ValueError, match="nesterov"):
        nn.optim.SGD([nn.Parameter([1.0])], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta2"):
        nn.optim.Adam([nn.Parameter([1.0])], betas=(0.9, 1.0))


def test_schedulers_follow_pytorch():
    opt = nn.optim.SGD([nn.Parameter([1.0])], lr=1.0)
    step = nn.optim.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        step.step()
        lrs.append(step.get_last_lr()[0])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    opt = nn.optim.Adam([nn.Parameter([1.0])], lr=0.1)
    decay = nn.optim.ExponentialLR(opt, gamma=0.9)
    for _ in range(3):
        decay.step()
    assert math.isclose(opt.lr, 0.1 * 0.9**3)


def test_clip_grad_norm_scales_to_the_limit_and_returns_the_norm():
    a, b, idle = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    assert nn.clip_grad_norm_([a, b, idle], max_norm=1.0) == 5.0
    np.testing.assert_allclose(np.concatenate([a.grad, b.grad]), [0.6, 0.0, 0.8], rtol=1e-5)
    assert idle.grad is None
    assert math.isclose(nn.clip_grad_norm_(a, max_norm=10.0), 0.6, rel_tol=1e-5)  # a single tensor
    np.testing.assert_allclose(a.grad, [0.6, 0.0], rtol=1e-5)  # below the limit: unchanged


# nn.init -----------------------------------------------------------------------------
def big_weight(dtype=np.float64):
    return nn.Parameter(np.zeros((400, 300), dtype=dtype))  # fan_in 300, fan_out 400


def test_xavier_initialisers():
    w = init.xavier_uniform_(big_weight(), rng=0)
    bound = math.sqrt(6 / 700)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert math.isclose(w.data.std(), bound / math.sqrt(3), rel_tol=0.02)
    w = init.xavier_normal_(big_weight(), gain=2.0, rng=0)
    assert math.isclose(w.data.std(), 2 * math.sqrt(2 / 700), rel_tol=0.02)


def test_kaiming_initialisers_use_fan_in():
    w = init.kaiming_normal_(big_weight(), rng=0)
    assert math.isclose(w.data.std(), math.sqrt(2 / 300), rel_tol=0.02)
    w = init.kaiming_uniform_(big_weight(), nonlinearity="relu", rng=0)
    assert math.isclose(w.data.std(), math.sqrt(2 / 300), rel_tol=0.02)
    w = init.kaiming_normal_(big_weight(), mode="fan_out", nonlinearity="tanh", rng=0)
    assert math.isclose(w.data.std(), 5 / 3 / math.sqrt(400), rel_tol=0.02)


def test_uniform_zeros_seeds_dtype_and_errors():
    w = init.uniform_(big_weight(np.float32), rng=3)
    assert w.dtype == np.float32 and 0 < w.data.min() and w.data.max() < 1  # 西瓜书's (0, 1)
    np.testing.assert_array_equal(w.data, init.uniform_(big_weight(np.float32), rng=3).data)
    assert init.zeros_(w) is w and not w.data.any()
    layer = nn.Linear(3, 2)
    version = layer.weight._version
    init.xavier_uniform_(layer.weight, rng=np.random.default_rng(0))
    assert layer.weight._version > version  # a stale graph will notice
    with pytest.raises(ValueError, match=r"xavier_uniform_: .* shape \(2,\)"):
        init.xavier_uniform_(layer.bias)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(layer.weight, mode="fan")
