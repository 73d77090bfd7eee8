"""The benchmarks' references compute what chainrule computes (a fast check; timing is never tested)."""

import numpy as np

from autograd import Tensor
from benchmarks import mlp, per_op


def test_per_op_chains_agree():
    x0, w, c = per_op.make_inputs(seed=3)
    expected = per_op.numpy_chain(x0, w, c)
    np.testing.assert_allclose(per_op.tensor_chain(x0, Tensor(w), Tensor(c)), expected, rtol=1e-12)
    np.testing.assert_allclose(per_op.bare_chain(x0, w, c), expected, rtol=1e-12)


def test_hand_written_mlp_step_matches_the_engine():
    rng = np.random.default_rng(4)
    arrays = mlp.make_arrays(rng, np.float64, sizes=(12, 8, 6, 4))
    x, onehot = mlp.make_batch(rng, 5, np.float64, sizes=(12, 8, 6, 4))
    params = mlp.tensor_params(arrays)
    loss = mlp.tensor_loss(params, x, onehot)
    loss.backward()
    hand_loss, hand_grads = mlp.numpy_forward_backward(arrays, x, onehot)
    np.testing.assert_allclose(loss.item(), hand_loss, rtol=1e-12)
    for (w, b), (dw, db) in zip(params, hand_grads):
        np.testing.assert_allclose(w.grad, dw, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(b.grad, db, rtol=1e-10, atol=1e-14)


def test_hand_written_mlp_step_from_labels_matches_the_engine_from_labels():
    """The MLP rows give every side the same integer labels; the hand-written step makes its one-hot rows."""
    rng = np.random.default_rng(6)
    sizes = (12, 8, 6, 4)
    arrays = mlp.make_arrays(rng, np.float32, sizes=sizes)
    x, onehot = mlp.make_batch(rng, 7, np.float32, sizes=sizes)
    labels = onehot.argmax(axis=1)
    from_labels, from_rows = (
        mlp.numpy_forward_backward(arrays, x, labels),
        mlp.numpy_forward_backward(arrays, x, onehot),
    )
    assert from_labels[0] == from_rows[0]
    params = mlp.tensor_params(arrays)
    loss = mlp.tensor_loss(params, x, labels)
    loss.backward()
    np.testing.assert_allclose(loss.item(), from_labels[0], rtol=1e-5)
    for (w, b), (dw, db), (row_dw, row_db) in zip(params, from_labels[1], from_rows[1]):
        np.testing.assert_array_equal(dw, row_dw)
        np.testing.assert_array_equal(db, row_db)
        np.testing.assert_allclose(w.grad, dw, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b.grad, db, rtol=1e-4, atol=1e-6)


def test_hand_written_lstm_matches_nn_lstm():
    from benchmarks import rnn

    model, arrays, x, weights = rnn.make_problem(np.random.default_rng(5), np.float64, sizes=(4, 3, 5, 6))
    out = rnn.tensor_forward_backward(model, x, weights)
    hand_out, hand_grads = rnn.numpy_forward_backward(arrays, x, weights)
    np.testing.assert_allclose(out.data, hand_out, rtol=1e-12, atol=1e-15)
    for p, g in zip(model.parameters(), hand_grads):
        np.testing.assert_allclose(p.grad, g, rtol=1e-10, atol=1e-14)


def test_memory_references_and_the_nn_step_make_the_same_update():
    """The lean hand-written step (benchmarks/memory.py), raw Tensor ops and nn.MLP + SGD."""
    import nn
    from benchmarks import memory

    rng = np.random.default_rng(5)
    sizes = (12, 8, 6, 4)
    arrays = mlp.make_arrays(rng, np.float64, sizes=sizes)
    x, onehot = mlp.make_batch(rng, 5, np.float64, sizes=sizes)
    lean = [(w.copy(), b.copy()) for w, b in arrays]
    for phase in memory.lean_phases(lean, x, onehot, mlp.LR):
        phase()
    params = mlp.tensor_params(arrays)
    mlp.tensor_step(params, x, onehot)
    model = mlp.nn_model(arrays)
    mlp.nn_step(model, nn.optim.SGD(model.parameters(), lr=mlp.LR), x, onehot.argmax(axis=1))
    for (w, b), (tw, tb), layer in zip(lean, params, model[::2]):
        for ours in (tw.data, layer.weight.data):
            np.testing.assert_allclose(ours, w, rtol=1e-12)
        for ours in (tb.data, layer.bias.data):
            np.testing.assert_allclose(ours, b, rtol=1e-12, atol=1e-15)
