"""Loss surfaces of the 1-1-1 network and gradient-descent paths: convex against non-convex.

The notes' network y_hat = sigma(w2 sigma(w1 x)) at the sample (x, y) = (1, 1) has a non-convex loss
surface over (w1, w2) for both the square loss (y - y_hat)^2 and the cross-entropy -ln y_hat. The
example draws both (contours and 3-D) and proves non-convexity numerically two ways: the Hessian,
computed on the whole grid at once by nested autograd.grad (each grid point is independent, so the
gradient of the sum is the gradient at every point), has a negative eigenvalue somewhere; and the
midpoint inequality f((a + b) / 2) <= (f(a) + f(b)) / 2 of convex functions fails for some grid
points a, b. Then gradient descent from several starting points: on the convex bowl
f = x^2 + y^2 every path ends at the origin, on Himmelblau's function
(x^2 + y - 11)^2 + (x + y^2 - 7)^2, which has four minima, the start decides which one is reached.

    python -m examples.loss_surface
"""

import numpy as np

import nn
from autograd import Tensor, grad, hessian

from . import _common

LOSSES = {
    "square loss (y - y_hat)^2": lambda yh, y: (y - yh) ** 2,
    "cross-entropy -[y ln y_hat + (1 - y) ln(1 - y_hat)]": lambda yh, y: -(y * yh.log() + (1 - y) * (1 - yh).log()),
}
HIMMELBLAU_MINIMA = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])


def build_parser():
    p = _common.parser(
        "loss_surface",
        "Non-convex loss surfaces of the 1-1-1 network; gradient-descent paths.",
        steps=(400, "gradient-descent steps for the paths"),
    )
    p.add_argument("--range", type=_common.positive_float, default=8.0, help="w1 and w2 run over [-range, range]")
    p.add_argument("--grid", type=_common.int_at_least(2), default=121, help="grid points per axis")
    return p


def network_loss(loss):
    """(w1, w2) -> the loss of y_hat = sigma(w2 sigma(w1 x)) at x = 1, y = 1, elementwise over arrays of weights."""
    return lambda w1, w2: loss((w2 * (w1 * 1.0).sigmoid()).sigmoid(), 1.0)


def grid_hessian(f, W1, W2):
    """The Hessian of f at every grid point: the second derivatives of sum(f) (nested autograd.grad)."""

    def total(w1, w2):
        return f(w1, w2).sum()

    h11, h12 = grad(lambda a, b: grad(total, argnums=0)(a, b).sum(), argnums=(0, 1))(W1, W2)
    _, h22 = grad(lambda a, b: grad(total, argnums=1)(a, b).sum(), argnums=(0, 1))(W1, W2)
    return h11, h12, h22


def smallest_eigenvalue(h11, h12, h22):
    """The smaller eigenvalue of [[h11, h12], [h12, h22]], elementwise."""
    return (h11 + h22) / 2 - np.sqrt(((h11 - h22) / 2) ** 2 + h12**2)


def midpoint_violation(F_grid, step=4):
    """The largest f(mid) - (f(a) + f(b)) / 2 over grid pairs `step` apart along rows and columns.

    Positive means convexity is violated; returns (excess, (i, j) of the midpoint, axis).
    """
    best = (-np.inf, None, None)
    for axis in (0, 1):
        f = np.moveaxis(F_grid, axis, 0)
        excess = f[step:-step] - (f[: -2 * step] + f[2 * step :]) / 2
        k = np.unravel_index(np.argmax(excess), excess.shape)
        if excess[k] > best[0]:
            i, j = k[0] + step, k[1]
            best = (float(excess[k]), (i, j) if axis == 0 else (j, i), axis)
    return best


def descend(f, starts, lr, steps, args, desc):
    """Gradient descent from all starts at once (rows of one Parameter; the rows do not interact)."""
    P = nn.Parameter(starts)
    path = [P.data.copy()]
    _common.gradient_descent(
        lambda: f(P[:, 0], P[:, 1]).sum(),
        nn.optim.SGD([P], lr=lr),
        steps,
        args,
        desc=desc,
        on_step=lambda i: path.append(P.data.copy()),
    )
    return np.array(path)  # (steps + 1, starts, 2)


def bowl(x, y):
    return x * x + y * y


