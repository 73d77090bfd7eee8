"""The small-batch step's shortcuts keep their meaning, and the benchmark's fair conditions hold.

Timing is never tested: these check what the faster paths compute and which conditions the
MLP rows run under.
"""

import platform

import numpy as np
import pytest

import nn
from autograd import Tensor, draw_graph
from autograd.mode import PER_THREAD
from benchmarks import harness, mlp
from nn.functional import cross_entropy


def test_pin_allocator_works_where_there_is_glibc():
    assert harness.pin_allocator() is (platform.libc_ver()[0] == "glibc")


def test_one_blas_thread_limits_numpys_blas_to_one_thread():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pytest.fail("threadpoolctl is missing: pip install -e '.[examples]' (scikit-learn brings it)")
    with harness.one_blas_thread():
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas, "NumPy's BLAS was not found by threadpoolctl"
        assert all(pool["num_threads"] == 1 for pool in blas)


class _Listed(nn.Sequential):
    """A Sequential that also holds modules in a list, after its numbered ones."""

    def __init__(self):
        super().__init__(nn.Linear(3, 4, rng=0))
        self.extra = [nn.ReLU(), nn.Linear(4, 2, rng=1)]


def test_sequential_runs_listed_modules_in_order_as_members_lists_them():
    model = _Listed()
    members = [m for _, m in model._members() if isinstance(m, nn.Module)]
    assert list(model) == members and len(members) == 3
    x = np.random.default_rng(0).normal(size=(5, 3))
    expected = x @ model[0].weight.data.T + model[0].bias.data
    expected = np.maximum(expected, 0) @ model.extra[1].weight.data.T + model.extra[1].bias.data
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-12)


def test_module_call_names_each_node_by_its_modules_and_restores_the_scope():
    model = nn.MLP([3, 4, 2], rng=0)
    out = model(np.ones((2, 3)))
    assert out._scope == ("MLP", "2:Linear")
    assert out._parents[0]._scope == ("MLP", "1:ReLU")
    assert PER_THREAD.mode.scope == ()
    with pytest.raises(ValueError, match="linear"):
        model(np.ones((2, 5)))
    assert PER_THREAD.mode.scope == (), "a failing forward left its scope behind"
    source = draw_graph(out, collapse="scope").source  # one box per module, as before
    assert "0:Linear" in source and "1:ReLU" in source and "2:Linear" in source


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eager_label_loss_equals_the_one_hot_loss_and_stays_a_constant(dtype):
    rng = np.random.default_rng(4)
    z = Tensor(rng.normal(size=(6, 5)).astype(dtype), requires_grad=True)
    labels = rng.integers(0, 5, 6)
    by_labels = cross_entropy(z, labels)
    one_hot = by_labels._parents[1]
    assert one_hot._op is None and not one_hot.requires_grad
    np.testing.assert_array_equal(one_hot.data, np.eye(5, dtype=dtype)[labels])
    by_labels.backward()
    grad = z.grad.copy()
    z.grad = None
    cross_entropy(z, np.eye(5, dtype=dtype)[labels]).backward()
    np.testing.assert_array_equal(z.grad, grad)


def test_nn_step_matches_the_hand_written_step_over_several_steps():
    rng = np.random.default_rng(2)
    sizes = (12, 8, 6, 4)
    arrays = mlp.make_arrays(rng, np.float64, sizes=sizes)
    x, onehot = mlp.make_batch(rng, 16, np.float64, sizes=sizes)
    model = mlp.nn_model(arrays)
    opt = nn.optim.SGD(model.parameters(), lr=mlp.LR)
    for _ in range(3):
        hand_loss = mlp.numpy_step(arrays, x, onehot)
        loss = mlp.nn_step(model, opt, x, onehot.argmax(axis=1))
        np.testing.assert_allclose(loss.item(), hand_loss, rtol=1e-12)
    for layer, (w, b) in zip(model[::2], arrays):
        np.testing.assert_allclose(layer.weight.data, w, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.bias.data, b, rtol=1e-12, atol=1e-15)
