"""Logic gates with threshold units, perceptrons and a small network trained by gradient descent.

McCulloch-Pitts units (nn.MPNeuron, step f with f(0) = 1) compute AND (x1 + x2 - 2), OR
(x1 + x2 - 0.5), NOT (-0.6 x1 + 0.5) and NAND (-2 x1 - 2 x2 + 3) with the notes' weights, and XOR
with two layers of them. Rosenblatt's learning rule (nn.Perceptron) finds a separating line for
AND, OR, NAND and NOT but never settles on XOR, which is not linearly separable. A 2-2-1 sigmoid
network (nn.MLP, trained by gradient descent on the binary cross-entropy) solves XOR: its two
hidden units draw two lines and the output combines them. Training it can end in a local
minimum; the example then restarts from new random weights and says how often it had to.

    python -m examples.logic_gates
"""

import numpy as np

import nn
from autograd import Tensor, no_grad

from . import _common

X2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}
X_NOT, Y_NOT = np.array([[0.0], [1.0]]), np.array([1, 0])
# The notes' threshold units: (weights, bias).
MP_UNITS = {"AND": ([1, 1], -2), "OR": ([1, 1], -0.5), "NAND": ([-2, -2], 3), "NOT": ([-0.6], 0.5)}
BOX = (-0.5, 1.5)


def build_parser():
    p = _common.parser(
        "logic_gates",
        "McCulloch-Pitts units, perceptrons and a 2-2-1 network on logic gates.",
        steps=(1000, "gradient-descent steps for the 2-2-1 network"),
        lr=(2.0, "its learning rate"),
    )
    p.add_argument("--perceptron-epochs", type=_common.positive_int, default=100, help="the perceptron's max_epochs")
    p.add_argument(
        "--restarts", type=_common.nonnegative_int, default=10, help="fresh random starts allowed when it gets stuck"
    )
    return p


def mp_xor(X):
    """XOR by two layers of threshold units: h1 = OR-like, h2 = NAND-like, y = AND of the two."""
    h1 = nn.MPNeuron([1, 1], -0.5)(X)
    h2 = nn.MPNeuron([-1, -1], 1.5)(X)
    return nn.MPNeuron([1, 1], -1.5)(np.column_stack([h1, h2]))


def mp_units():
    """{gate: (predict function, inputs, targets)} for the threshold units of the notes."""
    units = {g: (nn.MPNeuron(*MP_UNITS[g]), X2, np.array(GATES[g])) for g in ("AND", "OR", "NAND")}
    units["NOT"] = (nn.MPNeuron(*MP_UNITS["NOT"]), X_NOT, Y_NOT)
    units["XOR (two layers)"] = (mp_xor, X2, np.array(GATES["XOR"]))
    return units


def train_perceptrons(max_epochs):
    """{gate: fitted nn.Perceptron} on labels +-1 (1 for a true output)."""
    fitted = {}
    for gate, X, y in [(g, X2, np.array(t)) for g, t in GATES.items()] + [("NOT", X_NOT, Y_NOT)]:
        p = nn.Perceptron(X.shape[1])
        p.fit(X, 2 * y - 1, max_epochs=max_epochs)
        fitted[gate] = p
    return fitted


def conventions():
    """The texts' conventions, side by side: numbers for the printed summary.

    - A threshold unit at exactly its threshold: the AND unit x1 + x2 - 2 sits on it at (1, 1).
      value_at_zero=1 (西瓜书, f(0) = 1) fires there; value_at_zero=0 (the lecture notes' "output 0
      when w.x <= threshold") does not, so that unit then computes nothing useful.
    - The perceptron's 0/1-label form (西瓜书: w += eta (y - y_hat) x) beside the +-1 form.
    - Linear layers stacked without activations are one linear layer, so they cannot do XOR.
    """
    numbers = {}
    for value_at_zero, source in ((1, "西瓜书"), (0, "lecture notes")):
        unit = nn.MPNeuron([1, 1], -2, value_at_zero=value_at_zero)
        numbers[f"AND unit x1 + x2 - 2 with value_at_zero={value_at_zero} ({source}) on 00 01 10 11"] = unit(
            X2
        ).tolist()
    for gate in ("AND", "OR", "NAND"):
        zero_one = nn.Perceptron(2, labels=(0, 1))
        zero_one.fit(X2, np.array(GATES[gate]))
        numbers[f"perceptron, 0/1 labels, {gate}: converged / epochs / w, b"] = (
            f"{zero_one.converged} / {len(zero_one.errors_)} / {zero_one.weight.tolist()}, {zero_one.bias}"
        )
    stack = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Linear(4, 3, rng=1), nn.Linear(3, 1, rng=2))
    W, b = collapse_linear(stack)
    with no_grad():
        gap = float(np.abs(stack(Tensor(X2)).data - (X2 @ W.T + b)).max())
    numbers["3 stacked linear layers vs one with W = W3 W2 W1, b = W3 (W2 b1 + b2) + b3: max difference"] = gap
    return numbers


def collapse_linear(stack):
    """(W, b) of the one linear layer equal to a Sequential of Linear layers without activations."""
    W = np.eye(stack[0].in_features)
    b = np.zeros(stack[0].in_features)
    for layer in stack:
        W, b = layer.weight.data @ W, layer.weight.data @ b + layer.bias.data
    return W, b


