"""Gradient checks: an independent central-difference oracle, and the engine's gradients held against it."""

import numpy as np

from autograd import Tensor


def central_difference(fn, arrays, eps=1e-6):
    """d fn(*arrays) / d arrays[i] for each i, by central differences in float64.

    `fn` maps float64 ndarrays to a float; written here (not taken from the
    engine) so that it checks the engine instead of agreeing with it.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + eps
            up = fn(*arrays)
            a[i] = keep - eps
            down = fn(*arrays)
            a[i] = keep
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def assert_input_grads(fn, *arrays, atol=1e-6, rtol=1e-5, seed=0):
    """Gradients of sum(fn(*inputs) * w), w random, with respect to every input array."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    out_shape = fn(*[Tensor(a) for a in arrays]).shape
    w = np.random.default_rng(seed).normal(size=out_shape)
    inputs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    (fn(*inputs) * w).sum().backward()
    numeric = central_difference(lambda *xs: float(np.sum(fn(*map(Tensor, xs)).data * w)), arrays)
    for i, (t, expected) in enumerate(zip(inputs, numeric)):
        np.testing.assert_allclose(t.grad, expected, atol=atol, rtol=rtol, err_msg=f"input {i}")


def assert_param_grads(params, loss, atol=1e-6, rtol=1e-5):
    """Gradients of the 0-d Tensor `loss()` with respect to `params` (Parameters it reads)."""
    params = list(params)
    originals = [p.data.copy() for p in params]
    for p in params:
        p.grad = None
    loss().backward()
    analytic = [p.grad for p in params]

    def loss_at(*arrays):
        for p, a in zip(params, arrays):
            p.data = a
        return loss().item()

    numeric = central_difference(loss_at, originals)
    for p, a in zip(params, originals):
        p.data = a
    for i, (got, expected) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol, err_msg=f"parameter {i}")
