"""Handwritten digits recognised by a feedforward network trained with backpropagation.

The course notes' exercise. By default the data are scikit-learn's 8x8 digits (1797 images, no
download); `--mnist DIR` reads the real MNIST IDX files instead (raw or .gz, via
nn.data.load_mnist). An nn.MLP with ReLU hidden layers is trained by nn.fit with mini-batch SGD
(momentum, step decay) on the softmax cross-entropy. Figures: loss and accuracy curves (training
and validation), the test confusion matrix, misclassified digits, and the computation graph of one
training step collapsed into one box per module. The last line printed is `test accuracy: 0.9xxx`.

    python -m examples.digits                  # figures in outputs/
    python -m examples.digits --mnist ~/mnist  # the 28x28 MNIST files
"""

import argparse
import math

import numpy as np

import nn
from autograd import GraphvizNotFound, Tensor, draw_graph, no_grad, render_graph

from . import _common


def build_parser():
    p = _common.parser(
        "digits",
        "Train an MLP on handwritten digits (sklearn's 8x8 digits or MNIST).",
        epochs=15,
        batch_size=32,
        lr=(0.05, "SGD learning rate (multiplied by 0.3 after each third of the epochs)"),
    )
    p.add_argument(
        "--mnist", metavar="DIR", type=_common.directory, help="read the four MNIST IDX files (raw or .gz) from DIR"
    )
    p.add_argument("--hidden", type=_common.positive_int, nargs="+", default=[256, 128], help="hidden layer widths")
    p.add_argument("--momentum", type=_common.nonnegative_float, default=0.9, help="SGD momentum")
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add copies of the training images shifted by one pixel "
        "(default: on for the 8x8 digits, off for MNIST, which has plenty of images)",
    )
    p.add_argument("--limit", type=_common.positive_int, help="use at most this many training images")
    return p


def load(args):
    """((X, y) train, val, test), image side, data name; X scaled to [0, 1]."""
    if args.mnist:
        (X, y), test = nn.data.load_mnist(args.mnist)
        # MNIST brings its own test set: only a validation set is split off.
        train, val, _ = nn.data.train_val_test_split(X, y, val=0.1, test=0.0, seed=args.seed, stratify=True)
        name = "MNIST"
    else:
        X, y = _common.digits_data()
        train, val, test = nn.data.train_val_test_split(X, y, val=0.1, test=0.2, seed=args.seed, stratify=True)
        name = "sklearn 8x8 digits"
    if args.limit:
        train = (train[0][: args.limit], train[1][: args.limit])
    side = math.isqrt(train[0].shape[1])
    return train, val, test, side, name


def shifted_copies(X, y, side):
    """X with four more copies moved one pixel up, down, left and right (a free, larger training set)."""
    images = X.reshape(-1, side, side)
    copies = [images]
    for axis in (1, 2):
        for step in (1, -1):
            moved = np.roll(images, step, axis=axis)
            edge = [slice(None)] * 3
            edge[axis] = 0 if step == 1 else -1
            moved[tuple(edge)] = 0  # the row/column that wrapped around is blanked
            copies.append(moved)
    return np.concatenate(copies).reshape(-1, side * side), np.tile(y, len(copies))


def predict(model, X):
    model.eval()
    with no_grad():
        return model(Tensor(X)).data.argmax(axis=1)


def confusion_matrix(y_true, y_pred, k=10):
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def plot_confusion(figs, cm, accuracy):
    fig, axes = figs.new(size=(5.6, 5.0))
    ax = axes[0, 0]
    im = ax.imshow(cm, cmap="Blues")
    for (i, j), n in np.ndenumerate(cm):
        if n:
            ax.text(j, i, n, ha="center", va="center", fontsize=7, color="white" if n > cm.max() / 2 else "black")
    ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title=f"test confusion matrix (accuracy {accuracy:.4f})",
    )
    fig.colorbar(im, ax=ax)
    figs.save(fig, "confusion")


