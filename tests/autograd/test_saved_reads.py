"""Shortcuts of the small-batch step that must not change a result: linear locks only the arrays
its backward reads, and cross_entropy's own one-hot rows skip their row sums in the backward."""

import numpy as np
import pytest

from autograd import Tensor, linear, stack
from nn.functional import cross_entropy


def _layer(rng, x_grad, w_grad):
    x = Tensor(rng.normal(size=(5, 4)), requires_grad=x_grad)
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=w_grad)
    b = Tensor(rng.normal(size=3), requires_grad=True)
    return x, w, b


@pytest.mark.parametrize("x_grad, w_grad", [(False, True), (True, False), (True, True)])
def test_linear_locks_what_its_backward_reads_and_leaves_the_bias_writable(x_grad, w_grad):
    x, w, b = _layer(np.random.default_rng(0), x_grad, w_grad)
    arrays = {"x": x._data, "w": w._data, "b": b._data}
    out = linear(x, w, b)
    # the weight's gradient reads x, the input's reads w, no rule reads the bias
    assert arrays["x"].flags.writeable is not w_grad
    assert arrays["w"].flags.writeable is not x_grad
    assert arrays["b"].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        (arrays["x"] if w_grad else arrays["w"])[0, 0] = 1.0
    g = np.random.default_rng(1).normal(size=(5, 3))
    expected_db = g.sum(axis=0)
    arrays["b"][:] = 7.0  # read by no rule: the gradients stay those of the forward's values
    out.backward(g)
    np.testing.assert_allclose(b.grad, expected_db)
    if w_grad:
        np.testing.assert_allclose(w.grad, g.T @ arrays["x"])
    if x_grad:
        np.testing.assert_allclose(x.grad, g @ arrays["w"])
    assert all(a.flags.writeable for a in arrays.values())  # every lock is lifted by backward()


def test_cross_entropy_from_labels_matches_the_same_rows_given_as_probabilities():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(6, 5)) * 3
    labels = rng.integers(0, 5, 6)
    rows = np.eye(5)[labels]
    grads = []
    for target in (labels, rows, rows * 2.0):
        z = Tensor(logits, requires_grad=True)
        cross_entropy(z, target).backward()
        grads.append(z.grad)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-14, atol=1e-16)
    # rows that do not sum to 1 keep their row sums (the shortcut is only for the op's own rows)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grads[2], (2 * softmax - 2 * rows) / 6, rtol=1e-12, atol=1e-15)


def test_cross_entropy_from_labels_second_derivative_matches_the_same_rows():
    """With create_graph the shortcut runs on recorded ops: the Hessian-vector product agrees."""
    rng = np.random.default_rng(3)
    logits, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    labels = rng.integers(0, 3, 4)
    products = []
    for target in (labels, np.eye(3)[labels]):
        z = Tensor(logits, requires_grad=True)
        cross_entropy(z, target).backward(create_graph=True)
        dz = z.grad
        z.grad = None
        (dz * v).sum().backward()
        products.append(z.grad)
    np.testing.assert_allclose(products[0], products[1], rtol=1e-12, atol=1e-15)


def test_an_op_of_many_parents_locks_its_leaves_and_no_other_node():
    rng = np.random.default_rng(2)
    leaves = [Tensor(rng.normal(size=3), requires_grad=i != 1) for i in range(4)]  # one a constant
    inner = leaves[0] * 2.0  # not a leaf: nothing of its own to lock
    out = stack([*leaves, inner])
    assert [leaf._data.flags.writeable for leaf in leaves] == [False] * 4
    assert inner._data.flags.writeable
    out.sum().backward()
    assert all(leaf._data.flags.writeable for leaf in leaves)
    np.testing.assert_array_equal(leaves[0].grad, np.full(3, 3.0))
    assert leaves[1].grad is None
