"""Target 1 (and 6): one training step of a 784-256-128-10 ReLU MLP with softmax
cross-entropy and SGD, against the same step written by hand in NumPy with the
course notes' delta formulas."""

import numpy as np

from autograd import Tensor, linear
from nn.functional import cross_entropy

SIZES = (784, 256, 128, 10)
LR = 0.01


def make_arrays(rng, dtype, sizes=SIZES):
    """Weights (out, in) and biases, He-scaled."""
    return [
        (rng.normal(0, np.sqrt(2 / i), (o, i)).astype(dtype), np.zeros(o, dtype)) for i, o in zip(sizes[:-1], sizes[1:])
    ]


def make_batch(rng, batch, dtype, sizes=SIZES):
    x = rng.normal(size=(batch, sizes[0])).astype(dtype)
    onehot = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], batch)]
    return x, onehot


def numpy_forward_backward(params, x, target):
    """Loss and (dW, db) per layer by the delta formulas: the floor for a NumPy engine.

    `target` is one-hot rows, or integer class labels made into them here, as a textbook
    step does: then both sides of a comparison start from the same labels."""
    onehot = target if target.ndim == 2 else np.eye(params[-1][0].shape[0], dtype=x.dtype)[target]
    acts, zs = [x], []
    for k, (w, b) in enumerate(params):
        z = acts[-1] @ w.T + b
        zs.append(z)
        acts.append(np.maximum(z, 0) if k < len(params) - 1 else z)
    z = zs[-1]
    shifted = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    p = np.exp(shifted - log_norm)
    loss = np.mean(log_norm[:, 0] - (shifted * onehot).sum(axis=1))
    delta = (p - onehot) / len(x)
    grads = []
    for k in range(len(params) - 1, -1, -1):
        grads.append((delta.T @ acts[k], delta.sum(axis=0)))
        if k:
            delta = (delta @ params[k][0]) * (zs[k - 1] > 0)
    return loss, grads[::-1]


def numpy_step(params, x, target, lr=LR):
    loss, grads = numpy_forward_backward(params, x, target)
    for (w, b), (dw, db) in zip(params, grads):
        w -= lr * dw
        b -= lr * db
    return loss


def tensor_loss(params, x, target):
    h = x if isinstance(x, Tensor) else Tensor(x)
    for k, (w, b) in enumerate(params):
        h = linear(h, w, b)  # what nn.Linear computes
        if k < len(params) - 1:
            h = h.relu()
    return cross_entropy(h, target)  # one-hot rows or labels: the same inputs as the NumPy version


def tensor_params(arrays):
    return [(Tensor(w.copy(), requires_grad=True), Tensor(b.copy(), requires_grad=True)) for w, b in arrays]


def sgd_update(params, lr=LR):
    for w, b in params:
        for p in (w, b):
            p.data -= lr * p.grad
            p.grad = None


def tensor_step(params, x, target, lr=LR):
    loss = tensor_loss(params, x, target)
    loss.backward()
    sgd_update(params, lr)
    return loss


def nn_model(arrays):
    """nn.MLP with the same weights as `arrays` (its own copies, in their dtype)."""
    import nn

    sizes = [arrays[0][0].shape[1]] + [w.shape[0] for w, _ in arrays]
    model = nn.MLP(sizes, dtype=arrays[0][0].dtype)
    for layer, (w, b) in zip(model[::2], arrays):
        layer.weight.data, layer.bias.data = w.copy(), b.copy()
    return model


def nn_step(model, opt, x, labels):
    """A training step as a user writes it with nn: integer labels, the optimiser's zero_grad and step."""
    opt.zero_grad()
    loss = cross_entropy(model(x), labels)
    loss.backward()
    opt.step()
    return loss
