"""Learning slowdown of a saturated sigmoid neuron: quadratic cost against cross-entropy.

One neuron a = sigma(w x + b) with input x = 1 and target y = 0 starts saturated (w = 2, b = 2,
so a = sigma(4) = 0.98) and learns by gradient descent (eta = 0.15, 300 epochs). The gradients come
from autograd (`Value`). With the quadratic cost C = (a - y)^2 / 2, dC/dw = (a - y) sigma'(z) x: the
factor sigma'(z) = 0.018 is tiny while the neuron is saturated, so the cost stays on a plateau for a
long time. With the cross-entropy C = -[y ln a + (1 - y) ln(1 - a)], dC/dw = (a - y) x: sigma'(z)
cancels and the neuron learns fastest when it is most wrong.

    python -m examples.saturation
    python -m examples.saturation --w 0.6 --b 0.9     # an unsaturated start: both costs learn quickly
"""

import math

import numpy as np

import nn
from autograd import Value

from . import _common


def build_parser():
    p = _common.parser(
        "saturation",
        "One saturated sigmoid neuron trained with quadratic and cross-entropy cost.",
        epochs=(300, "gradient-descent steps"),
    )
    p.add_argument("--w", type=_common.finite_float, default=2.0, help="initial weight")
    p.add_argument("--b", type=_common.finite_float, default=2.0, help="initial bias")
    p.add_argument("--x", type=_common.finite_float, default=1.0, help="the input")
    p.add_argument("--y", type=_common.finite_float, default=0.0, help="the target output")
    p.add_argument("--eta", type=_common.positive_float, default=0.15, help="learning rate")
    return p


COSTS = {
    "quadratic": lambda a, y: (a - y) ** 2 / 2,
    "cross-entropy": lambda a, y: -(y * a.log() + (1 - y) * (1 - a).log()),
}


def train(cost_name, args):
    """Per-epoch lists: cost, output a, dC/dw (all from autograd)."""
    w, b = Value(args.w, label="w"), Value(args.b, label="b")
    cost = COSTS[cost_name]
    record = {"cost": [], "a": [], "dC/dw": []}

    def loss_fn():
        a = (w * args.x + b).sigmoid()
        record["a"].append(a.data)
        return cost(a, args.y)

    record["cost"] = _common.gradient_descent(
        loss_fn,
        nn.optim.SGD([w, b], lr=args.eta),
        args.epochs,
        args,
        desc=cost_name,
        on_step=lambda i: record["dC/dw"].append(w.grad),
    )
    return record


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    runs = {name: train(name, args) for name in COSTS}

    # The closed forms of the first step's gradient: sigma'(z) is there for one cost and not the other.
    z0 = args.w * args.x + args.b
    a0 = 1 / (1 + math.exp(-z0))
    closed = {"quadratic": (a0 - args.y) * a0 * (1 - a0) * args.x, "cross-entropy": (a0 - args.y) * args.x}

    epochs = np.arange(args.epochs)
    fig, axes = figs.new(1, 3, size=(4.2, 3.4))
    for name, run in runs.items():
        axes[0, 0].plot(epochs, np.array(run["cost"]) / run["cost"][0], label=name)  # the costs' scales differ
        axes[0, 1].plot(epochs, np.abs(run["dC/dw"]), label=name)
        axes[0, 2].plot(epochs, run["a"], label=name)
    axes[0, 0].set(xlabel="epoch", ylabel="cost / cost at epoch 0", title="cost, relative to its start")
    axes[0, 1].set(xlabel="epoch", ylabel="|dC/dw|", yscale="log", title="gradient (autograd)")
    axes[0, 2].set(xlabel="epoch", ylabel="a", title="output a = sigma(w x + b)")
    for ax in axes[0]:
        ax.legend()
    figs.save(
        fig,
        "costs",
        title=f"one sigmoid neuron from w = {args.w:g}, b = {args.b:g} (x = {args.x:g}, "
        f"y = {args.y:g}), eta = {args.eta:g}",
    )

    k = min(50, args.epochs - 1)
    numbers = {"initial output a": a0, "sigma'(z) at the start": a0 * (1 - a0)}
    for name, run in runs.items():
        numbers[f"{name}: dC/dw at the start (autograd; closed form {closed[name]:.4f})"] = run["dC/dw"][0]
        numbers[f"{name}: cost at epoch 0, {k}, {args.epochs - 1}"] = (
            f"{run['cost'][0]:.4f}, {run['cost'][k]:.4f}, {run['cost'][-1]:.4f}"
        )
        numbers[f"{name}: cost after {k} epochs relative to its start"] = run["cost"][k] / run["cost"][0]
    _common.report(numbers, figs)
    return {"runs": runs, "closed_form_grad": closed, "files": figs.written}


if __name__ == "__main__":
    main()
