"""Target 7: convolutional networks. conv2d forward + backward, one LeNet-5 training step and
max_pool2d forward + backward, each against the same computation written by hand in NumPy
(im2col, one matrix product per direction, col2im; nothing shared with autograd/conv.py).

Both sides run with one BLAS thread (threadpoolctl, as the examples): their products are batches
of small matrices, and two BLAS threads on a shared 2-core machine make such a product's time
swing by several times from one call to the next, which no number of repeats averages out."""

import contextlib

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd import Tensor, conv2d, linear
from nn.functional import cross_entropy, max_pool2d

from .harness import interleaved_medians

LR = 0.01


# Hand-written NumPy -----------------------------------------------------------------
def im2col(x, k, pad):
    """(N, C, H, W) -> columns (N, C * k * k, H_out * W_out) of a stride-1 k x k convolution."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c = x.shape[:2]
    windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, H_out, W_out, k, k)
    return np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * k * k, -1)


def col2im(cols, shape, k, pad):
    """Adds each column back onto its window: the adjoint of im2col."""
    n, c, h, w = shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    cols = cols.reshape(n, c, k, k, oh, ow)
    out = np.zeros((n, c, h + 2 * pad, w + 2 * pad), cols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + oh, j : j + ow] += cols[:, :, i, j]
    return out[:, :, pad : pad + h, pad : pad + w] if pad else out


def numpy_conv_forward(x, w, b, pad):
    cols = im2col(x, w.shape[2], pad)
    out = w.reshape(w.shape[0], -1) @ cols + b[:, None]
    side = int(np.sqrt(out.shape[2]))
    return out.reshape(x.shape[0], w.shape[0], side, side), cols


def numpy_conv_backward(g, x_shape, w, cols, pad, need_dx=True):
    n, k = g.shape[:2]
    g3 = g.reshape(n, k, -1)
    dw = (g3 @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dx = col2im(w.reshape(k, -1).T @ g3, x_shape, w.shape[2], pad) if need_dx else None
    return dx, dw, g3.sum(axis=(0, 2))


def numpy_conv_layer(x, w, b, g, pad=1):
    """One conv layer forward and backward (upstream gradient g)."""
    out, cols = numpy_conv_forward(x, w, b, pad)
    return out, numpy_conv_backward(g, x.shape, w, cols, pad)


CORNERS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def numpy_pool_forward(x):
    """2x2 max-pooling, stride 2: the maximum of the four strided corners of each window."""
    a, b, c, d = (x[:, :, i::2, j::2] for i, j in CORNERS)
    return np.maximum(np.maximum(a, b), np.maximum(c, d))


def numpy_pool_backward(x, out, g):
    """Each window's gradient to its maximum, split evenly among ties."""
    hits = [x[:, :, i::2, j::2] == out for i, j in CORNERS]
    share = g / (hits[0].astype(g.dtype) + hits[1] + hits[2] + hits[3])
    dx = np.empty_like(x)
    for (i, j), hit in zip(CORNERS, hits):
        dx[:, :, i::2, j::2] = share * hit
    return dx


def numpy_pool_layer(x, g):
    out = numpy_pool_forward(x)
    return out, numpy_pool_backward(x, out, g)


def make_conv_case(rng, dtype=np.float32, shape=(64, 16, 28, 28), out_channels=32):
    x = rng.normal(size=shape).astype(dtype)
    w = (rng.normal(size=(out_channels, shape[1], 3, 3)) * 0.1).astype(dtype)
    b = rng.normal(size=out_channels).astype(dtype)
    g = rng.normal(size=(shape[0], out_channels) + shape[2:]).astype(dtype)
    return x, w, b, g


def engine_conv_layer(x, w, b, g):
    x.grad = w.grad = b.grad = None  # fresh gradients, as the hand-written layer returns (no accumulation)
    out = conv2d(x, w, b, padding=1)
    out.backward(g)
    return out


def engine_pool_layer(x, g):
    x.grad = None
    out = max_pool2d(x, 2)
    out.backward(g)
    return out


# LeNet-5 -----------------------------------------------------------------------------
LENET_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]


def make_lenet(rng, dtype=np.float32):
    """LeNet-5's weights (PyTorch's default initialisation bounds) as arrays."""
    arrays = []
    for shape in LENET_SHAPES:
        fan_in = np.prod(shape[1:]) if len(shape) > 1 else arrays[-1][0].size
        arrays.append(rng.uniform(-1, 1, size=shape).astype(dtype) / np.sqrt(fan_in))
    return arrays


def make_images(rng, batch, dtype=np.float32):
    x = rng.random((batch, 1, 28, 28)).astype(dtype)
    onehot = np.eye(10, dtype=dtype)[rng.integers(0, 10, batch)]
    return x, onehot


