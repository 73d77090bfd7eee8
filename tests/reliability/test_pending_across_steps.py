"""A graph kept pending (never back-propagated) while training goes on: the later steps' own
graphs saw the updated parameters and must run; the kept graph saw the old ones and must refuse."""

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn.functional import cross_entropy


def _train(steps, keep_a_pending_graph):
    rng = np.random.default_rng(0)
    model = nn.MLP([4, 8, 3], rng=np.random.default_rng(1))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 3, 5)
    kept = model(x) if keep_a_pending_graph else None
    for _ in range(steps):
        opt.zero_grad()
        cross_entropy(model(x), y).backward()
        opt.step()
    return model, kept


def test_training_runs_beside_a_pending_graph_with_the_same_results():
    with_kept, kept = _train(3, keep_a_pending_graph=True)
    without, _ = _train(3, keep_a_pending_graph=False)
    for a, b in zip(with_kept.parameters(), without.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    # the kept graph saw the parameters before the steps changed them
    with pytest.raises(RuntimeError, match="was modified after op 'linear' used it"):
        kept.sum().backward()


def test_a_write_after_a_new_graph_saved_the_array_is_still_caught():
    w = Tensor(np.ones(3), requires_grad=True)
    kept = (w * 2.0).sum()  # pending: w's array is locked
    w.data -= 1.0  # handed out (writable, a copy kept for `kept`), then written
    fresh = (w * w).sum()  # a new generation: it saw w = 0 and locks the array again
    handle = w.data  # handed out again for the write below
    handle += 5.0
    with pytest.raises(RuntimeError, match="was modified"):
        fresh.backward()
    with pytest.raises(RuntimeError, match="was modified"):
        kept.backward()


def test_the_new_generation_locks_the_array_against_an_old_handle():
    w = Tensor(np.ones(3), requires_grad=True)
    kept = (w * 2.0).sum()
    old_handle = w.data  # writable while only `kept` saved it (its copy checks it)
    fresh = (w * w).sum()  # locks the array again for the new generation
    with pytest.raises(ValueError, match="read-only"):
        old_handle += 1.0
    fresh.backward()
    np.testing.assert_array_equal(w.grad, 2 * np.ones(3))
    # fresh is done: the array is writable again, and `kept` still checks the data it saw
    old_handle += 1.0
    with pytest.raises(RuntimeError, match="was modified"):
        kept.backward()


def test_copies_go_with_the_graphs_that_needed_them():
    w = Tensor(np.ones(3), requires_grad=True)
    kept = (w * 2.0).sum()
    for _ in range(5):
        step = (w * w).sum()
        step.backward()
        w.data -= 0.1 * w.grad
        w.grad = None
    assert w._saved_copy is not None and len(w._saved_copy) == 1  # kept's, not one per step
    del kept
    _ = w.data
    assert w._saved_copy is None