def train_xor_network(args):
    """(model, losses, starts): a 2-2-1 sigmoid net that classifies XOR, and how many starts it took."""
    y = np.array(GATES["XOR"], dtype=float)
    for start in range(1, args.restarts + 2):
        rng = np.random.default_rng(args.seed + start - 1)
        model = nn.MLP([2, 2, 1], activation="sigmoid", rng=rng)
        # N(0, 1) weights: PyTorch's small default start sits near the symmetric saddle more often.
        for p in model.parameters():
            nn.init.normal_(p, 0.0, 1.0, rng=rng)
        opt = nn.optim.SGD(model.parameters(), lr=args.lr)

        def loss_fn():
            return nn.functional.binary_cross_entropy_with_logits(model(Tensor(X2)).reshape(-1), y)

        losses = _common.gradient_descent(loss_fn, opt, args.steps, args, desc=f"2-2-1 net, start {start}")
        if np.array_equal(xor_net_predict(model, X2) > 0.5, y > 0.5):
            break
    return model, losses, start


def xor_net_predict(model, X):
    with no_grad():
        return model(Tensor(X)).sigmoid().data.reshape(-1)


def plot_mp_units(figs, units):
    fig, axes = figs.new(1, len(units), size=(3.0, 3.0))
    for ax, (name, (unit, X, y)) in zip(axes[0], units.items()):
        if X.shape[1] == 1:  # NOT: a threshold on the x1 axis
            xs = np.linspace(*BOX, 200)
            ax.plot(xs, unit(xs[:, None]), "k-", label="output")
            ax.scatter(X[:, 0], y, c=["tab:red" if t else "tab:blue" for t in y], edgecolors="k", zorder=3)
            ax.set(xlim=BOX, ylim=(-0.2, 1.2), xlabel="x1", title=name)
        else:
            _common.decision_regions(ax, unit, X, y, BOX, BOX, title=name)
    figs.save(fig, "mp_units", title="McCulloch-Pitts threshold units (shaded: output 1)")


def plot_perceptrons(figs, perceptrons):
    gates = list(GATES)
    fig, axes = figs.new(1, len(gates) + 1, size=(3.0, 3.0))
    for ax, gate in zip(axes[0], gates):
        p = perceptrons[gate]
        state = "converged" if p.converged else "did NOT converge"
        _common.decision_regions(
            ax,
            p.predict,
            X2,
            np.array(GATES[gate]),
            BOX,
            BOX,
            levels=(0.0,),
            title=f"{gate}: {state} ({len(p.errors_)} epochs)\nw = {np.round(p.weight, 2).tolist()}, b = {p.bias:g}",
        )
    ax = axes[0, -1]
    for gate in gates:
        ax.plot(np.arange(1, len(perceptrons[gate].errors_) + 1), perceptrons[gate].errors_, label=gate)
    ax.set(xscale="log", xlabel="epoch", ylabel="mistakes in the epoch", title="perceptron learning")
    ax.legend()
    figs.save(fig, "perceptron", title="Perceptron learning rule: the final decision line of each gate")


def plot_xor_network(figs, model, losses):
    fig, axes = figs.new(1, 2, size=(4.0, 3.6))
    ax = axes[0, 0]
    _common.decision_regions(
        ax,
        lambda pts: xor_net_predict(model, pts),
        X2,
        np.array(GATES["XOR"]),
        BOX,
        BOX,
        title="2-2-1 network: P(y = 1)",
    )
    # Each hidden unit's line w . x + b = 0; the output combines the two half-planes.
    W, b = model[0].weight.data, model[0].bias.data
    xs = np.array(BOX)
    for k in range(2):
        ax.plot(xs, -(W[k, 0] * xs + b[k]) / W[k, 1], ":", color="k", label=f"hidden unit {k + 1}")
    ax.set(xlim=BOX, ylim=BOX)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)
    axes[0, 1].plot(losses)
    axes[0, 1].set(xlabel="gradient-descent step", ylabel="binary cross-entropy", yscale="log", title="training loss")
    figs.save(fig, "xor_network")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)

    units = mp_units()
    mp_correct = {name: bool(np.array_equal(unit(X), y)) for name, (unit, X, y) in units.items()}
    for name, (unit, X, _) in units.items():
        print(f"MP {name:17s} inputs {X.astype(int).tolist()} -> {np.asarray(unit(X)).tolist()}")
    perceptrons = train_perceptrons(args.perceptron_epochs)
    model, losses, starts = train_xor_network(args)
    xor_outputs = xor_net_predict(model, X2)

    plot_mp_units(figs, units)
    plot_perceptrons(figs, perceptrons)
    plot_xor_network(figs, model, losses)

    numbers = {"MP units correct": all(mp_correct.values())}
    for gate, p in perceptrons.items():
        numbers[f"perceptron {gate} converged"] = (
            f"{p.converged} after {len(p.errors_)} epochs (mistakes in the last: {p.errors_[-1]})"
        )
    numbers["2-2-1 network outputs for 00 01 10 11"] = np.round(xor_outputs, 3).tolist()
    numbers["2-2-1 network random starts needed"] = starts
    numbers["2-2-1 network final loss"] = losses[-1]
    numbers.update(conventions())
    _common.report(numbers, figs)
    return {
        "mp_correct": mp_correct,
        "perceptron_converged": {g: p.converged for g, p in perceptrons.items()},
        "xor_net_outputs": xor_outputs,
        "xor_net_starts": starts,
        "files": figs.written,
    }


if __name__ == "__main__":
    main()
