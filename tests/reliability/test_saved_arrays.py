"""What a pending graph saved: released after backward() (memory), never changed before it (issue 12 item 9)."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor, draw_graph, explain, linear
from autograd.saved import RELEASE_MIN_SIZE, ReleasedData
from nn.functional import cross_entropy

BIG = (64, RELEASE_MIN_SIZE // 64)  # just big enough to be released


def big(seed=0, shape=BIG):
    return np.random.default_rng(seed).normal(size=shape)


def is_released(t):
    return type(t._data) is ReleasedData


# Memory: what backward() releases ---------------------------------------------------


def test_backward_releases_the_arrays_only_the_graph_holds():
    x = Tensor(big(), requires_grad=True, label="x")
    kept = (x * 2).tanh()  # the caller holds this one
    loss = (kept * 3).sum()
    loss.backward()
    times_three, times_two = loss._parents[0], kept._parents[0]
    assert is_released(times_three) and is_released(times_two)
    assert times_two.shape == BIG and times_two.dtype == np.float64  # the shape stays
    assert type(kept.data) is np.ndarray and type(x.data) is np.ndarray and type(loss.data) is np.ndarray
    np.testing.assert_array_equal(kept.data, np.tanh(2 * x.data))


@pytest.mark.parametrize(
    "use",
    [
        lambda h, w: h * w,  # the first input of a two-input op, both needing gradients
        lambda h, w: w * h,  # the second
        lambda h, w: h * w.detach(),  # the first, alone needing one (a single rule runs)
        lambda h, w: w.detach() * h,  # the second, alone
        lambda h, w: linear(h, w[:8]),  # an input of a three-input op
    ],
)
def test_a_node_only_the_graph_holds_is_released_whatever_op_reads_it(use):
    w = Tensor(big(1), requires_grad=True)
    loss = use(Tensor(big(), requires_grad=True).tanh(), w).sum()
    reader = loss._parents[0]  # the op reading the tanh node (held here: not released)
    loss.backward()
    (hidden,) = (p for p in reader._parents if p._op is not None and p._op.name == "tanh")
    assert is_released(hidden)


def test_retain_graph_and_small_arrays_keep_their_data():
    x = Tensor(big(), requires_grad=True)
    loss = ((x * 2).tanh() * 3).sum()
    loss.backward(retain_graph=True)
    assert not is_released(loss._parents[0])
    small = Tensor(np.ones(RELEASE_MIN_SIZE - 1), requires_grad=True)
    loss = ((small * 2) * 3).sum()
    loss.backward()
    assert not is_released(loss._parents[0])


def test_a_released_node_refuses_to_give_values_and_draw_graph_shows_its_shape():
    x = Tensor(big(), requires_grad=True, label="x")
    loss = ((x * 2).tanh()).sum()
    loss.backward()
    inner = loss._parents[0]
    with pytest.raises(
        RuntimeError,
        match=r"Tensor.data: the data of the tensor of shape \(64, 64\) \(made "
        r"by 'tanh'\) was released by backward\(\)",
    ):
        inner.data  # noqa: B018  (reading it raises)
    with pytest.raises(RuntimeError, match="released by backward"):
        explain(loss, x)
    assert repr(inner) == "Tensor(<released by backward(): shape (64, 64), float64>, op='tanh')"


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_draw_graph_after_backward_draws_the_same_picture(direction):
    """Tensors' edges show shapes, and values are drawn only for leaves and one-element
    tensors, which are never released: the picture does not change."""
    pictures = []
    for retain in (True, False):
        x = Tensor(big(), requires_grad=True, label="x")
        loss = ((x * 2).tanh()).sum()
        loss.backward(retain_graph=retain)
        assert is_released(loss._parents[0]) is not retain
        pictures.append(draw_graph(loss, direction=direction).source)
    assert pictures[0] == pictures[1] and "(64, 64) float64" in pictures[0]


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 40), st.integers(1, 5), st.sampled_from([np.float32, np.float64]))
def test_releasing_changes_no_gradient(batch, seed, dtype):
    """The same MLP step with and without retain_graph: bit-identical gradients."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, 200)).astype(dtype)
    labels = rng.integers(0, 10, batch)
    grads = []
    for retain in (False, True):
        model = nn.MLP([200, 64, 10], rng=seed, dtype=dtype)
        cross_entropy(model(x), labels).backward(retain_graph=retain)
        grads.append([p.grad for p in model.parameters()])
    for released, retained in zip(*grads):
        np.testing.assert_array_equal(released, retained)


