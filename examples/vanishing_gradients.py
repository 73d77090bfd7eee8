"""Vanishing and exploding gradients in an 8-layer network, measured with autograd.

The error term of layer l is delta^(l) = dC/dz^(l), and backpropagation gives
delta^(l) = ((W^(l+1))^T delta^(l+1)) * f'(z^(l)): every layer multiplies by a weight matrix and by
f'(z). The sigmoid's slope is at most 0.25, so in an 8-layer sigmoid network the first layers get
gradients thousands of times smaller than the last (tanh's slope 1 at 0 helps, until units
saturate), while ReLU's slope 1 with He initialisation keeps their size. Too large initial weights
make the product grow instead: exploding gradients.

The networks are nn.MLPs of 8 Linear layers (64 - 30 x 7 - 10) on the 8x8 digits. Calling
retain_grad() on each pre-activation z^(l) makes autograd keep dC/dz^(l); it is checked against
the hand-written backpropagation of nn.reference.deltas. Figures: the norms per layer at
initialisation (activations, and ReLU under three initialisations), during training, and the
fraction of dead ReLUs (units that output 0 for every input).

    python -m examples.vanishing_gradients
"""

import numpy as np

import nn
from autograd import Tensor

from . import _common

WIDTH, DEPTH = 30, 8
INITS = {
    "Xavier": lambda w, rng: nn.init.xavier_uniform_(w, rng=rng),
    "He": lambda w, rng: nn.init.kaiming_normal_(w, rng=rng),
    "N(0, 1)": lambda w, rng: nn.init.normal_(w, 0.0, 1.0, rng=rng),  # too large for 30 inputs
}
# The activation-and-initialisation pairs compared during training: each with its usual init.
TRAINED = [("sigmoid", "Xavier"), ("tanh", "Xavier"), ("relu", "He")]
DYING = "relu, He, large lr"  # the ReLU network once more, with a learning rate that kills units


def build_parser():
    p = _common.parser(
        "vanishing_gradients",
        "Per-layer gradient norms of 8-layer sigmoid, tanh and ReLU networks.",
        epochs=20,
        batch_size=32,
        lr=(0.05, "SGD learning rate (the same for every network)"),
    )
    p.add_argument(
        "--dying-lr",
        type=_common.positive_float,
        default=0.5,
        help="a too large learning rate for the ReLU network: most of its units die",
    )
    p.add_argument(
        "--probe", type=_common.positive_int, default=300, help="training images on which the norms are measured"
    )
    return p


def make_net(activation, init, seed, n_in, n_out):
    model = nn.MLP([n_in] + [WIDTH] * (DEPTH - 1) + [n_out], activation=activation)
    rng = np.random.default_rng(seed)
    for layer in linear_layers(model):
        INITS[init](layer.weight, rng)
        nn.init.zeros_(layer.bias)
    return model


def linear_layers(model):
    return [m for m in model if isinstance(m, nn.Linear)]


def error_terms(model, X, y):
    """(delta^(l) = dC_x/dz^(l), z^(l)) for every layer (rows: samples), via retain_grad() on z^(l)."""
    zs, h = [], Tensor(X)
    for module in model:
        h = module(h)
        if isinstance(module, nn.Linear):
            zs.append(h.retain_grad())
    loss = nn.functional.cross_entropy(h, y)
    model.zero_grad()
    loss.backward()
    # The loss is the batch mean, so z.grad is delta_x / m: scale back to one sample's error term.
    return [z.grad * len(X) for z in zs], [z.data for z in zs]


def reference_deltas(model, activation, X, y):
    """The same error terms by the notes' four equations (nn.reference; softmax output + NLL = cross-entropy)."""
    layers = linear_layers(model)
    return nn.reference.deltas(
        [m.weight.data for m in layers],
        [m.bias.data for m in layers],
        X,
        np.eye(layers[-1].out_features)[y],
        activation=activation,
        output_activation="softmax",
        loss="nll",
    )


def layer_norms(deltas):
    """Mean over samples of ||delta_x^(l)||, one number per layer."""
    return np.array([np.linalg.norm(d, axis=1).mean() for d in deltas])


def dead_fraction(zs):
    """Fraction of hidden units whose pre-activation is <= 0 for every sample: a ReLU there never fires."""
    hidden = zs[:-1]
    return float(np.mean(np.concatenate([(z <= 0).all(axis=0) for z in hidden])))


