"""Optimisers as a PyTorch user expects them: parameter groups, lr=0, amsgrad, eps checks,
steps after backward(create_graph=True), and state buffers that own their memory.

Expected values are PyTorch's documented update rules written out by hand (torch.optim.SGD,
Adam with amsgrad, RMSprop; L2 weight decay adds weight_decay * p to the gradient)."""

import math

import numpy as np
import pytest

import nn
from autograd import Tensor, Value


def two_groups(make, **bias_options):
    """A weight and a bias with loss sum(c * w^2 / 2) + sum(b^2 / 2): gradients c w and b."""
    w = nn.Parameter(np.array([1.0, -2.0, 0.5]))
    b = nn.Parameter(np.array([0.3, -0.4]))
    c = np.array([1.0, 3.0, 0.5])
    opt = make([{"params": [w]}, {"params": [b], **bias_options}])

    def backward():
        opt.zero_grad()
        ((Tensor(c) * w * w).sum() * 0.5 + (b * b).sum() * 0.5).backward()
        return w.grad.copy(), b.grad.copy()

    return w, b, opt, backward


def test_groups_take_their_own_options_and_the_defaults_for_the_rest():
    w, b, opt, backward = two_groups(
        lambda groups: nn.optim.SGD(groups, lr=0.1, momentum=0.9, weight_decay=0.01), lr=0.5, weight_decay=0.0
    )
    assert [sorted(g) for g in opt.param_groups] == [["lr", "momentum", "nesterov", "params", "weight_decay"]] * 2
    assert opt.param_groups[0]["params"] == [w] and opt.param_groups[1]["params"] == [b]
    assert (opt.param_groups[0]["lr"], opt.param_groups[0]["weight_decay"]) == (0.1, 0.01)
    assert (opt.param_groups[1]["lr"], opt.param_groups[1]["weight_decay"]) == (0.5, 0.0)
    assert opt.param_groups[1]["momentum"] == 0.9
    ew, eb, vw, vb = w.data.copy(), b.data.copy(), None, None
    for _ in range(3):
        gw, gb = backward()
        gw = gw + 0.01 * ew  # L2 on the weights only, as the notes' formula
        vw = gw if vw is None else 0.9 * vw + gw
        vb = gb if vb is None else 0.9 * vb + gb
        ew, eb = ew - 0.1 * vw, eb - 0.5 * vb
        opt.step()
        np.testing.assert_allclose(w.data, ew, rtol=1e-14)
        np.testing.assert_allclose(b.data, eb, rtol=1e-14)


def test_adam_groups_and_add_param_group():
    w, b, opt, backward = two_groups(lambda groups: nn.optim.Adam(groups[:1], lr=0.01))
    extra = nn.Parameter(np.array([2.0]))
    opt.add_param_group({"params": extra, "lr": 0.1})  # a lone tensor is a group of one
    assert opt.param_groups[1]["params"] == [extra] and opt.param_groups[1]["betas"] == (0.9, 0.999)
    before = extra.data.copy()
    extra.grad = np.array([5.0])
    opt.step()
    np.testing.assert_allclose(before - extra.data, [0.1], rtol=1e-6)  # Adam's first step is lr


def test_schedulers_set_every_group():
    w, b, opt, _ = two_groups(lambda groups: nn.optim.SGD(groups, lr=1.0), lr=0.1)
    sched = nn.optim.StepLR(opt, step_size=1, gamma=0.5)
    sched.step()
    sched.step()
    assert sched.get_last_lr() == [0.25, 0.025] == [g["lr"] for g in opt.param_groups]
    assert sched.base_lrs == [1.0, 0.1]
    decay = nn.optim.ExponentialLR(opt, gamma=0.1)
    decay.step()
    assert decay.get_last_lr() == pytest.approx([0.025, 0.0025], rel=1e-15)


def test_group_errors():
    p, q = nn.Parameter([1.0]), nn.Parameter([2.0])
    with pytest.raises(ValueError, match="more than one parameter group"):
        nn.optim.SGD([{"params": [p]}, {"params": [p, q]}], lr=0.1)
    with pytest.raises(ValueError, match=r"unknown options \['weight_deacy'\]"):
        nn.optim.SGD([{"params": [p], "weight_deacy": 0.0}], lr=0.1)
    with pytest.raises(TypeError, match="'params' entry"):
        nn.optim.SGD([{"params": [p]}, [q]], lr=0.1)
    with pytest.raises(ValueError, match="SGD: nesterov=True needs a positive momentum"):
        nn.optim.SGD([{"params": [p], "nesterov": True}], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be nonnegative, got -1"):
        nn.optim.SGD([{"params": [p], "lr": -1}], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.Adam([{"params": []}])


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.optim.SGD(ps, lr=0.0, momentum=0.9),
        lambda ps: nn.optim.Adam(ps, lr=0.0),
        lambda ps: nn.optim.RMSprop(ps, lr=0.0),
    ],
)
def test_a_zero_learning_rate_is_valid_and_changes_nothing(make):
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = make([p])
    p.grad = np.array([3.0, 4.0])
    opt.step()
    np.testing.assert_array_equal(p.data, [1.0, -2.0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: nn.optim.SGD(ps, lr=-0.1), "SGD: lr must be nonnegative, got -0.1"),
        (lambda ps: nn.optim.Adam(ps, lr=-1e-3), "Adam: lr must be nonnegative"),
        (lambda ps: nn.optim.Adam(ps, eps=-1), r"Adam: eps must be in \[0, inf\), got -1"),
        (lambda ps: nn.optim.RMSprop(ps, eps=-1e-8), "RMSprop: eps must be in"),
        (lambda ps: nn.optim.Adam(ps, lr=math.nan), "Adam: lr must be nonnegative, got nan"),
    ],
)
def test_bad_options_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter([1.0])])