def test_a_training_loop_keeps_no_activation_of_the_last_step_alive():
    """The caller's `loss` outlives its step; after backward() it holds no big array but its own."""
    model = nn.MLP([300, 128, 10], rng=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    x, labels = big(1, (64, 300)), np.arange(64) % 10
    for _ in range(2):
        opt.zero_grad()
        loss = cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
    stack, sizes = [loss], []
    while stack:
        node = stack.pop()
        if node._op is not None and type(node._data) is np.ndarray:
            sizes.append(node._data.size)
        stack.extend(node._parents)
    assert max(sizes) < RELEASE_MIN_SIZE  # the hidden layer's 64 x 128 went back


# In-place writes into saved arrays ----------------------------------------------------


def test_the_callers_array_is_read_only_while_a_graph_saved_it():
    buffer = big(2)
    w = Tensor(big(3), requires_grad=True)
    loss = (Tensor(buffer) * w).sum()  # Tensor(buffer) shares the caller's array
    with pytest.raises(ValueError, match="read-only"):
        buffer[0, 0] = 5.0
    loss.backward()
    np.testing.assert_array_equal(w.grad, buffer)
    buffer[0, 0] = 5.0  # consumed: the caller's array is theirs again


def test_a_dropped_graph_gives_the_array_back():
    buffer = big(2)
    loss = (Tensor(buffer) * Tensor(big(3), requires_grad=True)).sum()
    del loss
    assert buffer.flags.writeable
    buffer[0, 0] = 1.0


def test_an_array_the_caller_made_read_only_stays_read_only():
    buffer = big(2)
    buffer.flags.writeable = False
    (Tensor(buffer) * Tensor(big(3), requires_grad=True)).sum().backward()
    assert not buffer.flags.writeable


def test_a_read_only_array_takes_no_lock_and_writes_into_it_are_still_refused():
    from autograd import saved

    buffer = big(2)
    buffer.flags.writeable = False
    constant = Tensor(buffer)
    loss = (constant * Tensor(big(3), requires_grad=True)).sum()
    assert not saved.pending(constant)  # no _Hold: NumPy's own flag already refuses writes
    with pytest.raises(ValueError, match="read-only"):
        constant.data[0, 0] = 5.0
    loss.backward()
    assert not buffer.flags.writeable


def test_cross_entropys_one_hot_rows_are_read_only_and_need_no_lock():
    from autograd import saved

    logits = Tensor(big(5, (4, 3)), requires_grad=True)
    loss = cross_entropy(logits, np.array([0, 2, 1, 2]))
    one_hot = loss._parents[1]
    assert one_hot._op is None and not one_hot._data.flags.writeable
    assert not saved.pending(one_hot)
    with pytest.raises(ValueError, match="read-only"):
        one_hot._data[0, 0] = 0.5
    loss.backward()
    p = np.exp(logits.data) / np.exp(logits.data).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad, (p - np.eye(3)[[0, 2, 1, 2]]) / 4, rtol=1e-12)


def test_an_array_saved_by_two_pending_graphs_stays_locked_until_both_are_done():
    buffer = big(2)
    w = Tensor(big(3), requires_grad=True)
    first, second = (Tensor(buffer) * w).sum(), (Tensor(buffer) * w * 2).sum()
    first.backward()
    with pytest.raises(ValueError, match="read-only"):
        buffer[0, 0] = 5.0
    second.backward()
    np.testing.assert_array_equal(w.grad, 3 * buffer)
    buffer[0, 0] = 5.0


@pytest.mark.parametrize(
    "write",
    [
        lambda t: t.data.__setitem__((0, 0), 7.0),
        lambda t: t.data.__iadd__(1.0),
        lambda t: np.asarray(t).__setitem__(0, 0.0),
        lambda t: t.numpy().fill(0.0),
    ],
)
def test_a_write_through_data_before_backward_raises_naming_the_tensor(write):
    x = Tensor(big(4), requires_grad=True, label="x")
    loss = (x * x).sum()
    write(x)
    with pytest.raises(RuntimeError, match=r"backward: the data of the tensor 'x' was modified after op '\*'"):
        loss.backward()


def test_a_write_into_an_intermediate_before_backward_raises_naming_it():
    x = Tensor(big(4), requires_grad=True)
    hidden = x.tanh()
    hidden.label = "hidden"
    loss = (hidden * hidden).sum()
    hidden.data[0] = 0.0
    with pytest.raises(RuntimeError, match=r"the data of the tensor 'hidden' was modified after op"):
        loss.backward()


def test_reading_data_before_backward_changes_nothing():
    x = Tensor(big(4), requires_grad=True, label="x")
    hidden = linear(x, Tensor(big(5, (8, BIG[1])), requires_grad=True)).tanh()
    loss = (hidden * hidden).sum()
    snapshot = (x.data.sum(), hidden.data.max(), np.asarray(x).min())
    assert np.isfinite(snapshot).all()
    loss.backward()
    expected = 2 * hidden.data * (1 - hidden.data**2)
    w = loss._parents[0]._parents[0]._parents[0]._parents[1]
    np.testing.assert_allclose(w.grad, expected.T @ x.data, rtol=1e-12)
    x.data[0, 0] = 1.0  # after backward: any write goes


def test_an_optimiser_step_after_backward_needs_no_copy_and_works():
    model = nn.MLP([30, 8, 2], rng=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    before = [p.data.copy() for p in model.parameters()]
    cross_entropy(model(big(6, (5, 30))), np.array([0, 1, 0, 1, 1])).backward()
    opt.step()
    assert all(p._saved_copy is None for p in model.parameters())
    assert all((p.data != b).any() for p, b in zip(model.parameters(), before))
    gc.collect()
    assert all(p.data.flags.writeable for p in model.parameters())


def test_a_handed_out_tensor_leaves_the_engines_registry_when_it_is_done_or_gone():
    from autograd import engine

    x = Tensor(big(4), requires_grad=True)
    loss = (x * x).sum()
    assert x.data is x._data  # handed out while the graph is pending: backward compares every node now
    assert id(x) in engine.HANDED_OUT
    loss.backward()  # its copy is forgotten with the lock
    gc.collect()
    assert id(x) not in engine.HANDED_OUT
    hidden = Tensor(big(4), requires_grad=True).tanh()
    pending = (hidden * hidden).sum()
    assert hidden.data is hidden._data
    key = id(hidden)
    del hidden, pending  # the tensor goes without a backward: its entry goes with it
    assert key not in engine.HANDED_OUT