def plot_mistakes(figs, X, y_true, y_pred, side, n=24, cols=8):
    """Up to n misclassified test images tiled into one picture (one imshow is much faster than n axes)."""
    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:n]
    rows = max(1, math.ceil(len(shown) / cols))
    cell = side + 2  # a 2-pixel gap between images
    mosaic = np.full((rows * cell, cols * cell), np.nan)
    fig, axes = figs.new(size=(cols * 1.1, rows * 1.3))
    ax = axes[0, 0]
    for k, i in enumerate(shown):
        r, c = divmod(k, cols)
        mosaic[r * cell : r * cell + side, c * cell : c * cell + side] = X[i].reshape(side, side)
        ax.text(
            c * cell + side / 2 - 0.5,
            r * cell - 0.6,
            f"{y_true[i]} as {y_pred[i]}",
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.imshow(mosaic, cmap="gray_r")
    ax.axis("off")
    figs.save(fig, "mistakes", title=f"{len(wrong)} misclassified test digits (true as predicted)")


def draw_training_step(figs, model, X, y):
    """The graph of one step (forward and backward on 8 images), one box per module; None without Graphviz."""
    model.train()
    loss = nn.functional.cross_entropy(model(Tensor(X[:8])), y[:8])
    loss.backward()
    dot = draw_graph(loss, collapse="scope", rankdir="TB")
    dot.attr(dpi=str(figs.dpi))
    path = figs.path("training_step_graph")
    try:
        render_graph(dot, path, format="png")
    except GraphvizNotFound as exc:
        print(f"note: no graph picture: {exc}")
        return None
    return figs.add(path)


def train_and_test(figs, args, model, name, train, val, X_test, y_test):
    """nn.fit with SGD and momentum, then the test predictions; draws the loss and accuracy curves.

    Returns (history, test predictions, test accuracy)."""
    opt = nn.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    # A smaller step for the last thirds of training settles into a minimum instead of hopping around it.
    scheduler = nn.optim.StepLR(opt, step_size=max(1, args.epochs // 3), gamma=0.3)
    history = nn.fit(
        model,
        nn.functional.cross_entropy,
        opt,
        train,
        val=val,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        scheduler=scheduler,
        progress=args.progress,
    )
    y_pred = predict(model, X_test)
    fig, axes = figs.new(1, 2, size=(5.0, 3.6))
    _common.plot_history(axes[0], history)
    figs.save(fig, "curves", title=f"{name}, SGD lr {args.lr}, momentum {args.momentum}")
    return history, y_pred, float(np.mean(y_pred == y_test))


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    (X_train, y_train), (X_val, y_val), (X_test, y_test), side, data_name = load(args)
    augment = args.augment if args.augment is not None else not args.mnist
    X_fit, y_fit = shifted_copies(X_train, y_train, side) if augment else (X_train, y_train)

    model = nn.MLP([X_train.shape[1], *args.hidden, 10], activation="relu", rng=args.seed, dtype=X_train.dtype)
    history, y_pred, test_accuracy = train_and_test(
        figs, args, model, f"{data_name}: MLP {model.sizes}", (X_fit, y_fit), (X_val, y_val), X_test, y_test
    )
    plot_confusion(figs, confusion_matrix(y_test, y_pred), test_accuracy)
    plot_mistakes(figs, X_test, y_test, y_pred, side)
    graph = draw_training_step(figs, model, X_train, y_train)

    numbers = {
        "data": data_name,
        "network": model.sizes,
        "training images": f"{len(X_train)} ({len(X_fit)} with shifted copies)" if augment else len(X_train),
        "final training loss": history["loss"][-1],
        "final validation accuracy": history["val_accuracy"][-1],
        "graph picture": graph is not None,
        "test accuracy": test_accuracy,  # the last line, as `make demo` promises
    }
    _common.report(numbers, figs)
    return {"history": history, "test_accuracy": test_accuracy, "files": figs.written}


if __name__ == "__main__":
    main()
