"""A restricted Boltzmann machine learns binarised handwritten digits by contrastive divergence.

The RBM (nn.RBM) has 64 binary visible units (scikit-learn's 8x8 digits, each pixel 1 where the
ink exceeds half) and hidden binary units. Its free energy F(v) = -v . b_v - sum_j softplus(b_h,j
+ W_j . v) makes p(v) proportional to exp(-F(v)); the CD-k loss F(v_data) - F(v_k), with v_k
sampled by k Gibbs steps and held constant, has as gradient the CD-k estimate of the negative
log-likelihood's gradient, and chainrule's backward pass computes it (SGD with momentum trains).
Figures: the reconstruction error falling over training, the hidden units' filters (rows of W as
8x8 images), and samples from the model (long Gibbs chains started from noise).

    python -m examples.rbm
"""

import numpy as np

import nn
from autograd import no_grad

from . import _common


def build_parser():
    p = _common.parser(
        "rbm",
        "A restricted Boltzmann machine on binarised digits (contrastive divergence).",
        epochs=20,
        batch_size=20,
        lr=(0.05, "SGD's rate (momentum 0.5)"),
    )
    p.add_argument("--hidden", type=_common.positive_int, default=64, help="hidden units")
    p.add_argument("--k", type=_common.positive_int, default=1, help="Gibbs steps of CD-k")
    p.add_argument("--gibbs", type=_common.positive_int, default=500, help="Gibbs steps of each sample chain")
    p.add_argument("--samples", type=_common.positive_int, default=16, help="samples drawn from the model")
    return p


def reconstruction_error(rbm, v):
    """Mean squared difference between v and its mean-field reconstruction, per pixel."""
    with no_grad():
        return float(np.mean((rbm.reconstruct(v).data - v) ** 2))


def train(rbm, train_set, test_set, args, rng):
    opt = nn.optim.SGD(rbm.parameters(), lr=args.lr, momentum=0.5)
    errors = {"train": [reconstruction_error(rbm, train_set)], "test": [reconstruction_error(rbm, test_set)]}
    for _ in _common.progress(range(args.epochs), args, "CD training"):
        order = rng.permutation(len(train_set))
        for start in range(0, len(order), args.batch_size):
            opt.zero_grad()
            rbm.contrastive_divergence(train_set[order[start : start + args.batch_size]], k=args.k).backward()
            opt.step()
        errors["train"].append(reconstruction_error(rbm, train_set))
        errors["test"].append(reconstruction_error(rbm, test_set))
    return errors


def images(ax_row, pictures, cmap="gray_r", symmetric=False):
    for ax, picture in zip(ax_row, pictures):
        limit = np.abs(picture).max() if symmetric else 1
        ax.imshow(picture.reshape(8, 8), cmap=cmap, vmin=-limit if symmetric else 0, vmax=limit)
        ax.set(xticks=[], yticks=[])


def plot(figs, errors, rbm, test_set, samples):
    fig, axes = figs.new(1, 1, size=(5.0, 3.4))
    ax = axes[0, 0]
    for name, style in (("train", "-"), ("test", "--")):
        ax.plot(errors[name], style, label=name)
    ax.set(xlabel="epoch", ylabel="squared error per pixel", title="reconstruction error", ylim=(0, None))
    ax.legend()
    figs.save(fig, "reconstruction_error")

    n = min(32, rbm.n_hidden)
    fig, axes = figs.new(4, 8, size=(1.0, 1.0))
    images(axes.ravel(), rbm.weight.data[:n], cmap="RdBu_r", symmetric=True)
    figs.save(fig, "filters", title=f"filters: weights of {n} hidden units (red +, blue -)")

    shown = min(8, len(samples))
    fig, axes = figs.new(3, shown, size=(1.1, 1.1))
    with no_grad():
        reconstructed = rbm.reconstruct(test_set[:shown]).data
    images(axes[0], test_set[:shown])
    images(axes[1], reconstructed)
    images(axes[2], samples[:shown])
    for row, text in enumerate(("test digit", "reconstruction", "model sample")):
        axes[row, 0].set_ylabel(text, fontsize="small")
    figs.save(fig, "samples")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    rng = np.random.default_rng(args.seed)
    X, _ = _common.digits_data()
    binary = (X > 0.5).astype(np.float64)
    order = rng.permutation(len(binary))
    test_set, train_set = binary[order[:300]], binary[order[300:]]

    rbm = nn.RBM(64, args.hidden, rng=rng)
    errors = train(rbm, train_set, test_set, args, rng)
    noise = (rng.random((args.samples, 64)) < 0.5).astype(np.float64)
    with no_grad():
        chain_end = rbm.gibbs(noise, k=args.gibbs)
        samples = rbm.visible_probability(rbm.sample_hidden(chain_end)).data
    plot(figs, errors, rbm, test_set, samples)
    numbers = {
        "visible / hidden units": f"64 / {args.hidden}",
        "training / test digits": f"{len(train_set)} / {len(test_set)}",
        "reconstruction error before training (test)": errors["test"][0],
        "reconstruction error after training (train)": errors["train"][-1],
        "reconstruction error after training (test)": errors["test"][-1],
    }
    _common.report(numbers, figs)
    return {"errors": errors, "files": figs.written}


if __name__ == "__main__":
    main()
