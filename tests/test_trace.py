"""trace(): the static replay gives bit-identical results to eager execution."""
import numpy as np
import pytest

from autograd import Tensor, trace

from benchmarks.mlp import make_arrays, make_batch, sgd_update, tensor_loss, tensor_params


def _mlp(dtype=np.float64, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    arrays = make_arrays(rng, dtype, sizes=(20, 16, 8, 5))
    x, onehot = make_batch(rng, batch, dtype, sizes=(20, 16, 8, 5))
    return arrays, x, onehot


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_traced_training_matches_eager_bit_for_bit(dtype):
    arrays, x, onehot = _mlp(dtype)
    eager, traced = tensor_params(arrays), tensor_params(arrays)
    step = trace(lambda xb, yb: tensor_loss(traced, xb, yb), x, onehot)
    rng = np.random.default_rng(1)
    for _ in range(5):
        xb = rng.normal(size=x.shape).astype(dtype)
        loss_eager = tensor_loss(eager, xb, onehot)
        loss_eager.backward()
        grads_eager = [p.grad.copy() for pair in eager for p in pair]
        loss_traced = step(xb, onehot)
        grads_traced = [p.grad.copy() for pair in traced for p in pair]
        assert loss_traced.item() == loss_eager.item()
        for a, b in zip(grads_eager, grads_traced):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_array_equal(a, b)
        sgd_update(eager)
        sgd_update(traced)
    for (we, be), (wt, bt) in zip(eager, traced):
        np.testing.assert_array_equal(we.data, wt.data)
        np.testing.assert_array_equal(be.data, bt.data)


def test_every_kind_of_op_replays_identically():
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True)

    def f(x):
        h = (x @ w).tanh() * 2.0 - x.sum(axis=1, keepdims=True).exp() / 3.0
        h = h.reshape(-1)[1:].relu() + h.T.reshape(-1)[:-1].sigmoid() ** 2
        return h.logsumexp() + h.max() - (h.abs() + 1).log().mean() + h.clip(-0.5, 0.5).sum()

    x = rng.normal(size=(2, 3))
    traced = trace(f, x)
    for _ in range(3):
        x = rng.normal(size=(2, 3))
        w.grad = None
        eager = f(Tensor(x))
        eager.backward()
        g_eager = w.grad.copy()
        w.grad = None
        assert traced(x).item() == eager.item()
        np.testing.assert_array_equal(w.grad, g_eager)


def test_new_shapes_retrace_or_raise():
    w = Tensor(np.ones(3), requires_grad=True)
    traced = trace(lambda x: (x * w).sum(), np.ones((2, 3)))
    assert traced(np.ones((4, 3))).item() == 12.0
    strict = trace(lambda x: (x * w).sum(), np.ones((2, 3)), retrace=False)
    with pytest.raises(ValueError, match=r"trace: inputs changed from \(2, 3\) float64 to \(4, 3\) float64"):
        strict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="float32"):
        strict(np.ones((2, 3), dtype=np.float32))


def test_backward_false_and_non_scalar_results_only_run_forward():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    traced = trace(lambda x: x * w, np.ones(2))
    out = traced(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(out.data, [3.0, 8.0])
    assert w.grad is None
    scalar = trace(lambda x: (x * w).sum(), np.ones(2))
    scalar(np.ones(2), backward=False)
    assert w.grad is None
    scalar(np.ones(2))
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])


def test_parameter_updates_between_calls_are_seen():
    w = Tensor(np.array([1.0]), requires_grad=True)
    traced = trace(lambda x: (x * w).sum(), np.array([2.0]))
    assert traced(np.array([2.0])).item() == 2.0
    w.data = np.array([5.0])
    assert traced(np.array([2.0])).item() == 10.0


def test_bad_functions_and_inputs_are_reported():
    with pytest.raises(TypeError, match="trace: the function must return a Tensor"):
        trace(lambda x: 3.0, np.ones(2))
    with pytest.raises(TypeError, match="trace: inputs must be numeric"):
        trace(lambda x: x, np.array(["a"]))
