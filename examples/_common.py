"""Helpers the examples share: command line, progress bars, figures, gradient descent, 2-D plots.

Every example is `python -m examples.NAME [--out DIR] [--seed N] [--gallery] [--no-progress]`
with a `main(argv)` that returns its numbers as a dict (the smoke tests read it).
"""

import argparse
import contextlib
import functools
import os
import time

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed (or wanted) on a server
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

try:
    from tqdm.auto import tqdm
except ImportError:  # tqdm is optional: without it loops simply run silently
    tqdm = None

from ._arguments import (  # noqa: E402, F401
    comma_separated,
    directory,
    finite_float,
    int_at_least,
    int_from_to,
    nonnegative_float,
    nonnegative_int,
    number_in,
    positive_float,
    positive_int,
    probability,
)

DPI = 100
GALLERY_DPI = 72  # docs/img/ figures: a few tens of KB each


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: ...)" only where there is a value to show (not for flags or unset options)."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


# The training options several examples share: (type, help); each example gives its own defaults.
TRAINING_OPTIONS = {
    "epochs": (positive_int, "passes over the training set"),
    "steps": (positive_int, "gradient-descent steps"),
    "batch_size": (positive_int, "mini-batch size"),
    "lr": (positive_float, "learning rate"),
}


def parser(name, description, **training):
    """An ArgumentParser with the options every example has; the example adds its own.

    `training` gives defaults for TRAINING_OPTIONS (epochs=20, lr=0.1, ...); a (default, help)
    pair replaces the standard help text.
    """
    p = argparse.ArgumentParser(
        prog=f"python -m examples.{name}", description=description, formatter_class=_HelpFormatter
    )
    p.add_argument("--out", default="outputs", help="folder for the PNG figures")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (data, initial weights, batches)")
    p.add_argument("--gallery", action="store_true", help="write small, downscaled PNGs (as in docs/img/)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    for key, value in training.items():
        kind, text = TRAINING_OPTIONS[key]
        default, text = value if isinstance(value, tuple) else (value, text)
        p.add_argument("--" + key.replace("_", "-"), type=kind, default=default, help=text)
    return p


def progress(iterable, args, desc, **kwargs):
    """`iterable` with a tqdm bar, unless --no-progress was given or tqdm is missing."""
    if not args.progress or tqdm is None:
        return iterable
    return tqdm(iterable, desc=desc, leave=False, **kwargs)


def one_blas_thread(main):
    """Decorator for an example's main(argv): NumPy's BLAS runs on one thread meanwhile.

    The examples multiply small matrices; with two BLAS threads on a two-core machine that is
    busy with anything else, the threads wait for each other and a run can take several times
    longer. threadpoolctl comes with scikit-learn; without it nothing changes.
    """

    @functools.wraps(main)
    def wrapper(argv=None):
        try:
            from threadpoolctl import threadpool_limits

            limit = threadpool_limits(limits=1, user_api="blas")
        except ImportError:
            limit = contextlib.nullcontext()
        with limit:
            return main(argv)

    return wrapper


def start(parser, argv):
    """Parse argv; return (args, the example's Figures), the run's clock started."""
    args = parser.parse_args(argv)
    return args, Figures(args, parser.prog.rsplit(".", 1)[-1])


class Figures:
    """Creates figures and saves them as `<out>/<example>_<name>.png`, remembering the paths."""

    def __init__(self, args, example):
        self.started = time.perf_counter()
        self.out, self.example = args.out, example
        self.small = args.gallery
        self.dpi = GALLERY_DPI if args.gallery else DPI
        self.written = []
        os.makedirs(self.out, exist_ok=True)

    def new(self, nrows=1, ncols=1, size=(6.0, 4.0), **kwargs):
        """plt.subplots with `size` in inches per panel (so a row of panels keeps its proportions)."""
        figsize = (size[0] * ncols, size[1] * nrows)
        return plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, **kwargs)

    def blank(self, width, height):
        """An empty figure of width x height inches, for mixed 2-D and 3-D axes."""
        return plt.figure(figsize=(width, height))

    def path(self, name, ext="png"):
        return os.path.join(self.out, f"{self.example}_{name}.{ext}")

    def save(self, fig, name, title=None):
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        path = self.path(name)
        fig.savefig(path, dpi=self.dpi)
        plt.close(fig)
        return self.add(path)

    def add(self, path):
        """Record a PNG written by other means (e.g. Graphviz), shrunk like the others in --gallery mode."""
        if self.small:
            shrink_png(path)
        self.written.append(path)
        return path


