"""Truncation error against round-off error: how finite differences depend on the step eps.

For f(x) = sin(x) exp(x), whose derivative exp(x) (sin x + cos x) is known, this
script computes |numerical - exact| for eps from 1e-1 down to 1e-16 with three
formulas (autograd.numerical_grad):

    forward   (f(x + eps) - f(x)) / eps        truncation ~ eps,   round-off ~ u / eps
    central   (f(x + eps) - f(x - eps)) / 2eps  truncation ~ eps^2, round-off ~ u / eps
    complex   Im f(x + i eps) / eps             truncation ~ eps^2, no subtraction: no round-off

(u ~ 1e-16 is the float64 rounding unit). On a log-log plot the first two draw a
V: large steps suffer from truncation, small ones from cancellation, so the best
step is near sqrt(u) ~ 1e-8 (forward) or u^(1/3) ~ 1e-5 (central). The complex
step keeps falling to the rounding level and stays there.

    python -m examples.finite_difference_error     # writes outputs/finite_difference_error_errors.png
"""

import time

import numpy as np

from autograd import grad, numerical_grad

from . import _common

METHODS = ("forward", "central", "complex")
FLOOR = 1e-18  # an exact hit (error 0) is drawn here, so the log axis can show it


def f(x):
    return x.sin() * x.exp()


def errors(x, steps, args):
    """|numerical - exact| for each method and step."""
    exact = grad(f)(x)
    return {
        method: np.array(
            [abs(numerical_grad(f, x, eps=eps, method=method) - exact) for eps in _common.progress(steps, args, method)]
        )
        for method in METHODS
    }


def plot(figures, x, steps, errs):
    fig, axes = figures.new(size=(7.0, 4.5))
    ax = axes[0, 0]
    for method, marker in zip(METHODS, ("o", "s", "^")):
        ax.loglog(steps, np.maximum(errs[method], FLOOR), marker=marker, ms=3, label=method)
    ax.invert_xaxis()  # steps shrink from left to right, as one would try them
    ax.set(
        xlabel="step eps",
        ylabel=f"|numerical - exact|  (0 drawn at {FLOOR:g})",
        title=f"derivative of sin(x) exp(x) at x = {x:g}: truncation (left) vs round-off (right)",
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return figures.save(fig, "errors")


def main(argv=None):
    p = _common.parser(
        "finite_difference_error",
        "Log-log plot of the finite-difference error against the step eps "
        "(forward, central and complex-step differences of sin(x) exp(x)).",
    )
    p.add_argument("-x", type=_common.finite_float, default=1.0, help="where to differentiate")
    p.add_argument("--per-decade", type=_common.positive_int, default=4, help="steps per decade from 1e-1 to 1e-16")
    args = p.parse_args(argv)
    started = time.perf_counter()

    steps = np.logspace(-1, -16, 15 * args.per_decade + 1)
    errs = errors(args.x, steps, args)
    figures = _common.Figures(args, "finite_difference_error")
    plot(figures, args.x, steps, errs)

    numbers = {}
    for method in METHODS:
        best = int(np.argmin(errs[method]))
        numbers[f"best eps ({method})"] = float(steps[best])
        numbers[f"smallest error ({method})"] = float(errs[method][best])
    _common.report(numbers, figures, started)
    return {**numbers, "steps": steps, "errors": errs, "figures": figures.written}


if __name__ == "__main__":
    main()
