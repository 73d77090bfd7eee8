"""Target 5: gradcheck of a 784-32-10 MLP in float64 (batch 4: 28,586 inputs and
parameters) against a plain NumPy central-difference loop over the same elements."""

import time

import numpy as np

SIZES, BATCH, EPS = (784, 32, 10), 4, 1e-6


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, SIZES[0]))
    w1, b1 = rng.normal(0, 0.05, (SIZES[1], SIZES[0])), rng.normal(0, 0.1, SIZES[1])
    w2, b2 = rng.normal(0, 0.2, (SIZES[2], SIZES[1])), rng.normal(0, 0.1, SIZES[2])
    onehot = np.eye(SIZES[2])[rng.integers(0, SIZES[2], BATCH)]
    return [x, w1, b1, w2, b2], onehot


def numpy_loss(x, w1, b1, w2, b2, onehot):
    z = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    m = z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(z - m).sum(axis=1)) + m[:, 0] - (z * onehot).sum(axis=1))


def numpy_central_differences(arrays, onehot):
    """The reference: perturb each element in place, two forward passes each."""
    grads = []
    for a in arrays:
        g = np.empty_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            keep = flat[j]
            flat[j] = keep + EPS
            up = numpy_loss(*arrays, onehot)
            flat[j] = keep - EPS
            down = numpy_loss(*arrays, onehot)
            flat[j] = keep
            gflat[j] = (up - down) / (2 * EPS)
        grads.append(g)
    return grads


def tensor_loss_fn(onehot):
    from autograd import linear

    def loss(x, w1, b1, w2, b2):
        z = linear(linear(x, w1, b1).relu(), w2, b2)
        return (z.logsumexp(axis=1) - (z * onehot).sum(axis=1)).mean()

    return loss


def figures():
    """Seconds for: the NumPy loop, gradcheck (every entry), gradcheck(fast_mode=True)."""
    from autograd import gradcheck

    arrays, onehot = make_problem()
    f = tensor_loss_fn(onehot)
    timings = {}
    start = time.perf_counter()
    numpy_central_differences([a.copy() for a in arrays], onehot)
    timings["numpy"] = time.perf_counter() - start
    start = time.perf_counter()
    assert gradcheck(f, *arrays)
    timings["full"] = time.perf_counter() - start
    fast = []
    for _ in range(5):
        start = time.perf_counter()
        assert gradcheck(f, *arrays, fast_mode=True)
        fast.append(time.perf_counter() - start)
    timings["fast"] = sorted(fast)[2]
    return timings
