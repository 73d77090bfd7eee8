"""Target 4: peak resident memory added by 20 training steps at batch 2048 float32, from
before the first step, each kind in a fresh process (`python -m benchmarks.memory KIND`).

The reference is a lean hand-written NumPy step: the forward pass, the delta recursion and
the update, each array computed once by the textbook formulas, no extra copies. chainrule
runs the same step with raw Tensor ops (`autograd.linear`, relu, cross_entropy, an update by
hand) and with `nn.MLP` + `nn.optim.SGD`, written as a user writes the loop (the last
step's `loss` stays referenced while the next forward pass runs). Besides the whole loop's
peak, each phase's peak of array memory (forward, backward, update) is reported.
"""

import json
import subprocess
import sys

import numpy as np

STEPS, BATCH = 20, 2048
KINDS = ("lean", "tensor", "nn")
PHASES = ("forward", "backward", "update")


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # the kernel reports kB


def reset_peak():
    """Start a new peak at the current resident size (Linux: write 5 to clear_refs)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def lean_phases(params, x, onehot, lr):
    """The hand-written step as three phases sharing one dict of arrays."""
    (w1, b1), (w2, b2), (w3, b3) = params
    state = {}

    def forward():
        z1 = x @ w1.T + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ w2.T + b2
        a2 = np.maximum(z2, 0)
        z3 = a2 @ w3.T + b3
        exps = np.exp(z3 - z3.max(axis=1, keepdims=True))
        state.update(z1=z1, a1=a1, z2=z2, a2=a2, p=exps / exps.sum(axis=1, keepdims=True))

    def backward():
        s = state
        d3 = (s.pop("p") - onehot) / len(x)  # softmax + cross-entropy
        d2 = (d3 @ w3) * (s.pop("z2") > 0)
        d1 = (d2 @ w2) * (s.pop("z1") > 0)
        s["grads"] = [
            (d1.T @ x, d1.sum(axis=0)),
            (d2.T @ s.pop("a1"), d2.sum(axis=0)),
            (d3.T @ s.pop("a2"), d3.sum(axis=0)),
        ]

    def update():
        for (w, b), (dw, db) in zip(params, state.pop("grads")):
            w -= lr * dw
            b -= lr * db

    return forward, backward, update


def tensor_phases(params, x, onehot, lr):
    from benchmarks import mlp

    state = {}

    def forward():
        state["loss"] = mlp.tensor_loss(params, x, onehot)

    def backward():
        state["loss"].backward()  # the loss stays referenced, as a user's variable

    def update():
        mlp.sgd_update(params, lr)

    return forward, backward, update


def nn_phases(model, x, labels, lr):
    import nn
    from nn.functional import cross_entropy

    opt = nn.optim.SGD(model.parameters(), lr=lr)
    state = {}

    def forward():
        state["loss"] = cross_entropy(model(x), labels)

    def backward():
        opt.zero_grad()
        state["loss"].backward()

    def update():
        opt.step()

    return forward, backward, update


def make_phases(kind):
    from benchmarks import mlp

    rng = np.random.default_rng(0)
    arrays = mlp.make_arrays(rng, np.float32)
    x, onehot = mlp.make_batch(rng, BATCH, np.float32)
    if kind == "lean":
        return lean_phases(arrays, x, onehot, mlp.LR)
    if kind == "tensor":
        return tensor_phases(mlp.tensor_params(arrays), x, onehot, mlp.LR)
    return nn_phases(mlp.nn_model(arrays), x, onehot.argmax(axis=1), mlp.LR)


def added_by_steps(kind):
    """MB added from before the first step: {'total': resident memory's peak over the loop,
    phase: the arrays' peak within that phase of a later step (tracemalloc, which NumPy
    reports to; resident memory stays at its high-water mark once the allocator has it)}."""
    import tracemalloc

    phases = dict(zip(PHASES, make_phases(kind)))
    reset_peak()
    before = _status_mb("VmRSS")
    for _ in range(STEPS):
        for run in phases.values():
            run()
    figures = {"total": _status_mb("VmHWM") - before}
    tracemalloc.start()
    for _ in range(2):  # the first traced step sees the last one's arrays go
        for name, run in phases.items():
            tracemalloc.reset_peak()
            run()
            figures[name] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return figures


def measure(kind):
    """added_by_steps(kind) in a fresh interpreter, so earlier allocations cannot hide the peak."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory", kind], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def median_figures(runs=3):
    """Each kind's figures, the run with the median total of `runs` fresh processes."""
    figures = {}
    for kind in KINDS:
        results = sorted((measure(kind) for _ in range(runs)), key=lambda r: r["total"])
        figures[kind] = results[len(results) // 2]
    return figures


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in KINDS:
        sys.exit(f"usage: python -m benchmarks.memory {{{','.join(KINDS)}}}")
    print(json.dumps(added_by_steps(sys.argv[1])))
