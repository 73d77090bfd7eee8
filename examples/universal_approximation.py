"""The universal approximation theorem at work: one hidden layer fitting sin on [0, 2 pi].

A network with one hidden layer of M tanh units, y = sum_k v_k tanh(w_k x + b_k) + c, can approximate
any continuous function on an interval as M grows. The example fits sin(x) on [0, 2 pi] for
M = 1, 2, 4, 8, 16 (nn.MLP([1, M, 1]), full-batch Adam on the mean squared error) and plots each fit
with its M hidden contributions v_k tanh(w_k x + b_k). Gradient descent can end in a local minimum,
so each width is trained from a few random starts and the best is kept (all are printed). Then a
radial-basis network (nn.RBF: sum_i w_i exp(-beta_i (x - c_i)^2)) does the same with bumps instead
of steps, trained by gradient descent in every parameter, and beside it fitted as 西瓜书 §5.5 does:
centres and widths chosen first, then the output weights (and a bias) by linear least squares.

    python -m examples.universal_approximation
"""

import numpy as np

import nn
from autograd import Tensor, no_grad

from . import _common


def build_parser():
    p = _common.parser(
        "universal_approximation",
        "One hidden layer of growing width fitting sin; an RBF network.",
        steps=(2000, "Adam steps per fit"),
        lr=(0.05, "Adam's rate (a tenth of it for the last 40%% of the steps)"),
    )
    p.add_argument("--widths", type=_common.positive_int, nargs="+", default=[1, 2, 4, 8, 16], help="hidden widths M")
    p.add_argument(
        "--restarts", type=_common.positive_int, default=3, help="random starts per width (the best fit is kept)"
    )
    p.add_argument("--centers", type=_common.positive_int, default=10, help="RBF centres")
    p.add_argument("--points", type=_common.int_at_least(2), default=100, help="sample points on [0, 2 pi]")
    return p


def rmse(model, x, y):
    with no_grad():
        return float(np.sqrt(np.mean((model(Tensor(x)).data.reshape(-1) - y) ** 2)))


def fit(model, x, y, args, desc):
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    # A tenth of the rate for the last 40% of the steps: Adam then settles instead of jittering at 1e-3.
    slower = nn.optim.StepLR(opt, step_size=max(1, int(0.6 * args.steps)), gamma=0.1)
    _common.gradient_descent(
        lambda: nn.functional.mse_loss(model(Tensor(x)).reshape(-1), y),
        opt,
        args.steps,
        args,
        desc=desc,
        on_step=lambda i: slower.step(),
    )
    return rmse(model, x, y)


def fit_width(M, x, y, args):
    """(best model, its RMSE, every start's RMSE) for M hidden tanh units."""
    tries = []
    for r in range(args.restarts):
        model = nn.MLP([1, M, 1], activation="tanh", rng=args.seed + 1000 * r + M)
        tries.append((fit(model, x, y, args, f"M = {M}, start {r + 1}"), model))
    best_err, best = min(tries, key=lambda t: t[0])
    return best, best_err, [e for e, _ in tries]


def hidden_contributions(model, x):
    """v_k tanh(w_k x + b_k) for each hidden unit k: columns of (points, M)."""
    first, last = model[0], model[2]
    return np.tanh(x @ first.weight.data.T + first.bias.data) * last.weight.data[0]


def rbf_least_squares(rbf, x, y, bias=True):
    """西瓜书 §5.5's way: the centres and widths are chosen first and kept; the output weights
    then solve a linear least-squares problem (with a bias column when `bias`). Sets rbf.weight
    and returns the bias (0.0 without one); the fitted function is rbf(x) + bias."""
    diff = x[:, None, :] - rbf.centers.data[None, :, :]
    features = np.exp(-(diff**2).sum(axis=2) * rbf.beta.data)  # (points, centres)
    if bias:
        features = np.hstack([features, np.ones((len(x), 1))])
    solution = np.linalg.lstsq(features, y, rcond=None)[0]
    rbf.weight.data = solution[: rbf.weight.size]
    return float(solution[-1]) if bias else 0.0