def adam_by_hand(w, grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, amsgrad=False):
    """torch.optim.Adam's update (its implementation's order of operations)."""
    m = v = v_max = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        denominator = np.sqrt(v_max if amsgrad else v) / math.sqrt(1 - b2**t) + eps
        w = w - lr / (1 - b1**t) * m / denominator
    return w


def test_adam_amsgrad_divides_by_the_largest_second_moment():
    # a large gradient then small ones: v falls, so amsgrad's steps are smaller than Adam's
    grads = [np.array([10.0, -3.0]), np.array([0.1, 0.2]), np.array([0.1, -0.1]), np.array([0.05, 0.1])]
    results = {}
    for amsgrad in (False, True):
        p = nn.Parameter(np.array([1.0, 1.0]))
        opt = nn.optim.Adam([p], lr=0.01, amsgrad=amsgrad)
        assert opt.param_groups[0]["amsgrad"] is amsgrad
        for g in grads:
            p.grad = g
            opt.step()
        np.testing.assert_allclose(p.data, adam_by_hand(np.array([1.0, 1.0]), grads, amsgrad=amsgrad), rtol=1e-14)
        results[amsgrad] = p.data.copy()
        assert ("max_exp_avg_sq" in opt.state[p]) is amsgrad
        assert opt.state[p]["step"] == 4
    assert not np.allclose(results[False], results[True])


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: nn.optim.Adam(ps, lr=0.01, weight_decay=0.01, amsgrad=True),
        lambda ps: nn.optim.RMSprop(ps, lr=0.01),
    ],
)
def test_steps_after_create_graph_read_the_gradient_values(make):
    """The same two steps from .grad as a graph (create_graph=True) and as plain arrays."""
    results = []
    for create_graph in (False, True):
        p = nn.Parameter(np.array([1.0, -2.0, 0.5]))
        opt = make([p])
        for _ in range(2):
            opt.zero_grad()
            (p * p * p).sum().backward(create_graph=create_graph)
            assert isinstance(p.grad, Tensor) is create_graph
            opt.step()
        results.append(p.data.copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_clip_grad_norm_after_create_graph():
    p = nn.Parameter(np.array([3.0, 4.0]))
    (p * p * 0.5).sum().backward(create_graph=True)  # grad = p, norm 5
    assert nn.clip_grad_norm_([p], max_norm=1.0) == 5.0
    np.testing.assert_allclose(np.asarray(p.grad), [0.6, 0.8], rtol=1e-6)


def test_sgd_momentum_buffer_is_not_the_gradient():
    """12.8: changing .grad in place after a step must not change the momentum (PyTorch clones)."""
    for zero_in_place in (lambda g: g.fill(0.0), lambda g: g.__imul__(0.0)):
        p = nn.Parameter(np.array([1.0, 2.0]))
        opt = nn.optim.SGD([p], lr=0.1, momentum=0.9)
        p.grad = np.array([1.0, -1.0])
        opt.step()  # v = g1, p = p - 0.1 g1
        zero_in_place(p.grad)
        np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1.0, -1.0])
        p.grad = np.array([0.5, 0.5])
        opt.step()  # v = 0.9 g1 + g2
        np.testing.assert_allclose(
            p.data, [1.0 - 0.1 * 1.0 - 0.1 * (0.9 + 0.5), 2.0 + 0.1 * 1.0 - 0.1 * (-0.9 + 0.5)], rtol=1e-15
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: nn.optim.Adam(ps),
        lambda ps: nn.optim.Adam(ps, amsgrad=True),
        lambda ps: nn.optim.RMSprop(ps),
    ],
)
def test_every_optimisers_buffers_own_their_memory(make):
    p = nn.Parameter(np.array([1.0, 2.0, 3.0]))
    opt = make([p])
    for _ in range(2):
        p.grad = np.array([0.5, -1.0, 2.0])
        opt.step()
        buffers = [b for b in opt.state[p].values() if isinstance(b, np.ndarray)]
        assert buffers
        for buffer in buffers:
            assert not np.shares_memory(buffer, p.grad) and not np.shares_memory(buffer, p.data)
        for other in buffers:
            assert other is buffer or not np.shares_memory(other, buffer)
        saved = [b.copy() for b in buffers]
        p.grad *= 0.0
        p.grad[...] = 7.0
        for buffer, copy in zip(buffers, saved):
            np.testing.assert_array_equal(buffer, copy)


def test_groups_work_for_scalar_values():
    a, b = Value(3.0), Value(-1.0)
    opt = nn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.0}], lr=0.25, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (a * a + b * b).backward()
        opt.step()
    # v1 = 6, a = 1.5; v2 = 0.5 * 6 + 3 = 6, a = 0
    assert a.data == 0.0 and b.data == -1.0 and isinstance(a.data, float)