def shrink_png(path, colors=96):
    """Rewrite a PNG with an adaptive palette: a third of the bytes, no visible change for plots."""
    from PIL import Image  # Pillow comes with matplotlib

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=colors)
    small.save(path, optimize=True)


def fmt(v):
    """Numbers for the printed summary: 4 decimals, or scientific notation for tiny/huge ones."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (float, np.floating)):
        return str(v)
    return f"{v:.4f}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"


def report(numbers, figures, started=None):
    """Print the figures written, the run time, then `name: value` lines (in the dict's order).

    The time counts from `started` (a time.perf_counter() value) or else from the Figures' creation.
    """
    for path in figures.written:
        print(f"wrote {path}")
    print(f"time: {time.perf_counter() - (figures.started if started is None else started):.1f} s")
    for key, value in numbers.items():
        print(f"{key}: {fmt(value)}")


def gradient_descent(loss_fn, optimizer, steps, args=None, desc="gradient descent", on_step=None):
    """Run `steps` optimiser steps on `loss_fn()` (a Value or a 0-d Tensor); return the losses.

    `on_step(i)` is called after each update; .grad still holds the gradients the update used.
    """
    losses = []
    steps_iter = range(steps) if args is None else progress(range(steps), args, desc)
    for i in steps_iter:
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.data))
        if on_step is not None:
            on_step(i)
    return losses


def digits_data():
    """scikit-learn's 8x8 handwritten digits (no download): X (1797, 64) scaled to [0, 1], labels y."""
    from sklearn.datasets import load_digits  # imported here: sklearn takes seconds to import

    digits = load_digits()
    return digits.data / 16.0, digits.target


def grid(xlim, ylim, n):
    """(xx, yy, points): an n x n mesh over the box and its points as rows (n*n, 2)."""
    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def decision_regions(ax, predict, X, y, xlim, ylim, title="", n=200, levels=(0.5,)):
    """Shade predict(points) over the box, draw its `levels` contours and the labelled points.

    predict maps (k, 2) points to k scores (a probability, or a +-1 / 0-1 label).
    """
    xx, yy, pts = grid(xlim, ylim, n)
    zz = np.asarray(predict(pts), dtype=float).reshape(xx.shape)
    ax.contourf(xx, yy, zz, levels=20, cmap="RdBu_r", alpha=0.35)
    if zz.min() < min(levels) < zz.max():
        ax.contour(xx, yy, zz, levels=list(levels), colors="k", linewidths=1.5)
    classes = np.unique(y)
    for c, color, marker in zip(classes, ("tab:blue", "tab:red"), ("o", "s")):
        pts_c = X[y == c]
        ax.scatter(pts_c[:, 0], pts_c[:, 1], c=color, marker=marker, edgecolors="k", s=40, label=str(c))
    ax.set(xlim=xlim, ylim=ylim, title=title)


def plot_history(axes, history):
    """Loss and accuracy curves of an nn.fit history on two axes, training solid, validation dashed."""
    for ax, key in zip(axes, ("loss", "accuracy")):
        epochs = np.arange(1, len(history[key]) + 1)
        (line,) = ax.plot(epochs, history[key], label="train")
        if history.get("val_" + key):
            ax.plot(epochs, history["val_" + key], "--", color=line.get_color(), label="validation")
        ax.set(xlabel="epoch", ylabel=key)
        ax.legend(fontsize="small")
