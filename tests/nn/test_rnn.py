"""nn.ElmanRNN: the recurrence, back-propagation through time, and learning parity."""

import itertools

import numpy as np
import pytest

import nn
from nn import functional as F
from tests.support.gradients import assert_input_grads, assert_param_grads


def test_hidden_states_follow_the_recurrence():
    rnn = nn.ElmanRNN(3, 4, rng=0)
    x = np.random.default_rng(1).normal(size=(5, 2, 3))
    out = rnn(x)
    assert out.shape == (5, 2, 4)
    h = np.zeros((2, 4))
    for t in range(5):
        h = np.tanh(x[t] @ rnn.weight_ih.data.T + rnn.bias_ih.data + h @ rnn.weight_hh.data.T + rnn.bias_hh.data)
        np.testing.assert_allclose(out.data[t], h, rtol=1e-13)
    h0 = np.ones((2, 4))
    first = np.tanh(x[0] @ rnn.weight_ih.data.T + rnn.bias_ih.data + h0 @ rnn.weight_hh.data.T + rnn.bias_hh.data)
    np.testing.assert_allclose(rnn(x, h0=h0).data[0], first, rtol=1e-13)
    assert [n for n, _ in rnn.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def test_bptt_gradients_match_finite_differences_for_five_steps():
    rnn = nn.ElmanRNN(2, 3, rng=2)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 2, 2))
    w = rng.normal(size=(5, 2, 3))
    assert_param_grads(rnn.parameters(), lambda: (rnn(x) * w).sum())
    assert_input_grads(rnn, x)
    # the last state alone still depends on the first input: the gradient flows back through time
    assert_input_grads(lambda t: rnn(t)[-1], x)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"ElmanRNN: input must have shape \(T, batch, 2\).*\(4, 3\)"):
        nn.ElmanRNN(2, 3)(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 3\)"):
        nn.ElmanRNN(2, 3)(np.zeros((4, 1, 2)), h0=np.zeros((1, 2)))


def test_learns_the_parity_of_four_bits():
    bits = np.array(list(itertools.product([0, 1], repeat=4)), dtype=float)  # all 16 sequences
    parity = bits.sum(axis=1) % 2
    x = (2 * bits - 1).T[:, :, None]  # (T=4, 16, 1), +-1
    rnn, head = nn.ElmanRNN(1, 16, rng=0), nn.Linear(16, 1, rng=0)
    opt = nn.optim.Adam(rnn.parameters() + head.parameters(), lr=0.05)
    for _ in range(150):
        logits = head(rnn(x)[-1]).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(logits, parity)
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_array_equal(logits.data > 0, parity == 1)
    assert loss.item() < 0.1
