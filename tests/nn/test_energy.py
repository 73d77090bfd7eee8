"""nn.Hopfield and nn.RBM: Hebbian storage, recall, energy; free energy and the CD-k gradient."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor
from tests.support.gradients import central_difference


def random_patterns(rng, n_patterns, n_units):
    return rng.choice([-1, 1], size=(n_patterns, n_units))


def flip(rng, patterns, fraction):
    """Copies with exactly round(fraction * n_units) bits flipped in each row."""
    x = patterns.copy()
    n_flip = round(fraction * x.shape[1])
    for row in x:
        row[rng.choice(x.shape[1], n_flip, replace=False)] *= -1
    return x


def test_hebb_rule_and_energy_closed_forms():
    p = np.array([[1, -1, 1, 1], [-1, -1, 1, -1]])
    net = nn.Hopfield(4)
    net.store(p)
    expected = (np.outer(p[0], p[0]) + np.outer(p[1], p[1])) / 4
    np.fill_diagonal(expected, 0)
    np.testing.assert_array_equal(net.weight, expected)
    s = np.array([1, 1, -1, 1])
    assert net.energy(s) == -0.5 * s @ expected @ s
    np.testing.assert_array_equal(net.energy(p), [-0.5 * q @ expected @ q for q in p])
    again = nn.Hopfield(4)
    again.store(p[0])
    again.store(p[1])  # storing adds, as Hebb's rule does
    np.testing.assert_array_equal(again.weight, net.weight)
    with pytest.raises(ValueError, match="read-only"):
        net.weight[0, 1] = 1.0


@settings(max_examples=20)
@given(n_units=st.integers(5, 60), n_patterns=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_energy_never_rises_under_asynchronous_updates(n_units, n_patterns, seed):
    rng = np.random.default_rng(seed)
    net = nn.Hopfield(n_units)
    net.store(random_patterns(rng, n_patterns, n_units))
    start = rng.choice([-1, 1], size=n_units)
    energies = []
    end = net.recall(start, steps=50, rng=rng, energies=energies)
    assert np.all(np.diff(energies) <= 0)  # exact: the Hebbian sums are integers
    assert energies[-1] == net.energy(end)
    assert np.array_equal(net.recall(end, steps=1, rng=seed), end)  # a fixed point: async stops there
    field = np.round(net.weight * n_units) @ end  # the Hebbian sums: integers, summed exactly
    assert np.all(field * end >= 0)  # every unit agrees with its input (or has none)


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_recall_of_stored_patterns_from_ten_percent_flipped_bits(mode):
    rng = np.random.default_rng(0)
    n_units = 200
    patterns = random_patterns(rng, 10, n_units)  # 0.05 N, well below the capacity 0.14 N
    net = nn.Hopfield(n_units)
    net.store(patterns)
    recalled = net.recall(flip(rng, patterns, 0.10), mode=mode, rng=1)
    np.testing.assert_array_equal(recalled, patterns)


def test_float32_stays_float32_and_recalls_the_same():
    rng = np.random.default_rng(5)
    patterns = random_patterns(rng, 6, 80)
    nets = [nn.Hopfield(80, dtype=dtype) for dtype in (np.float32, np.float64)]
    for net in nets:
        net.store(patterns)
    assert nets[0].weight.dtype == np.float32
    start = flip(rng, patterns, 0.2)
    np.testing.assert_array_equal(nets[0].recall(start, rng=3), nets[1].recall(start, rng=3))
    with pytest.raises(TypeError, match="Hopfield: dtype must be a floating-point type"):
        nn.Hopfield(3, dtype=np.int64)


def test_synchronous_updates_can_cycle_and_stop_after_steps():
    net = nn.Hopfield(2)
    net.store([1, 1])  # W = [[0, 0.5], [0.5, 0]]
    # synchronously, (1, -1) and (-1, 1) swap forever: the energy is not a Lyapunov function here
    np.testing.assert_array_equal(net.recall([1, -1], steps=3, mode="sync"), [-1, 1])
    np.testing.assert_array_equal(net.recall([1, -1], steps=4, mode="sync"), [1, -1])
    assert abs(net.recall([1, -1], mode="async", rng=0).sum()) == 2  # asynchronously it settles


def test_hopfield_errors_name_the_method():
    net = nn.Hopfield(3)
    with pytest.raises(ValueError, match=r"Hopfield.store: states must be \+1 or -1"):
        net.store([[1, 0, 1]])
    with pytest.raises(ValueError, match=r"Hopfield.recall: states have shape \(4,\), expected \(3,\)"):
        net.recall([1, 1, 1, 1])
    with pytest.raises(ValueError, match="Hopfield.recall: mode must be 'async' or 'sync'"):
        net.recall([1, 1, 1], mode="parallel")
    with pytest.raises(ValueError, match="Hopfield: n_units must be a positive int"):
        nn.Hopfield(0)


# RBM ---------------------------------------------------------------------------------


def free_energy_numpy(W, bv, bh, v):
    return -(v @ bv) - np.logaddexp(0, v @ W.T + bh).sum(axis=1)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@settings(max_examples=15)
@given(n_visible=st.integers(1, 6), n_hidden=st.integers(1, 5), batch=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_free_energy_formula_and_gradients_against_central_differences(n_visible, n_hidden, batch, seed):
    rng = np.random.default_rng(seed)
    rbm = nn.RBM(n_visible, n_hidden, rng=seed)
    for p in rbm.parameters():
        p.data = rng.normal(size=p.shape)
    v = rng.random((batch, n_visible))
    W, bv, bh = rbm.weight.data, rbm.visible_bias.data, rbm.hidden_bias.data
    F = rbm.free_energy(v)
    np.testing.assert_allclose(F.data, free_energy_numpy(W, bv, bh, v), rtol=1e-12)
    F.sum().backward()
    numeric = central_difference(lambda W, bv, bh: free_energy_numpy(W, bv, bh, v).sum(), [W, bv, bh])
    for p, expected in zip((rbm.weight, rbm.visible_bias, rbm.hidden_bias), numeric):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("k", [1, 3])
def test_cd_gradient_equals_the_closed_form(k):
    rng = np.random.default_rng(3)
    rbm = nn.RBM(5, 3, rng=0)
    rbm.weight.data = rng.normal(size=(3, 5))
    rbm.hidden_bias.data = rng.normal(size=3)
    rbm.visible_bias.data = rng.normal(size=5)
    v = (rng.random((4, 5)) < 0.5).astype(float)
    rbm.rng = np.random.default_rng(11)
    loss = rbm.contrastive_divergence(v, k=k)
    loss.backward()
    # the same chain again, from the same generator state
    v_model = rbm.gibbs(v, k=k, rng=np.random.default_rng(11)).data
    W, bh = rbm.weight.data, rbm.hidden_bias.data
    h_data, h_model = sigmoid(v @ W.T + bh), sigmoid(v_model @ W.T + bh)
    n = len(v)
    np.testing.assert_allclose(rbm.weight.grad, (h_model.T @ v_model - h_data.T @ v) / n, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rbm.visible_bias.grad, (v_model - v).mean(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rbm.hidden_bias.grad, (h_model - h_data).mean(axis=0), rtol=1e-12, atol=1e-14)
    assert loss.shape == () and loss.data == pytest.approx(
        (
            free_energy_numpy(W, rbm.visible_bias.data, bh, v)
            - free_energy_numpy(W, rbm.visible_bias.data, bh, v_model)
        ).mean(),
        rel=1e-12,
    )


def test_sampling_and_reconstruction():
    rbm = nn.RBM(4, 2, rng=0)
    rbm.weight.data = np.array([[8.0, 8.0, -8.0, -8.0], [-8.0, -8.0, 8.0, 8.0]])
    v = np.array([[1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(rbm.sample_hidden(v, rng=1).data, [[1.0, 0.0]])
    np.testing.assert_array_equal(rbm.sample_visible(np.array([[1.0, 0.0]]), rng=1).data, v)
    assert np.abs(rbm.reconstruct(v).data - v).max() < 0.01
    samples = rbm.sample_hidden(np.zeros((20000, 4)), rng=2).data
    assert set(np.unique(samples)) <= {0.0, 1.0} and abs(samples.mean() - 0.5) < 0.02  # p = sigmoid(0)


def test_rbm_trains_with_an_optimiser():
    rng = np.random.default_rng(0)
    prototypes = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=float)
    data = prototypes[rng.integers(0, 2, 200)]
    rbm = nn.RBM(6, 4, rng=0)
    opt = nn.optim.SGD(rbm.parameters(), lr=0.1, momentum=0.5)
    error = lambda: float(((rbm.reconstruct(data).data - data) ** 2).mean())
    before = error()
    for _ in range(300):
        opt.zero_grad()
        rbm.contrastive_divergence(data[rng.integers(0, 200, 20)]).backward()
        opt.step()
    assert error() < before / 10
    assert set(rbm.state_dict()) == {"weight", "visible_bias", "hidden_bias"}


def test_rbm_errors_name_the_method():
    rbm = nn.RBM(3, 2)
    with pytest.raises(ValueError, match=r"RBM.free_energy: visible units have shape \(2, 4\), expected \(N, 3\)"):
        rbm.free_energy(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"RBM.contrastive_divergence: visible units must lie in \[0, 1\]"):
        rbm.contrastive_divergence(np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="RBM.gibbs: k must be a positive int"):
        rbm.contrastive_divergence(np.zeros((2, 3)), k=0)
    assert isinstance(rbm.free_energy(Tensor(np.zeros((2, 3)))), Tensor)
