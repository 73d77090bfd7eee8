"""The optimiser's direct paths: plain SGD writes into a parameter's array without the `data`
property when no pending graph saved it, and zero_grad sets the gradient slots. Each must
behave as `p.data -= lr * g` and `p.zero_grad()` do, and fall back to them where they differ."""

import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from autograd.engine import DATA_WRITES
from autograd.tensor import subtract_scaled_grads
from nn.functional import cross_entropy


def _parameters(dtype=np.float32):
    rng = np.random.default_rng(3)
    return [nn.Parameter(rng.normal(size=shape).astype(dtype)) for shape in [(4, 3), (4,), (2, 4)]]


def _loss(params, x):
    w1, b1, w2 = params
    return cross_entropy((x @ w1.T + b1).relu() @ w2.T, np.array([0, 1, 1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_sgd_writes_in_place_as_the_data_property_does(dtype):
    x = np.random.default_rng(4).normal(size=(3, 3)).astype(dtype)
    direct, by_property = _parameters(dtype), _parameters(dtype)
    arrays = [p.data for p in direct]
    opt = nn.optim.SGD(direct, lr=0.3)
    for _ in range(3):
        opt.zero_grad()
        for p in by_property:
            p.zero_grad()
        _loss(direct, x).backward()
        _loss(by_property, x).backward()
        before = DATA_WRITES[0]
        opt.step()
        for p, q in zip(direct, by_property):
            q.data -= 0.3 * q.grad
            assert p._version > before  # a graph made before the step refuses backward()
            np.testing.assert_array_equal(p.data, q.data)
            assert p.data.dtype == dtype
    assert all(p.data is a for p, a in zip(direct, arrays))  # written in place, the arrays kept


def test_plain_sgd_marks_graphs_made_before_the_step_as_stale():
    params = _parameters()
    x = np.ones((3, 3), np.float32)
    opt = nn.optim.SGD(params, lr=0.1)
    loss = _loss(params, x)
    loss.backward()
    stale = _loss(params, x)
    stale.backward(retain_graph=True)  # its graph stays, no longer pending
    opt.step()
    with pytest.raises(RuntimeError, match="modified"):
        stale.backward()


def test_plain_sgd_beside_a_pending_graph_takes_the_checked_path():
    params = _parameters()
    x = np.ones((3, 3), np.float32)
    opt = nn.optim.SGD(params, lr=0.1)
    kept = _loss(params, x)  # pending: the parameters' arrays are locked and saved
    seen = [p._data.copy() for p in params]
    _loss(params, x).backward()
    opt.step()  # the `data` property hands the arrays out (with copies for `kept`) and writes
    assert all(not np.array_equal(p.data, s) for p, s in zip(params, seen))
    with pytest.raises(RuntimeError, match="was modified"):
        kept.backward()


def test_plain_sgd_refuses_a_read_only_array_as_before():
    frozen = np.ones(3)
    frozen.setflags(write=False)
    p = Tensor(frozen, requires_grad=True)
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match="read-only"):
        nn.optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(frozen, np.ones(3))


def test_plain_sgd_on_values_and_on_gradients_that_are_graphs():
    v, w = Value(2.0), Value(-1.0)
    opt = nn.optim.SGD([v, w], lr=0.25)
    (v * v * w).backward()  # dv = 2 v w = -4, dw = v^2 = 4
    opt.step()
    assert (v.data, w.data) == (3.0, -2.0) and isinstance(v.data, float)
    opt.zero_grad()
    assert v.grad == 0.0 and w.grad == 0.0  # a Value's empty gradient is 0.0, not None

    p = nn.Parameter(np.array([1.0, 2.0]))
    (p * p * p).sum().backward(create_graph=True)  # p.grad = 3 p^2, itself a graph
    nn.optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.3, 2.0 - 1.2])


def test_groups_mix_plain_momentum_and_weight_decay_steps():
    plain, heavy, decayed = (nn.Parameter(np.array([1.0, -1.0])) for _ in range(3))
    opt = nn.optim.SGD(
        [{"params": [plain]}, {"params": [heavy], "momentum": 0.5}, {"params": [decayed], "weight_decay": 0.1}],
        lr=0.1,
    )
    for _ in range(2):
        opt.zero_grad()
        assert plain.grad is None and heavy.grad is None and decayed.grad is None
        for p in (plain, heavy, decayed):
            p.grad = np.array([1.0, 2.0])
        opt.step()
    np.testing.assert_allclose(plain.data, [1.0 - 0.2, -1.0 - 0.4])
    # momentum: v = g, then 0.5 g + g; two steps of lr v
    np.testing.assert_allclose(heavy.data, [1.0 - 0.1 * 2.5, -1.0 - 0.2 * 2.5])
    first = np.array([1.0, -1.0]) - 0.1 * (np.array([1.0, 2.0]) + 0.1 * np.array([1.0, -1.0]))
    np.testing.assert_allclose(decayed.data, first - 0.1 * (np.array([1.0, 2.0]) + 0.1 * first))


def test_plain_sgd_skips_the_data_property_when_nothing_saved_the_arrays(monkeypatch):
    params = _parameters()
    _loss(params, np.ones((3, 3), np.float32)).backward()
    reads = []
    data = Tensor.data
    monkeypatch.setattr(Tensor, "data", property(lambda t: reads.append(t) or data.fget(t), data.fset))
    nn.optim.SGD(params, lr=0.1).step()
    assert reads == []
    nn.optim.SGD(params, lr=0.1, momentum=0.9).step()  # the general path reads it
    assert len(reads) == len(params)


def test_a_subclass_with_its_own_rule_is_not_taken_for_plain_sgd():
    class HalfSteps(nn.optim.SGD):
        def _update(self, state, g, group):
            return 0.5 * super()._update(state, g, group)

    p = nn.Parameter(np.array([1.0, 2.0]))
    p.grad = np.array([1.0, 1.0])
    HalfSteps([p], lr=0.2).step()
    np.testing.assert_allclose(p.data, [0.9, 1.9])


def test_subtract_scaled_grads_writes_what_it_can_and_returns_the_rest():
    direct = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    direct.grad = np.array([1.0, -1.0])
    idle = Tensor(np.array([5.0]), requires_grad=True)  # grad None: neither written nor returned
    scalar = Value(1.0)
    scalar.grad = 2.0
    graph_grad = nn.Parameter(np.array([1.0]))
    (graph_grad * graph_grad).sum().backward(create_graph=True)
    saved = Tensor(np.array([3.0]), requires_grad=True)
    saved.grad = np.array([1.0])
    pending = saved * 2.0  # a pending graph saved its array
    others = subtract_scaled_grads([direct, idle, scalar, graph_grad, saved], 0.5)
    assert others == [scalar, graph_grad, saved]
    np.testing.assert_array_equal(direct.data, [0.5, 2.5])
    np.testing.assert_array_equal(idle.data, [5.0])
    assert scalar.data == 1.0 and graph_grad.data[0] == 1.0 and saved.data[0] == 3.0
    pending.sum().backward()  # nothing it saved was written
    np.testing.assert_array_equal(saved.grad, [3.0])
