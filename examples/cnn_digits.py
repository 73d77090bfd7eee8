"""Handwritten digits recognised by a convolutional network (LeNet's convolution + pooling + fully connected).

The step after examples.digits' fully connected network: the same data and split (scikit-learn's 8x8
digits, with copies shifted by one pixel for training), a LeNet-style network of nn.Conv2d,
nn.MaxPool2d, nn.BatchNorm2d, nn.Flatten and nn.Linear layers trained with nn.fit. `--mnist DIR` trains
LeNet-5 (LeCun et al. 1998: two 5x5 convolutions with 2x2 pooling, then 120, 84 and 10 units) on the
real MNIST IDX files. Figures: loss and accuracy curves, the first layer's learned filters, the feature
maps of one test digit, and the graph of one training step with one box per layer. The last line
printed is `test accuracy: 0.9xxx`.

    python -m examples.cnn_digits                  # figures in outputs/
    python -m examples.cnn_digits --mnist ~/mnist  # LeNet-5 on the 28x28 MNIST files
"""

import math

import numpy as np

import nn
from autograd import Tensor, no_grad

from . import _common
from .digits import draw_training_step, load, shifted_copies, train_and_test


def build_parser():
    p = _common.parser(
        "cnn_digits",
        "Train a convolutional network on handwritten digits (sklearn's 8x8 digits, or LeNet-5 on MNIST).",
        epochs=15,
        batch_size=32,
        lr=(0.05, "SGD learning rate (multiplied by 0.3 after each third of the epochs)"),
    )
    p.add_argument(
        "--mnist",
        metavar="DIR",
        type=_common.directory,
        help="read the four MNIST IDX files (raw or .gz) from DIR and train LeNet-5",
    )
    p.add_argument(
        "--channels",
        type=_common.positive_int,
        nargs=2,
        default=[32, 64],
        metavar=("C1", "C2"),
        help="channels of the two convolution stages (8x8 digits)",
    )
    p.add_argument("--momentum", type=_common.nonnegative_float, default=0.9, help="SGD momentum")
    p.add_argument("--limit", type=_common.positive_int, help="use at most this many training images")
    return p


def digits_cnn(c1, c2, rng, dtype):
    """For 8x8 images: two stages of 3x3 convolutions, batch norm, ReLU and 2x2 max-pooling, then two
    fully connected layers: 8x8 -> 4x4 -> 2x2 -> 10 classes."""
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, rng=rng, dtype=dtype),
        nn.BatchNorm2d(c1, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, rng=rng, dtype=dtype),
        nn.BatchNorm2d(c2, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 2 * 2, 128, rng=rng, dtype=dtype),
        nn.ReLU(),
        nn.Dropout(0.25, rng=rng),
        nn.Linear(128, 10, rng=rng, dtype=dtype),
    )


def lenet5(rng, dtype):
    """LeNet-5 for 28x28 images (padded by 2 to the original 32x32), with ReLU and max-pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, rng=rng, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, rng=rng, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120, rng=rng, dtype=dtype),
        nn.ReLU(),
        nn.Linear(120, 84, rng=rng, dtype=dtype),
        nn.ReLU(),
        nn.Linear(84, 10, rng=rng, dtype=dtype),
    )


def as_images(X, side):
    return X.reshape(-1, 1, side, side)


def plot_filters(figs, conv):
    """The first layer's 3x3 (or 5x5) filters, one small image each, on one colour scale."""
    w = conv.weight.data[:, 0]
    cols = min(8, len(w))
    rows = math.ceil(len(w) / cols)
    fig, axes = figs.new(rows, cols, size=(0.9, 0.9))
    limit = np.abs(w).max()
    for k, ax in enumerate(axes.ravel()):
        if k < len(w):
            ax.imshow(w[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.axis("off")
    figs.save(fig, "filters", title=f"the {len(w)} learned first-layer filters (red +, blue -)")


def plot_feature_maps(figs, model, image, label, n=8):
    """One digit and what the first n channels of each convolution stage make of it."""
    model.eval()
    stages, h = [], Tensor(image[None])
    with no_grad():
        for layer in model:
            h = layer(h)
            if isinstance(layer, nn.ReLU) and h.ndim == 4:  # a convolution stage's output, before pooling
                stages.append(h.data[0])
    fig, axes = figs.new(len(stages), n + 1, size=(1.0, 1.1))
    for row, maps in enumerate(stages):
        axes[row, 0].imshow(image[0], cmap="gray_r")
        axes[row, 0].set_title(f"digit {label}" if row == 0 else "", fontsize=8)
        for k in range(n):
            ax = axes[row, k + 1]
            if k < len(maps):
                ax.imshow(maps[k], cmap="viridis")
                ax.set_title(f"stage {row + 1}, ch {k}", fontsize=7)
        for ax in axes[row]:
            ax.axis("off")
    figs.save(fig, "feature_maps", title="feature maps after each convolution stage's ReLU (before its max-pooling)")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    (X_train, y_train), (X_val, y_val), (X_test, y_test), side, data_name = load(args)
    dtype = np.float32  # float32 halves the work of the convolutions' products
    rng = np.random.default_rng(args.seed)
    if args.mnist:
        X_fit, y_fit = X_train, y_train
        model, network = lenet5(rng, dtype), "LeNet-5"
    else:
        X_fit, y_fit = shifted_copies(X_train, y_train, side)
        model, network = digits_cnn(*args.channels, rng, dtype), f"CNN {args.channels[0]}-{args.channels[1]}"
    X_fit, X_val, X_test = (as_images(X, side).astype(dtype) for X in (X_fit, X_val, X_test))

    history, _, test_accuracy = train_and_test(
        figs, args, model, f"{data_name}: {network}", (X_fit, y_fit), (X_val, y_val), X_test, y_test
    )
    plot_filters(figs, model[0])
    plot_feature_maps(figs, model, X_test[0], y_test[0])
    graph = draw_training_step(figs, model, X_fit, y_fit)

    numbers = {
        "data": data_name,
        "network": network,
        "parameters": sum(p.size for p in model.parameters()),
        "training images": len(X_fit),
        "final training loss": history["loss"][-1],
        "final validation accuracy": history["val_accuracy"][-1],
        "graph picture": graph is not None,
        "test accuracy": test_accuracy,  # the last line
    }
    _common.report(numbers, figs)
    return {"history": history, "test_accuracy": test_accuracy, "files": figs.written}


if __name__ == "__main__":
    main()