def plot_fits(figs, x, y, fits):
    fig, axes = figs.new(1, len(fits), size=(3.0, 3.0), sharey=True)
    for ax, (M, (model, err, _)) in zip(axes[0], fits.items()):
        ax.plot(x, hidden_contributions(model, x), lw=0.7, alpha=0.6)
        ax.plot(x, y, "k--", lw=1.5, label="sin x")
        with no_grad():
            ax.plot(x, model(Tensor(x)).data, "r", lw=2, label="network")
        ax.set(title=f"M = {M}: RMSE {err:.4f}", xlabel="x", ylim=(-2.5, 2.5))
    axes[0, 0].legend(loc="lower left", fontsize="small")
    figs.save(fig, "fits", title="one hidden layer of M tanh units (thin lines: each unit's contribution)")


def plot_error_and_rbf(figs, x, y, fits, rbf, rbf_err):
    fig, axes = figs.new(1, 2, size=(4.4, 3.4))
    ax = axes[0, 0]
    widths = list(fits)
    for M, (_, _, tries) in fits.items():
        ax.plot([M] * len(tries), tries, "o", color="gray", ms=4, alpha=0.6)
    ax.plot(widths, [fits[M][1] for M in widths], "ro-", label="best start")
    ax.set(
        xscale="log",
        yscale="log",
        xticks=widths,
        xticklabels=widths,
        xlabel="hidden units M",
        ylabel="RMSE",
        title="fit error (gray: every random start)",
    )
    ax.legend()
    ax = axes[0, 1]
    c, beta, w = rbf.centers.data[:, 0], rbf.beta.data, rbf.weight.data
    ax.plot(x, w * np.exp(-beta * (x - c) ** 2), lw=0.7, alpha=0.6)
    ax.plot(x, y, "k--", lw=1.5, label="sin x")
    with no_grad():
        ax.plot(x, rbf(Tensor(x)).data, "r", lw=2, label="RBF network")
    ax.set(title=f"RBF, {len(c)} centres: RMSE {rbf_err:.4f}", xlabel="x")
    ax.legend(fontsize="small")
    figs.save(fig, "error_rbf")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    x = np.linspace(0, 2 * np.pi, args.points)[:, None]
    y = np.sin(x[:, 0])

    fits = {M: fit_width(M, x, y, args) for M in args.widths}
    rbf = nn.RBF(1, args.centers, rng=args.seed)
    rbf.centers.data = np.linspace(0, 2 * np.pi, args.centers)[:, None]  # spread the bumps over the interval
    rbf_err = fit(rbf, x, y, args, "RBF")
    book = nn.RBF(1, args.centers, rng=args.seed)  # the book's way: centres and widths first
    book.centers.data = np.linspace(0, 2 * np.pi, args.centers)[:, None]
    book.beta.data = np.full(args.centers, 0.5 / (2 * np.pi / max(1, args.centers - 1)) ** 2)
    book_bias = rbf_least_squares(book, x, y)
    with no_grad():
        book_err = float(np.sqrt(np.mean((book(Tensor(x)).data + book_bias - y) ** 2)))

    plot_fits(figs, x, y, fits)
    plot_error_and_rbf(figs, x, y, fits, rbf, rbf_err)
    numbers = {
        f"M = {M}: RMSE (best of {args.restarts}; all: {', '.join(f'{e:.4f}' for e in tries)})": err
        for M, (_, err, tries) in fits.items()
    }
    numbers[f"RBF with {args.centers} centres: RMSE"] = rbf_err
    numbers["RBF the book's way (fixed centres and widths, weights and bias by least squares): RMSE"] = book_err
    _common.report(numbers, figs)
    return {
        "errors": {M: err for M, (_, err, _) in fits.items()},
        "rbf_error": rbf_err,
        "rbf_least_squares_error": book_err,
        "files": figs.written,
    }


if __name__ == "__main__":
    main()
