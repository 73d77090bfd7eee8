"""nn.GCNConv: the propagation rule D^-1/2 (A + I) D^-1/2 x W^T + b and its gradients."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor
from nn.graph import normalized_adjacency
from tests.support.gradients import central_difference


def gcn_numpy(x, A, W, b):
    A_hat = A + np.eye(len(A))
    d = A_hat.sum(axis=1)
    return np.diag(d**-0.5) @ A_hat @ np.diag(d**-0.5) @ x @ W.T + b


def test_path_graph_by_hand():
    # 0 - 1 - 2: degrees with self-loops 2, 3, 2
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    expected = np.array(
        [[1 / 2, 1 / np.sqrt(6), 0], [1 / np.sqrt(6), 1 / 3, 1 / np.sqrt(6)], [0, 1 / np.sqrt(6), 1 / 2]]
    )
    np.testing.assert_allclose(normalized_adjacency(A), expected, rtol=1e-15)
    layer = nn.GCNConv(2, 1, rng=0)
    layer.weight.data = np.array([[1.0, -1.0]])
    layer.bias.data = np.array([0.5])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])  # x W^T = (1, -1, 0)
    np.testing.assert_allclose(layer(x, A).data[:, 0], expected @ [1.0, -1.0, 0.0] + 0.5, rtol=1e-15)


def test_existing_self_loops_count_once_and_no_bias():
    A = np.array([[1, 1], [1, 0]])
    np.testing.assert_array_equal(normalized_adjacency(A), normalized_adjacency([[0, 1], [1, 0]]))
    layer = nn.GCNConv(3, 2, bias=False, rng=1)
    assert layer.bias is None and set(layer.state_dict()) == {"weight"}
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(
        layer(x, A).data, gcn_numpy(x, np.array([[0, 1], [1, 0]]), layer.weight.data, 0), rtol=1e-14
    )


@settings(max_examples=20)
@given(n_nodes=st.integers(1, 7), n_in=st.integers(1, 4), n_out=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_formula_and_gradients_against_central_differences(n_nodes, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n_nodes, n_nodes)) < 0.4, 1)
    A = (upper | upper.T).astype(float)
    layer = nn.GCNConv(n_in, n_out, rng=seed)
    layer.bias.data = rng.normal(size=n_out)
    x = Tensor(rng.normal(size=(n_nodes, n_in)), requires_grad=True)
    mix = rng.normal(size=(n_nodes, n_out))  # a random linear read-out of the output
    out = layer(x, A)
    np.testing.assert_allclose(
        out.data, gcn_numpy(x.data, A, layer.weight.data, layer.bias.data), rtol=1e-12, atol=1e-12
    )
    (out * mix).sum().backward()
    numeric = central_difference(
        lambda x, W, b: float((gcn_numpy(x, A, W, b) * mix).sum()), [x.data, layer.weight.data, layer.bias.data]
    )
    for grad, expected in zip((x.grad, layer.weight.grad, layer.bias.grad), numeric):
        np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)


def test_initialisation_follows_pytorch_geometric():
    layer = nn.GCNConv(30, 20, rng=0)
    bound = np.sqrt(6 / 50)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.weight.data).max() > 0.9 * bound
    np.testing.assert_array_equal(layer.bias.data, 0)
    assert layer.weight.shape == (20, 30)


def test_gcn_errors_name_the_layer():
    layer = nn.GCNConv(2, 2)
    with pytest.raises(ValueError, match=r"GCNConv: adjacency must be square \(n_nodes, n_nodes\), got shape \(2, 3\)"):
        layer(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="GCNConv: adjacency must hold only 0 and 1"):
        layer(np.zeros((2, 2)), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"GCNConv: adjacency \(3, 3\) does not match x \(2, 2\)"):
        layer(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"GCNConv: x must have shape \(n_nodes, 2\), got \(2, 5\)"):
        layer(np.zeros((2, 5)), np.zeros((2, 2)))