def himmelblau(x, y):
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def plot_surfaces(figs, W1, W2, surfaces):
    fig = figs.blank(11.0, 4.6 * len(surfaces))
    for row, (name, (F_grid, min_eig)) in enumerate(surfaces.items()):
        ax = fig.add_subplot(len(surfaces), 2, 2 * row + 1)
        cs = ax.contour(W1, W2, F_grid, levels=20, cmap="viridis")
        ax.clabel(cs, fontsize=6)
        # Where the Hessian has a negative eigenvalue the surface curves down along some direction.
        ax.contourf(W1, W2, min_eig < 0, levels=[0.5, 1.5], colors="none", hatches=["//"])
        ax.contour(W1, W2, min_eig, levels=[0.0], colors="red", linewidths=1)
        ax.set(xlabel="w1", ylabel="w2", title=f"{name}\nhatched: Hessian not positive semidefinite")
        ax3 = fig.add_subplot(len(surfaces), 2, 2 * row + 2, projection="3d")
        ax3.plot_surface(W1, W2, F_grid, cmap="viridis", linewidth=0, rstride=2, cstride=2)
        ax3.set(xlabel="w1", ylabel="w2", zlabel="loss")
        ax3.view_init(elev=30, azim=-130)
    figs.save(fig, "surfaces", title="y_hat = sigma(w2 sigma(w1 x)) at (x, y) = (1, 1)")


def plot_paths(figs, paths):
    fig, axes = figs.new(1, len(paths), size=(4.4, 4.2))
    for ax, (name, (f, path, lim)) in zip(axes[0], paths.items()):
        xx, yy, _ = _common.grid((-lim, lim), (-lim, lim), 200)
        ax.contour(xx, yy, f(xx, yy), levels=np.geomspace(0.1, f(xx, yy).max(), 25), cmap="viridis", linewidths=0.7)
        for k in range(path.shape[1]):
            ax.plot(path[:, k, 0], path[:, k, 1], ".-", ms=2, lw=1)
            ax.plot(*path[0, k], "ko", ms=4)
            ax.plot(*path[-1, k], "r*", ms=10)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=name)
    figs.save(fig, "paths", title="gradient descent from several starts (black dots) to their ends (red stars)")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    r = args.range
    W1, W2 = np.meshgrid(np.linspace(-r, r, args.grid), np.linspace(-r, r, args.grid))

    numbers, surfaces, nonconvex = {}, {}, {}
    for name, loss in LOSSES.items():
        f = network_loss(loss)
        F_grid = f(Tensor(W1), Tensor(W2)).data
        min_eig = smallest_eigenvalue(*grid_hessian(f, W1, W2))
        k = np.unravel_index(np.argmin(min_eig), min_eig.shape)
        point = np.array([W1[k], W2[k]])
        # Cross-check one grid point with autograd.hessian of the scalar function.
        H = hessian(lambda w: f(w[0], w[1]))(point)
        excess, mid, axis = midpoint_violation(F_grid)
        surfaces[name] = (F_grid, min_eig)
        short = name.split(" ")[0]
        nonconvex[short] = {"min_eigenvalue": float(min_eig[k]), "midpoint_excess": excess}
        numbers[f"{short}: smallest Hessian eigenvalue on the grid (at w1, w2 = {point[0]:.2f}, {point[1]:.2f})"] = (
            float(min_eig[k])
        )
        numbers[f"{short}: autograd.hessian there, smallest eigenvalue"] = float(np.linalg.eigvalsh(H)[0])
        numbers[f"{short}: fraction of the grid where the Hessian is not PSD"] = float(np.mean(min_eig < -1e-12))
        numbers[
            f"{short}: midpoint inequality violated by (at w1, w2 = {W1[mid]:.2f}, {W2[mid]:.2f}, along w{2 - axis})"
        ] = excess

    rng = np.random.default_rng(args.seed)
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False) + rng.uniform(0, 0.3)
    ring = np.column_stack([np.cos(angles), np.sin(angles)])
    bowl_path = descend(bowl, 4.0 * ring, 0.1, args.steps, args, "x^2 + y^2")
    himmelblau_path = descend(himmelblau, 4.5 * ring, 0.005, args.steps, args, "Himmelblau")
    ends = himmelblau_path[-1]
    which = np.argmin(np.linalg.norm(ends[:, None, :] - HIMMELBLAU_MINIMA[None], axis=2), axis=1)
    reached = np.linalg.norm(ends - HIMMELBLAU_MINIMA[which], axis=1) < 1e-3

    plot_surfaces(figs, W1, W2, surfaces)
    plot_paths(
        figs,
        {
            "convex: x^2 + y^2": (bowl, bowl_path, 5.0),
            "four minima: Himmelblau's function": (himmelblau, himmelblau_path, 5.5),
        },
    )

    numbers["x^2 + y^2: largest distance of a path's end from (0, 0)"] = float(np.abs(bowl_path[-1]).max())
    numbers["Himmelblau: paths that reached a minimum"] = f"{int(reached.sum())} of {len(ends)}"
    numbers["Himmelblau: distinct minima reached"] = len(set(which[reached].tolist()))
    _common.report(numbers, figs)
    return {
        "nonconvex": nonconvex,
        "bowl_ends": bowl_path[-1],
        "himmelblau_ends": ends,
        "himmelblau_minima_reached": sorted(set(which[reached].tolist())),
        "files": figs.written,
    }


if __name__ == "__main__":
    main()
