"""Graph misuse: each mistake gets its own exception type and a message that says what happened."""

import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor, Value, no_grad


def tensor_loss():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True, label="x")
    return x, ((x * x).tanh() * 2).sum()


def value_loss():
    x = Value(0.5, label="x")
    return x, (x * x).tanh() * 2


@pytest.mark.parametrize("make", [tensor_loss, value_loss])
def test_a_second_backward_needs_retain_graph(make):
    x, loss = make()
    loss.backward()
    with pytest.raises(
        RuntimeError,
        match=r"backward: trying to go through the graph a second time "
        r"\(at op '(sum|\*)'\).*retain_graph=True",
    ):
        loss.backward()


def test_retain_graph_allows_a_second_backward_and_gradients_accumulate():
    x, loss = tensor_loss()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_create_graph_keeps_the_graph_for_a_backward_through_the_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x**3).sin().sum().backward(create_graph=True)  # no retain_graph: implied, as in PyTorch
    first = x.grad
    x.zero_grad()
    first.sum().backward()
    u = x.data**3
    expected = 6 * x.data * np.cos(u) - 9 * x.data**4 * np.sin(u)
    np.testing.assert_allclose(x.grad, expected)


def test_a_graph_shared_by_two_roots_is_consumed_by_the_first_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    shared = (x * 2).exp()
    a, b = shared.sum(), (shared * 3).sum()
    a.backward()
    with pytest.raises(RuntimeError, match=r"second time \(at op 'exp'\)"):
        b.backward()


def test_backward_inside_no_grad_of_a_graph_built_outside_it_works():
    x, loss = tensor_loss()
    with no_grad():
        loss.backward()
    expected = 2 * (1 - np.tanh(x.data**2) ** 2) * 2 * x.data
    np.testing.assert_allclose(x.grad, expected)
    assert not isinstance(x.grad, Tensor)


@pytest.mark.parametrize("family", [Tensor, Value])
def test_backward_of_a_result_made_inside_no_grad_names_the_cause(family):
    x = Tensor(np.ones(2), requires_grad=True) if family is Tensor else Value(1.0)
    with no_grad():
        y = (x * 2).sum() if family is Tensor else x * 2
    with pytest.raises(
        RuntimeError,
        match=rf"backward: this {family.__name__} does not require grad"
        r".*no_grad\(\)",
    ):
        y.backward()


def test_grad_of_a_non_leaf_warns_and_names_retain_grad():
    x = Tensor(np.ones(2), requires_grad=True)
    h = x * 3
    h.sum().backward()
    with pytest.warns(UserWarning, match=r"made by '\*' \(not a leaf\).*retain_grad\(\)"):
        assert h.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # a leaf: no warning


def set_data(p):
    p.data = p.data * 0.5


def subtract_in_place(p):
    p.data -= 0.1


@pytest.mark.parametrize("change", [set_data, subtract_in_place])
@pytest.mark.parametrize("label, named", [("w", "'w'"), ("", r"of shape \(2, 3\)")])
def test_changing_data_that_a_pending_backward_needs_raises(change, label, named):
    w = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label=label)
    loss = (Tensor(np.ones((4, 2))) @ w).relu().sum()
    change(w)
    with pytest.raises(
        RuntimeError,
        match=rf"backward: the data of the tensor {named} was modified "
        r"after op 'matmul' used it",
    ):
        loss.backward()
    assert w.grad is None


def test_changing_data_after_backward_and_recomputing_is_fine():
    w = Tensor(np.ones(3), requires_grad=True)
    (w * w).sum().backward()
    subtract_in_place(w)
    w.zero_grad()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * w.data)


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: nn.optim.Adam(ps, lr=0.01),
        lambda ps: nn.optim.RMSprop(ps, lr=0.01),
    ],
)
def test_an_optimiser_step_between_forward_and_backward_raises(optimizer):
    model = nn.MLP([3, 4, 2], rng=0)
    opt = optimizer(model.parameters())
    X = Tensor(np.ones((5, 3)))
    model(X).sum().backward()  # gradients for the step
    pending = model(X).sum()
    opt.step()
    with pytest.raises(RuntimeError, match=r"the data of the tensor '(weight|bias)' was modified after op"):
        pending.backward()
