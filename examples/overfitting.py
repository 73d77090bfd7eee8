"""Overfitting on a small training set, and three remedies: L2, dropout, early stopping.

150 of the 8x8 digits train a 64-100-10 ReLU network for 150 epochs (mini-batches of 10, SGD);
500 other images are the validation set. Without regularisation the training loss goes to zero
while the validation loss turns back up: the network memorises. Remedies compared:
  * L2: C = C0 + lambda / (2 n) sum w^2 over the weights (nn.l2_penalty, n = training-set size);
  * dropout (nn.Dropout, p = 0.5, on the hidden layer; the identity in eval());
  * early stopping (nn.fit(early_stopping=patience)): stop when the validation loss has not
    improved for `patience` epochs and restore the best epoch's weights.
The gap is the validation loss minus the training loss, both measured after training in eval()
mode without the penalty. A second figure shows 2-D decision regions of a 2-64-64-2 network on 40
noisy "moons" points, without and with L2: the unregularised boundary bends around single points.

    python -m examples.overfitting
"""

import numpy as np

import nn
from autograd import Tensor, no_grad

from . import _common

F = nn.functional


def build_parser():
    p = _common.parser(
        "overfitting",
        "Training and validation curves without and with L2, dropout, early stopping.",
        epochs=150,
        lr=(0.1, "SGD learning rate"),
    )
    p.add_argument("--n-train", type=_common.positive_int, default=150, help="training images (a small set overfits)")
    p.add_argument("--n-val", type=_common.positive_int, default=500, help="validation images")
    p.add_argument(
        "--lam",
        type=_common.nonnegative_float,
        default=3.0,
        help="L2 strength lambda (the penalty is lambda / (2 n) sum w^2)",
    )
    p.add_argument("--dropout", type=_common.probability, default=0.5, help="dropout probability on the hidden layer")
    p.add_argument("--patience", type=_common.positive_int, default=10, help="early stopping patience, in epochs")
    p.add_argument(
        "--moons", type=_common.int_at_least(2), default=40, help="2-D points for the decision-region figure"
    )
    p.add_argument(
        "--moons-epochs", type=_common.positive_int, default=300, help="full-batch Adam steps on the 2-D points"
    )
    p.add_argument("--moons-lam", type=_common.nonnegative_float, default=1.0, help="lambda for the 2-D network")
    return p


def with_l2(model, lam, n):
    """The cross-entropy plus the notes' L2 term lambda / (2 n) sum w^2 (lam = 0: plain cross-entropy)."""
    if not lam:
        return F.cross_entropy
    return lambda out, y: F.cross_entropy(out, y) + nn.l2_penalty(model, lam, n)


def evaluate(model, X, y):
    """(cross-entropy, accuracy) in eval() mode, without any penalty."""
    model.eval()
    with no_grad():
        out = model(Tensor(X))
    return F.cross_entropy(out, y).item(), float(np.mean(out.data.argmax(axis=1) == y))


def digits_variants(args, train, val):
    """{name: (history, final train (loss, acc), final val (loss, acc))} for the four trainings."""
    n = len(train[0])
    variants = {
        "no regularisation": {},
        f"L2 (lambda = {args.lam:g})": {"lam": args.lam},
        f"dropout (p = {args.dropout:g})": {"dropout": args.dropout},
        f"early stopping (patience {args.patience})": {"patience": args.patience},
    }
    results = {}
    for name, opts in variants.items():
        hidden = [nn.Linear(64, 100, rng=args.seed), nn.ReLU()]
        if opts.get("dropout"):
            hidden.append(nn.Dropout(opts["dropout"], rng=args.seed))
        # The same initial weights for every variant (same seeds): only the regularisation differs.
        model = nn.Sequential(*hidden, nn.Linear(100, 10, rng=args.seed + 1))
        history = nn.fit(
            model,
            with_l2(model, opts.get("lam", 0), n),
            nn.optim.SGD(model.parameters(), lr=args.lr),
            train,
            val=val,
            epochs=args.epochs,
            batch_size=10,
            seed=args.seed,
            early_stopping=opts.get("patience"),
            progress=args.progress,
        )
        results[name] = (history, evaluate(model, *train), evaluate(model, *val))
    return results


