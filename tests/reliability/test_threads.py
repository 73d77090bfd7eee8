"""Threads: grad mode, anomaly checks and scopes belong to one thread, and two models trained in
two threads at once end bit-identical to the same models trained one after the other."""

import sys
import threading

import numpy as np
import pytest

import nn
from autograd import Tensor, Value, detect_anomaly, is_grad_enabled, no_grad, scope

TIMEOUT = 60


def run_in_lockstep(*steps_per_thread):
    """Run one list of steps per thread; all threads do step i before any does step i + 1.

    Returns each thread's step results. So one thread is inside a with-block while
    another runs its next step: the interleaving is forced, not left to luck.
    """
    barrier = threading.Barrier(len(steps_per_thread), timeout=TIMEOUT)
    results = [[] for _ in steps_per_thread]
    errors = []

    def run(steps, out):
        try:
            for step in steps:
                barrier.wait()
                out.append(step())
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(s, r)) for s, r in zip(steps_per_thread, results)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    if errors:
        raise errors[0]
    return results


def records_a_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * 3).sum()
    made = y.requires_grad
    if made:
        y.backward()
        assert x.grad.tolist() == [3.0, 3.0]
    return made, is_grad_enabled()


def test_no_grad_in_one_thread_leaves_the_other_recording():
    blocks = {}

    def enter(name, manager):
        def step():
            blocks[name] = manager
            manager.__enter__()

        return step

    def leave(name):
        return lambda: blocks[name].__exit__(None, None, None)

    quiet = [enter("quiet", no_grad()), records_a_graph, leave("quiet"), records_a_graph]
    busy = [records_a_graph, records_a_graph, records_a_graph, records_a_graph]
    quiet_seen, busy_seen = run_in_lockstep(quiet, busy)
    assert quiet_seen[1] == (False, False) and quiet_seen[3] == (True, True)
    assert busy_seen == [(True, True)] * 4


def test_anomaly_checks_and_scopes_are_per_thread():
    def nan_op():
        with np.errstate(invalid="ignore"):
            return (Tensor(np.array([-1.0]), requires_grad=True).log() * 0).sum()

    def checked():
        with detect_anomaly(), scope("checked"):
            with pytest.raises(FloatingPointError, match="log"):
                nan_op()
            return Tensor(np.ones(1), requires_grad=True) * 2

    def unchecked():
        return nan_op() * 1, Tensor(np.ones(1), requires_grad=True) * 2

    (inside,), ((out, plain),) = run_in_lockstep([checked], [unchecked])
    assert np.isnan(out.item())
    assert inside._scope == ("checked",) and plain._scope == ()


def train_tensor_model(seed, steps=300):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(32, 5)), rng.integers(0, 3, size=32)
    model = nn.MLP([5, 16, 3], rng=seed)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(Tensor(X)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.data.copy() for p in model.parameters()]


def train_scalar_model(seed, steps=60):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(8, 2)).tolist(), rng.choice([-1.0, 1.0], size=8).tolist()
    model = nn.scalar.MLP([2, 6, 1], rng=seed)
    opt = nn.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        loss = sum(((model(x) - t) ** 2 for x, t in zip(X, y)), Value(0.0))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    return losses, [p.data for p in model.parameters()]


@pytest.fixture
def frequent_thread_switches():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # the GIL changes hands every 10 us, not every 5 ms
    yield
    sys.setswitchinterval(previous)


@pytest.mark.parametrize("train", [train_tensor_model, train_scalar_model])
def test_two_models_trained_at_once_match_training_them_in_turn(train, frequent_thread_switches):
    one_after_the_other = [train(1), train(2)]
    at_once = [None, None]
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def run(i, seed):
        barrier.wait()
        at_once[i] = train(seed)

    threads = [threading.Thread(target=run, args=(i, seed)) for i, seed in enumerate((1, 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    for (losses, params), (ref_losses, ref_params) in zip(at_once, one_after_the_other):
        assert losses == ref_losses  # bit-identical, not merely close
        assert all(np.array_equal(p, q) for p, q in zip(params, ref_params))
    assert one_after_the_other[0][0][-1] < one_after_the_other[0][0][0]  # they did train