def train_and_watch(activation, init, lr, X, y, probe, args):
    """Per-epoch (0 = initialisation) layer norms, probe accuracy, dead-unit fraction."""
    model = make_net(activation, init, args.seed, X.shape[1], 10)
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    loader = nn.data.DataLoader(X, y, batch_size=args.batch_size, seed=args.seed)
    rec = {"norms": [], "accuracy": [], "dead": []}

    def measure():
        deltas, zs = error_terms(model, *probe)
        rec["norms"].append(layer_norms(deltas))
        rec["accuracy"].append(float(np.mean(zs[-1].argmax(axis=1) == probe[1])))
        rec["dead"].append(dead_fraction(zs))

    measure()
    for _ in _common.progress(range(args.epochs), args, desc=f"{activation} ({init}, lr {lr:g})"):
        nn.fit(model, nn.functional.cross_entropy, opt, loader, epochs=1, progress=False)
        measure()
    rec["norms"] = np.array(rec["norms"])
    return rec


def plot_at_init(figs, at_init):
    fig, axes = figs.new(1, 2, size=(4.6, 3.6))
    layers = np.arange(1, DEPTH + 1)
    panels = [
        (axes[0, 0], TRAINED, "activations (usual initialisation)"),
        (axes[0, 1], [pair for pair in at_init if pair[0] == "relu"], "ReLU: vanishing, steady, exploding"),
    ]
    for ax, pairs, title in panels:
        for act, init in pairs:
            ax.plot(layers, at_init[act, init], "o-", label=f"{act}, {init}")
        ax.set(yscale="log", xlabel="layer l", ylabel="mean ||delta^(l)||", xticks=layers, title=title)
        ax.legend(fontsize="small")
    figs.save(fig, "at_init", title="error terms per layer at initialisation (8 layers, 30 units each)")


def plot_training(figs, runs, args):
    fig, axes = figs.new(2, 3, size=(4.0, 3.2))
    colors = _common.plt.cm.viridis(np.linspace(0, 0.9, DEPTH))
    for ax, (label, rec) in zip(axes[0], runs.items()):
        for l in range(DEPTH):
            ax.plot(rec["norms"][:, l], color=colors[l], label=f"layer {l + 1}")
        ax.set(yscale="log", xlabel="epoch", ylabel="mean ||delta^(l)||", title=label)
    axes[0, 0].legend(fontsize="x-small", ncol=2)
    ratio, accuracy, dead = axes[1]
    for label, rec in runs.items():
        style = ":" if label == DYING else "-"
        ratio.plot(rec["norms"][:, 0] / rec["norms"][:, -1], style, label=label)
        accuracy.plot(rec["accuracy"], style, label=label)
        if label.startswith("relu"):
            dead.plot(rec["dead"], style, label=label)
    ratio.set(yscale="log", xlabel="epoch", ylabel="||delta^(1)|| / ||delta^(8)||", title="first layer / last layer")
    accuracy.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.05), title="accuracy on the probe images")
    dead.set(xlabel="epoch", ylabel="fraction of hidden units", ylim=(0, 1), title="dead ReLUs")
    for ax in axes[1]:
        ax.legend(fontsize="x-small")
    figs.save(fig, "training", title=f"during training (SGD, lr {args.lr:g}; the dotted run uses lr {args.dying_lr:g})")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    X, y = _common.digits_data()
    order = np.random.default_rng(args.seed).permutation(len(X))
    probe = (X[order[: args.probe]], y[order[: args.probe]])

    at_init, check = {}, 0.0
    for act, init in TRAINED + [("relu", "Xavier"), ("relu", "N(0, 1)")]:
        model = make_net(act, init, args.seed, X.shape[1], 10)
        deltas, _ = error_terms(model, *probe)
        at_init[act, init] = layer_norms(deltas)
        check = max(
            check,
            max(
                np.abs(d - r).max() / (np.abs(r).max() + 1e-300)
                for d, r in zip(deltas, reference_deltas(model, act, *probe))
            ),
        )
    runs = {f"{act}, {init}": train_and_watch(act, init, args.lr, X, y, probe, args) for act, init in TRAINED}
    runs[DYING] = train_and_watch("relu", "He", args.dying_lr, X, y, probe, args)
    plot_at_init(figs, at_init)
    plot_training(figs, runs, args)

    numbers = {"autograd delta vs nn.reference.deltas (max relative difference)": check}
    for (act, init), norms in at_init.items():
        numbers[f"{act}, {init}: layer 1 / layer 8 error-term norm at init"] = norms[0] / norms[-1]
    numbers["layer-1 norm at init, relu (He) / sigmoid (Xavier)"] = (
        at_init["relu", "He"][0] / at_init["sigmoid", "Xavier"][0]
    )
    for label, rec in runs.items():
        numbers[f"{label}: probe accuracy after {args.epochs} epochs"] = rec["accuracy"][-1]
    for label in ("relu, He", DYING):
        numbers[f"{label}: dead ReLUs at init, after training"] = (
            f"{runs[label]['dead'][0]:.4f}, {runs[label]['dead'][-1]:.4f}"
        )
    _common.report(numbers, figs)
    return {"at_init": at_init, "runs": runs, "reference_difference": check, "files": figs.written}


if __name__ == "__main__":
    main()
