"""The core's first figures (`python -m benchmarks.core`): one forward+backward of a
784-256-128-10 ReLU MLP with softmax cross-entropy at batch 256 in float32, with
Tensor and by hand in NumPy; and Value nodes per second on a 2-16-16-1 MLP over
100 samples. `python -m benchmarks` runs every performance target."""

import time

import numpy as np

from benchmarks import mlp, scalar
from benchmarks.harness import interleaved_medians, print_table


def mlp_figures(batch=256, dtype=np.float32, repeats=7):
    rng = np.random.default_rng(0)
    arrays = mlp.make_arrays(rng, dtype)
    params = mlp.tensor_params(arrays)
    x, onehot = mlp.make_batch(rng, batch, dtype)
    return interleaved_medians(
        {
            "numpy": lambda: mlp.numpy_forward_backward(arrays, x, onehot),
            "tensor": lambda: mlp.tensor_loss(params, x, onehot).backward(),
        },
        repeats=repeats,
    )


def count_nodes(root):
    seen, stack = {root}, [root]
    while stack:
        for p in stack.pop()._parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return len(seen)


def value_rate(repeats=5):
    """Nodes per second of forward+backward through nn.scalar.MLP([2, 16, 16, 1])."""
    import nn

    model, samples = nn.scalar.MLP([2, 16, 16, 1]), scalar.make_samples()

    def run():
        total = sum((model(list(x)) - y) ** 2 for x, y in samples)
        total.backward()
        return total

    nodes = count_nodes(run())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return nodes, sorted(times)[len(times) // 2]


def main():
    t = mlp_figures()
    nodes, seconds = value_rate()
    print("chainrule core benchmark (medians of interleaved runs)\n")
    print_table(
        [
            [
                "MLP 784-256-128-10 fwd+bwd, batch 256, float32",
                f"{t['tensor'] * 1e3:.2f} ms",
                f"{t['numpy'] * 1e3:.2f} ms (hand-written NumPy)",
                f"{t['tensor'] / t['numpy']:.2f}x",
            ],
            [
                "Value 2-16-16-1 MLP fwd+bwd, 100 samples",
                f"{seconds * 1e3:.1f} ms",
                f"{nodes} nodes",
                f"{nodes / seconds / 1e6:.2f} M nodes/s",
            ],
        ],
        ["figure", "chainrule", "reference", "ratio / rate"],
    )


if __name__ == "__main__":
    main()
