"""The rnn group: an LSTM layer's forward and backward pass (T = 50, batch 32, input 64, hidden 128,
float32) as nn.LSTM runs it, against the same layer written by hand in NumPy.

Both take the gradient of sum(output * weights) (a fixed random array) with respect to the four
parameters and compute the input projection of all steps as one matmul each way.
"""

import resource

import numpy as np

import nn
from autograd import Tensor

T, BATCH, INPUT, HIDDEN = 50, 32, 64, 128


def make_problem(rng, dtype=np.float32, sizes=(T, BATCH, INPUT, HIDDEN)):
    """(model, its parameters as arrays (w_ih, w_hh, b_ih, b_hh), input x, output weights)."""
    steps, batch, n_in, hidden = sizes
    model = nn.LSTM(n_in, hidden, rng=rng, dtype=dtype)
    x = rng.normal(size=(steps, batch, n_in)).astype(dtype)
    weights = rng.normal(size=(steps, batch, hidden)).astype(dtype)
    return model, [p.data for p in model.parameters()], x, weights


def user_seconds():
    """This process's user CPU time. Its system time is mostly page faults after glibc returned
    freed heap memory to the system, which fall on one side or the other by the order of the calls
    (the hand-written NumPy alone takes about 2,400 per call here, 1 when interleaved with
    nn.LSTM, which then takes 2,850), so the row compares the computation."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def _sigmoid(a):
    return np.tanh(a * 0.5) * 0.5 + 0.5


def numpy_forward_backward(params, x, weights):
    """Output (T, N, H) and the gradients (d w_ih, d w_hh, d b_ih, d b_hh) by hand: the floor."""
    w_ih, w_hh, b_ih, b_hh = params
    steps, batch, n_in = x.shape
    hidden = w_hh.shape[1]
    pre = (x.reshape(-1, n_in) @ w_ih.T + (b_ih + b_hh)).reshape(steps, batch, 4 * hidden)
    hs = np.zeros((steps + 1, batch, hidden), x.dtype)  # hs[t + 1] is h_t; hs[0] = h_(-1) = 0
    cs = np.zeros((steps + 1, batch, hidden), x.dtype)
    gates = np.empty((steps, batch, 4 * hidden), x.dtype)  # i, f, g, o after their nonlinearities
    tanh_cs = np.empty((steps, batch, hidden), x.dtype)
    for t in range(steps):
        a = pre[t] + hs[t] @ w_hh.T
        gates[t, :, : 2 * hidden] = _sigmoid(a[:, : 2 * hidden])
        gates[t, :, 2 * hidden : 3 * hidden] = np.tanh(a[:, 2 * hidden : 3 * hidden])
        gates[t, :, 3 * hidden :] = _sigmoid(a[:, 3 * hidden :])
        i, f, g, o = np.split(gates[t], 4, axis=1)
        cs[t + 1] = f * cs[t] + i * g
        tanh_cs[t] = np.tanh(cs[t + 1])
        hs[t + 1] = o * tanh_cs[t]
    d_pre = np.empty_like(gates)
    dh = np.zeros((batch, hidden), x.dtype)
    dc = np.zeros((batch, hidden), x.dtype)
    for t in reversed(range(steps)):
        i, f, g, o = np.split(gates[t], 4, axis=1)
        dh = dh + weights[t]
        dc = dc + dh * o * (1 - tanh_cs[t] * tanh_cs[t])
        d_pre[t] = np.concatenate(
            [dc * g * i * (1 - i), dc * cs[t] * f * (1 - f), dc * i * (1 - g * g), dh * tanh_cs[t] * o * (1 - o)],
            axis=1,
        )
        dh = d_pre[t] @ w_hh
        dc = dc * f
    d_flat = d_pre.reshape(-1, 4 * hidden)
    d_b = d_flat.sum(axis=0)
    grads = (d_flat.T @ x.reshape(-1, n_in), d_flat.T @ hs[:-1].reshape(-1, hidden), d_b, d_b)
    return hs[1:], grads


def tensor_forward_backward(model, x, weights):
    """nn.LSTM's output and backward(); the gradients are in the parameters' .grad."""
    model.zero_grad()
    out, _ = model(Tensor(x))
    out.backward(weights)
    return out