def numpy_lenet_forward_backward(params, x, onehot):
    """Loss and gradients of LeNet-5 (conv5 pad 2, ReLU, pool, conv5, ReLU, pool, 400-120-84-10)."""
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
    z1, cols1 = numpy_conv_forward(x, w1, b1, 2)
    a1 = np.maximum(z1, 0)
    p1 = numpy_pool_forward(a1)
    z2, cols2 = numpy_conv_forward(p1, w2, b2, 0)
    a2 = np.maximum(z2, 0)
    p2 = numpy_pool_forward(a2)
    f = p2.reshape(len(x), -1)
    z3 = f @ w3.T + b3
    a3 = np.maximum(z3, 0)
    z4 = a3 @ w4.T + b4
    a4 = np.maximum(z4, 0)
    z5 = a4 @ w5.T + b5
    shifted = z5 - z5.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = np.mean(log_norm[:, 0] - (shifted * onehot).sum(axis=1))
    d5 = (np.exp(shifted - log_norm) - onehot) / len(x)
    d4 = (d5 @ w5) * (z4 > 0)
    d3 = (d4 @ w4) * (z3 > 0)
    dp2 = (d3 @ w3).reshape(p2.shape)
    dz2 = numpy_pool_backward(a2, p2, dp2) * (z2 > 0)
    dp1, dw2, db2 = numpy_conv_backward(dz2, p1.shape, w2, cols2, 0)
    dz1 = numpy_pool_backward(a1, p1, dp1) * (z1 > 0)
    _, dw1, db1 = numpy_conv_backward(dz1, x.shape, w1, cols1, 2, need_dx=False)
    grads = [dw1, db1, dw2, db2, d3.T @ f, d3.sum(0), d4.T @ a3, d4.sum(0), d5.T @ a4, d5.sum(0)]
    return loss, grads


def numpy_lenet_step(params, x, onehot, lr=LR):
    loss, grads = numpy_lenet_forward_backward(params, x, onehot)
    for p, g in zip(params, grads):
        p -= lr * g
    return loss


def engine_lenet_loss(params, x, onehot):
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
    h = max_pool2d(conv2d(x, w1, b1, padding=2).relu(), 2)
    h = max_pool2d(conv2d(h, w2, b2).relu(), 2)
    h = linear(h.reshape(h.shape[0], -1), w3, b3).relu()
    h = linear(h, w4, b4).relu()
    return cross_entropy(linear(h, w5, b5), onehot)


def engine_lenet_step(params, x, onehot, lr=LR):
    loss = engine_lenet_loss(params, Tensor(x), onehot)
    loss.backward()
    for p in params:
        p.data -= lr * p.grad
        p.grad = None
    return loss


def tensor_params(arrays):
    return [Tensor(a.copy(), requires_grad=True) for a in arrays]


# The rows of `python -m benchmarks --only cnn` ------------------------------------------
def one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def rows(repeats):
    """[figure, chainrule, reference, ratio, target, met] for each of the three comparisons."""
    with one_blas_thread():
        return _rows(repeats)


def _rows(repeats):
    rng = np.random.default_rng(0)
    x, w, b, g = make_conv_case(rng)
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    pooled = np.maximum(x, 0)
    pool_g = rng.normal(size=(64, 16, 14, 14)).astype(np.float32)
    pool_x = Tensor(pooled, requires_grad=True)
    arrays = make_lenet(rng)
    images, onehot = make_images(rng, 64)
    params = tensor_params(arrays)
    cases = [
        (
            "8. conv2d fwd+bwd (64, 16, 28, 28) f32, 32 3x3, pad 1",
            1.15,
            lambda: numpy_conv_layer(x, w, b, g),
            lambda: engine_conv_layer(xt, wt, bt, g),
            1,
        ),
        (
            "8. LeNet-5 training step, batch 64, 28x28 f32",
            1.15,
            lambda: numpy_lenet_step(arrays, images, onehot),
            lambda: engine_lenet_step(params, images, onehot),
            1,
        ),
        (
            "8. max_pool2d 2x2 fwd+bwd (64, 16, 28, 28) f32",
            1.3,
            lambda: numpy_pool_layer(pooled, pool_g),
            lambda: engine_pool_layer(pool_x, pool_g),
            4,
        ),
    ]
    out = []
    for figure, limit, reference, ours, number in cases:
        t = interleaved_medians({"numpy": reference, "chainrule": ours}, repeats=repeats, number=number)
        ratio = t["chainrule"] / t["numpy"]
        out.append(
            [
                figure,
                f"{t['chainrule'] * 1e3:.2f} ms",
                f"{t['numpy'] * 1e3:.2f} ms NumPy",
                f"{ratio:.2f}x",
                f"<= {limit}x",
                "met" if ratio <= limit else "NOT met",
            ]
        )
    return out