def moons_regions(args):
    """Two 2-D fits of noisy moons, without and with L2: {name: (model, train acc, val acc)}."""
    from sklearn.datasets import make_moons

    X, y = make_moons(args.moons, noise=0.35, random_state=args.seed)
    X_val, y_val = make_moons(1000, noise=0.35, random_state=args.seed + 1)
    fits = {}
    for lam in (0.0, args.moons_lam):
        model = nn.MLP([2, 64, 64, 2], rng=args.seed)
        opt = nn.optim.Adam(model.parameters(), lr=0.01)
        loss = with_l2(model, lam, len(X))
        _common.gradient_descent(
            lambda: loss(model(Tensor(X)), y), opt, args.moons_epochs, args, desc=f"moons, lambda {lam:g}"
        )
        fits[lam] = (model, evaluate(model, X, y)[1], evaluate(model, X_val, y_val)[1])
    return X, y, fits


def plot_curves(figs, results, args):
    fig, axes = figs.new(2, len(results), size=(3.6, 2.9), sharey="row")
    for col, (name, (history, _, _)) in enumerate(results.items()):
        _common.plot_history(axes[:, col], history)
        axes[0, col].set(title=name, yscale="log")  # log: the training loss keeps falling towards 0
        if len(history["loss"]) < args.epochs:  # early stopping: where the best weights came from
            best = int(np.argmin(history["val_loss"])) + 1
            for ax in axes[:, col]:
                ax.axvline(best, color="gray", ls=":", label="restored epoch")
    figs.save(
        fig,
        "curves",
        title=f"{args.n_train} training images, 64-100-10 ReLU network, SGD lr {args.lr:g} "
        f"(the L2 losses include the penalty)",
    )


def plot_regions(figs, X, y, fits):
    fig, axes = figs.new(1, len(fits), size=(3.8, 3.6))
    for ax, (lam, (model, train_acc, val_acc)) in zip(axes[0], fits.items()):

        def prob(pts, model=model):
            model.eval()
            with no_grad():
                return model(Tensor(pts)).softmax(axis=-1).data[:, 1]

        title = (
            "no regularisation" if lam == 0 else f"L2, lambda = {lam:g}"
        ) + f"\ntrain acc {train_acc:.2f}, validation acc {val_acc:.2f}"
        _common.decision_regions(ax, prob, X, y, (-2.0, 3.0), (-1.5, 2.0), title=title)
    figs.save(fig, "regions", title=f"2-64-64-2 network on {len(X)} noisy points")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    X, y = _common.digits_data()
    train, _, rest = nn.data.train_val_test_split(X, y, val=0.0, test=0.6, seed=args.seed, stratify=True)
    train = (train[0][: args.n_train], train[1][: args.n_train])
    val = (rest[0][: args.n_val], rest[1][: args.n_val])

    results = digits_variants(args, train, val)
    moons = moons_regions(args)
    plot_curves(figs, results, args)
    plot_regions(figs, *moons)

    numbers, gaps = {}, {}
    for name, (_, (train_loss, _), (val_loss, val_acc)) in results.items():
        gaps[name] = val_loss - train_loss
        numbers[f"{name}: train loss, val loss, val accuracy"] = f"{train_loss:.4f}, {val_loss:.4f}, {val_acc:.4f}"
        numbers[f"{name}: gap (val loss - train loss)"] = gaps[name]
    stop_name, (stop_history, _, (stop_val_loss, _)) = list(results.items())[-1]
    numbers["early stopping: epochs run"] = (
        f"{len(stop_history['loss'])} of {args.epochs}, best weights from "
        f"epoch {int(np.argmin(stop_history['val_loss'])) + 1}"
    )
    fits = moons[2]
    for lam, (_, train_acc, val_acc) in fits.items():
        numbers[f"moons, lambda = {lam:g}: train, validation accuracy"] = f"{train_acc:.4f}, {val_acc:.4f}"
    _common.report(numbers, figs)
    return {
        "gaps": gaps,
        "results": results,
        "early_stopping": (stop_history, stop_val_loss),
        "moons": {lam: fit[1:] for lam, fit in fits.items()},
        "epochs": args.epochs,
        "files": figs.written,
    }


if __name__ == "__main__":
    main()
