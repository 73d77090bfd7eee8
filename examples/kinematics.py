"""Kinematics by gradient descent: recover v0 and a in x = v0 t + a t^2 / 2 from noisy measurements.

A ball thrown upwards at v0 = 12 m/s under gravity a = -9.81 m/s^2 is measured at 40 times in
[0, 2] s with 10 cm of noise. The two unknowns are fitted by minimising the mean squared error
with plain gradient descent (autograd computes the gradient); the least-squares solution of the
normal equations is printed alongside. The figure shows the data and the fit, the loss against the
step, and the path of (v0, a) over the loss contours: the valley is long and narrow because the
columns t and t^2 / 2 are strongly correlated, so gradient descent first drops into the valley and
then creeps along it.

    python -m examples.kinematics
"""

import numpy as np

import nn
from autograd import Tensor

from . import _common


def build_parser():
    p = _common.parser("kinematics", "Fit v0 and a in x = v0 t + a t^2 / 2 by gradient descent.", lr=0.2, steps=1000)
    p.add_argument("--v0", type=_common.finite_float, default=12.0, help="true initial velocity (m/s)")
    p.add_argument("--a", type=_common.finite_float, default=-9.81, help="true acceleration (m/s^2)")
    p.add_argument("--n", type=_common.int_at_least(2), default=40, help="measurements")
    p.add_argument("--t-max", type=_common.positive_float, default=2.0, help="measurements at times in [0, t-max] s")
    p.add_argument(
        "--noise", type=_common.nonnegative_float, default=0.1, help="standard deviation of the position noise (m)"
    )
    return p


def position(v0, a, t):
    return v0 * t + a * t * t / 2


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    rng = np.random.default_rng(args.seed)
    t = np.sort(rng.uniform(0, args.t_max, args.n))
    x = position(args.v0, args.a, t) + rng.normal(0, args.noise, args.n)

    v0, a = nn.Parameter(0.0, label="v0"), nn.Parameter(0.0, label="a")
    T = Tensor(t)
    path = [(0.0, 0.0)]

    def loss_fn():
        return nn.functional.mse_loss(position(v0, a, T), x)

    losses = _common.gradient_descent(
        loss_fn,
        nn.optim.SGD([v0, a], lr=args.lr),
        args.steps,
        args,
        desc="gradient descent",
        on_step=lambda i: path.append((v0.item(), a.item())),
    )
    path = np.array(path)
    # The same problem solved exactly: least squares on the columns t and t^2 / 2.
    exact, *_ = np.linalg.lstsq(np.column_stack([t, t * t / 2]), x, rcond=None)

    fig, axes = figs.new(1, 3, size=(4.0, 3.4))
    ts = np.linspace(0, args.t_max, 200)
    ax = axes[0, 0]
    ax.plot(t, x, "k.", label="measurements")
    ax.plot(ts, position(args.v0, args.a, ts), "g--", label="truth")
    ax.plot(ts, position(v0.item(), a.item(), ts), "r", label="gradient descent")
    ax.set(xlabel="t (s)", ylabel="x (m)", title="x = v0 t + a t^2 / 2")
    ax.legend(fontsize="small")
    axes[0, 1].plot(losses)
    axes[0, 1].set(xlabel="step", ylabel="mean squared error (m^2)", yscale="log", title="loss")
    ax = axes[0, 2]
    V, A = np.meshgrid(
        np.linspace(-2, 1.3 * args.v0 + 2, 150), np.linspace(1.5 * min(args.a, 0) - 2, max(args.a, 0) + 4, 150)
    )
    mse = ((V[..., None] * t + A[..., None] * t * t / 2 - x) ** 2).mean(axis=-1)
    ax.contour(V, A, mse, levels=np.geomspace(mse.min() + 1e-3, mse.max(), 25), cmap="viridis", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "r.-", ms=2, lw=1, label="gradient descent")
    ax.plot(args.v0, args.a, "g*", ms=12, label="truth")
    ax.set(xlabel="v0 (m/s)", ylabel="a (m/s^2)", title="path over the loss contours")
    ax.legend(fontsize="small")
    figs.save(
        fig, "fit", title=f"{args.n} noisy positions (noise {args.noise:g} m), lr {args.lr:g}, {args.steps} steps"
    )

    numbers = {
        "true v0, a": f"{args.v0:.4f}, {args.a:.4f}",
        "gradient descent v0, a": f"{v0.item():.4f}, {a.item():.4f}",
        "least squares v0, a": f"{exact[0]:.4f}, {exact[1]:.4f}",
        "v0 relative error": abs(v0.item() - args.v0) / abs(args.v0),
        "a relative error": abs(a.item() - args.a) / abs(args.a),
        "final loss (m^2)": losses[-1],
    }
    _common.report(numbers, figs)
    return {"v0": v0.item(), "a": a.item(), "least_squares": tuple(exact), "losses": losses, "files": figs.written}


if __name__ == "__main__":
    main()
