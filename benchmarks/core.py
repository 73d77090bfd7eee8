"""The core's first figures: Tensor MLP forward+backward against hand-written NumPy
backprop, and Value operations per second on a 2-16-16-1 scalar MLP.

    python -m benchmarks.core
"""
import random
import time

import numpy as np

from autograd import Tensor, Value
from benchmarks.harness import interleaved_medians, print_table

SIZES = (784, 256, 128, 10)


def make_mlp(rng, dtype, sizes=SIZES):
    """Weights (out, in) and biases, He-scaled, as plain arrays."""
    return [(rng.normal(0, np.sqrt(2 / i), (o, i)).astype(dtype), np.zeros(o, dtype))
            for i, o in zip(sizes[:-1], sizes[1:])]


def numpy_forward_backward(params, x, onehot):
    """The notes' delta formulas, by hand: the floor any NumPy engine can reach."""
    acts, zs = [x], []
    for k, (w, b) in enumerate(params):
        z = acts[-1] @ w.T + b
        zs.append(z)
        acts.append(np.maximum(z, 0) if k < len(params) - 1 else z)
    z = zs[-1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(np.sum(p * onehot, axis=1)))
    delta = (p - onehot) / len(x)
    grads = []
    for k in range(len(params) - 1, -1, -1):
        grads.append((delta.T @ acts[k], delta.sum(axis=0)))
        if k:
            delta = (delta @ params[k][0]) * (zs[k - 1] > 0)
    return loss, grads[::-1]


def tensor_forward_backward(params, x, onehot):
    h = Tensor(x)
    for k, (w, b) in enumerate(params):
        h = h @ w.T + b
        if k < len(params) - 1:
            h = h.relu()
    loss = (h.logsumexp(axis=1) - (h * onehot).sum(axis=1)).mean()
    loss.backward()
    return loss


def mlp_step_figures(batch=256, dtype=np.float32, repeats=7):
    rng = np.random.default_rng(0)
    arrays = make_mlp(rng, dtype)
    params = [(Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)) for w, b in arrays]
    x = rng.normal(size=(batch, SIZES[0])).astype(dtype)
    onehot = np.eye(SIZES[-1], dtype=dtype)[rng.integers(0, SIZES[-1], batch)]
    # same loss both ways, or the timing compares different work
    ours = tensor_forward_backward(params, x, onehot).item()
    theirs = numpy_forward_backward(arrays, x, onehot)[0]
    assert abs(ours - theirs) < 1e-4 * max(1.0, abs(theirs)), (ours, theirs)
    return interleaved_medians({
        "numpy": lambda: numpy_forward_backward(arrays, x, onehot),
        "tensor": lambda: tensor_forward_backward(params, x, onehot),
    }, repeats=repeats)


def scalar_mlp(sizes=(2, 16, 16, 1), seed=0):
    rnd = random.Random(seed)
    return [[([Value(rnd.uniform(-1, 1)) for _ in range(n_in)], Value(0.0)) for _ in range(n_out)]
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def scalar_forward_backward(layers, samples):
    total = Value(0.0)
    for xs, target in samples:
        h = [Value(v) for v in xs]
        for k, layer in enumerate(layers):
            h = [sum((w * v for w, v in zip(ws, h)), b) for ws, b in layer]
            if k < len(layers) - 1:
                h = [v.tanh() for v in h]
        total = total + (h[0] - target) ** 2
    total.backward()
    return total


def count_nodes(root):
    seen, stack = {id(root)}, [root]
    while stack:
        for p in stack.pop()._parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def scalar_figures(n_samples=100, repeats=5):
    rnd = random.Random(1)
    samples = [((rnd.uniform(-1, 1), rnd.uniform(-1, 1)), rnd.choice((-1.0, 1.0))) for _ in range(n_samples)]
    layers = scalar_mlp()
    nodes = count_nodes(scalar_forward_backward(layers, samples))
    seconds = interleaved_medians({"value": lambda: scalar_forward_backward(layers, samples)},
                                  repeats=repeats)["value"]
    return nodes, seconds


def main():
    t = mlp_step_figures()
    nodes, seconds = scalar_figures()
    print("chainrule core benchmark (medians of interleaved runs)\n")
    print_table([
        ["MLP 784-256-128-10 fwd+bwd, batch 256, float32",
         f"{t['tensor'] * 1e3:.2f} ms", f"{t['numpy'] * 1e3:.2f} ms (hand-written NumPy)",
         f"{t['tensor'] / t['numpy']:.2f}x"],
        ["Value 2-16-16-1 MLP fwd+bwd, 100 samples",
         f"{seconds * 1e3:.1f} ms", f"{nodes} nodes", f"{nodes / seconds / 1e6:.2f} M nodes/s"],
    ], ["figure", "chainrule", "reference", "ratio / rate"])


if __name__ == "__main__":
    main()
