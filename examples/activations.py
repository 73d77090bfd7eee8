"""Every activation function of the course notes, with its derivative computed by autograd.

No derivative here is written by hand for plotting: each comes from one backward pass. For an
elementwise f, the gradient of sum_i f(x_i) with respect to x_i is f'(x_i), so a single backward()
through f(x).sum() gives the whole derivative curve. The example then checks those curves against
the closed forms of the notes (sigmoid' = s (1 - s) with maximum 0.25 at 0, tanh' = 1 - tanh^2,
hard-logistic' = 0.25 on (-2, 2), softplus' = sigmoid, ELU' = e^x for x <= 0, swish with beta = 0
being x / 2, ...), compares exact GELU x Phi(x) with its tanh and sigmoid approximations, and checks
softmax's Jacobian a_i (delta_ij - a_j) and maxout's winner-takes-the-gradient rule.

    python -m examples.activations
"""

import math

import numpy as np

import autograd
import nn
from autograd import Tensor, jacobian

from . import _common

F = nn.functional


def build_parser():
    p = _common.parser("activations", "Activation functions and their autograd derivatives.")
    p.add_argument("--points", type=_common.int_at_least(2), default=1001, help="points on [-5, 5]")
    return p


def derivative(fn, x):
    """(f(x), f'(x)) for an elementwise f: one backward pass through f(x).sum()."""
    t = Tensor(x, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.data, t.grad


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def std_normal_pdf(x):
    return np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def std_normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


# name: (function of a Tensor, the closed-form derivative of the notes, as NumPy)
ACTIVATIONS = {
    "logistic sigmoid": (F.sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x))),
    "tanh": (F.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "hard-logistic": (F.hard_sigmoid, lambda x: np.where(np.abs(x) < 2, 0.25, 0.0)),
    "hard-tanh": (F.hard_tanh, lambda x: np.where(np.abs(x) < 1, 1.0, 0.0)),
    "ReLU": (F.relu, lambda x: np.where(x > 0, 1.0, 0.0)),
    "leaky ReLU (0.01)": (F.leaky_relu, lambda x: np.where(x > 0, 1.0, 0.01)),
    "ELU (alpha 1)": (F.elu, lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))),
    "softplus": (F.softplus, sigmoid),
    "swish / SiLU (beta 1)": (F.silu, lambda x: sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x))),
    "GELU (exact)": (F.gelu, lambda x: std_normal_cdf(x) + x * std_normal_pdf(x)),
}
SWISH_BETAS = (0.0, 0.5, 1.0, 10.0)
GELU_FORMS = ("none", "tanh", "sigmoid")


def softmax_checks():
    """Softmax's Jacobian against a_i (delta_ij - a_j); 2 classes against sigmoid(z1 - z2); large beta -> hardmax."""
    z = np.array([1.0, -0.5, 2.0, 0.3])
    a = F.softmax(Tensor(z)).data
    J = jacobian(lambda t: F.softmax(t))(z)
    pair = np.array([0.7, -1.2])
    hard = F.softmax(Tensor(z), beta=50.0).data
    return {
        "softmax Jacobian vs a_i (delta_ij - a_j)": np.abs(J - (np.diag(a) - np.outer(a, a))).max(),
        "2-class softmax vs sigmoid(z1 - z2)": abs(F.softmax(Tensor(pair)).data[0] - sigmoid(pair[0] - pair[1])),
        "softmax with beta = 50 vs hardmax": np.abs(hard - np.eye(len(z))[np.argmax(z)]).max(),
    }


def hardmax_and_step_checks():
    """Tied maxima share hardmax equally, as softmax(beta z) does for large beta; a step passes no gradient.

    A unit step(w . x) is piecewise constant in w, so the loss of a network of such units has
    derivative 0 wherever it has one: central differences find exactly 0, chainrule's
    where(z > 0, 1, 0) records no path back to w, and a sigmoid steep enough to look like the
    step (beta = 1e4) passes back next to nothing. That is why backpropagation needs smooth units.
    """
    tied = F.softmax(Tensor(np.array([1.0, 3.0, 3.0, 0.0])), beta=1e4).data
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(20, 3)), rng.integers(0, 2, 20), rng.normal(size=3)
    loss = lambda w: np.mean((np.where(X @ w > 0, 1.0, 0.0) - y) ** 2)
    numerical = [(loss(w + h) - loss(w - h)) / 2e-6 for h in np.eye(3) * 1e-6]
    w_t = Tensor(w, requires_grad=True)
    step_out = autograd.where(Tensor(X) @ w_t > 0, 1.0, 0.0)
    steep = Tensor(X) @ w_t
    (((steep * 1e4).sigmoid() - y) ** 2).mean().backward()
    return {
        "softmax(beta = 1e4) of (1, 3, 3, 0) vs (0, 1/2, 1/2, 0)": np.abs(tied - [0, 0.5, 0.5, 0]).max(),
        "step unit: central-difference gradient of the loss, max |.|": float(np.abs(numerical).max()),
        "step unit where(z > 0, 1, 0): output requires grad": step_out.requires_grad,
        "sigmoid(1e4 z) in place of the step: gradient max |.|": float(np.abs(w_t.grad).max()),
    }


def maxout_check():
    """Maxout over groups of 3: the gradient is 1 at each group's winner and 0 elsewhere."""
    x = Tensor(np.array([[0.2, 1.5, -0.3, 2.0, -1.0, 0.5]]), requires_grad=True)
    F.maxout(x, 3).sum().backward()
    return {"maxout gradient vs one-hot of the winners": np.abs(x.grad - np.array([[0, 1, 0, 1, 0, 0]])).max()}


def prelu_checks(x):
    """PReLU (learnable slope a = 0.25): d/dx away from 0, d/da = sum of min(0, x), and the value at the kink."""
    prelu = nn.PReLU(init=0.25)
    y, dy = derivative(prelu, x)
    away = x != 0
    closed = np.where(x > 0, 1.0, 0.25)
    checks = {
        "PReLU (slope 0.25): f' vs closed form, x != 0": float(np.abs(dy - closed)[away].max()),
        "PReLU: d sum f / d slope vs sum min(0, x)": float(abs(prelu.weight.grad[0] - np.minimum(x, 0).sum())),
    }
    # The notes leave the derivative at the kink open; leaky ReLU gives its slope there, relu'(0) = 0.
    at_zero = float(dy[~away][0]) if (~away).any() else float("nan")
    return (y, dy), checks, at_zero


def plot_all(figs, x, curves):
    cols = 4
    rows = math.ceil(len(curves) / cols)
    fig, axes = figs.new(rows, cols, size=(3.0, 2.5), sharex=True)
    for ax in axes.ravel()[len(curves) :]:
        ax.axis("off")
    for ax, (name, (y, dy)) in zip(axes.ravel(), curves.items()):
        ax.plot(x, y, label="f(x)")
        ax.plot(x, dy, "--", label="f'(x), autograd")
        ax.axhline(0, color="gray", lw=0.5)
        ax.set(title=name, ylim=(-1.5, 3.0))
    axes[0, 0].legend(fontsize="small")
    figs.save(fig, "all", title="activations and their derivatives (from backward())")


def plot_swish(figs, x, swish):
    fig, axes = figs.new(1, 2, size=(4.2, 3.2))
    for beta, (y, dy) in swish.items():
        axes[0, 0].plot(x, y, label=f"beta = {beta:g}")
        axes[0, 1].plot(x, dy, label=f"beta = {beta:g}")
    axes[0, 0].plot(x, np.maximum(x, 0), "k:", label="ReLU")
    axes[0, 0].set(title="swish x sigmoid(beta x)", ylim=(-1, 5))
    axes[0, 1].set(title="its derivative (autograd)")
    for ax in axes[0]:
        ax.legend(fontsize="small")
    figs.save(fig, "swish", title="beta = 0 gives x / 2, large beta approaches ReLU")


def plot_gelu(figs, x, gelu):
    fig, axes = figs.new(1, 3, size=(3.6, 3.2))
    labels = {"none": "exact x Phi(x)", "tanh": "tanh approximation", "sigmoid": "x sigmoid(1.702 x)"}
    for color, (form, (y, dy)) in zip(("C0", "C1", "C2"), gelu.items()):
        axes[0, 0].plot(x, y, color=color, label=labels[form])
        axes[0, 1].plot(x, dy, color=color, label=labels[form])
        if form != "none":
            axes[0, 2].plot(x, y - gelu["none"][0], color=color, label=labels[form])
    axes[0, 0].set(title="GELU")
    axes[0, 1].set(title="derivative (autograd)")
    axes[0, 2].set(title="approximation - exact")
    for ax in axes[0]:
        ax.legend(fontsize="small")
    figs.save(fig, "gelu")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    # Rounded so that the kinks 0, +-1, +-2 are on the grid exactly (the derivative there follows the notes).
    x = np.round(np.linspace(-5, 5, args.points), 10)

    curves = {name: derivative(fn, x) for name, (fn, _) in ACTIVATIONS.items()}
    curves["PReLU (slope 0.25)"], prelu, prelu_at_zero = prelu_checks(x)
    swish = {beta: derivative(lambda t, b=beta: F.silu(t, beta=b), x) for beta in SWISH_BETAS}
    gelu = {form: derivative(lambda t, f=form: F.gelu(t, approximate=f), x) for form in GELU_FORMS}

    # Each value is a maximum absolute difference: autograd against the notes' closed form.
    checks = {
        f"{name}: f' vs closed form": float(np.abs(curves[name][1] - closed(x)).max())
        for name, (_, closed) in ACTIVATIONS.items()
    }
    s_grad = curves["logistic sigmoid"][1]
    checks["sigmoid' maximum - 0.25"] = float(abs(s_grad.max() - 0.25))
    checks["sigmoid' is largest at x = 0 (distance)"] = float(abs(x[np.argmax(s_grad)]))
    checks["softplus' vs sigmoid"] = float(np.abs(curves["softplus"][1] - sigmoid(x)).max())
    checks["tanh vs 2 sigmoid(2x) - 1"] = float(np.abs(curves["tanh"][0] - (2 * sigmoid(2 * x) - 1)).max())
    checks["swish beta = 0 vs x / 2"] = float(np.abs(swish[0.0][0] - x / 2).max())
    checks["swish beta = 0: f' vs 1/2"] = float(np.abs(swish[0.0][1] - 0.5).max())
    checks.update(prelu)
    checks.update({k: float(v) for k, v in {**softmax_checks(), **maxout_check()}.items()})
    checks.update(hardmax_and_step_checks())
    approx = {
        "PReLU'(0) from autograd (leaky ReLU's is its slope)": prelu_at_zero,
        "swish beta = 10 vs ReLU (max difference)": float(np.abs(swish[10.0][0] - np.maximum(x, 0)).max()),
        "GELU tanh approximation: max error": float(np.abs(gelu["tanh"][0] - gelu["none"][0]).max()),
        "GELU sigmoid approximation: max error": float(np.abs(gelu["sigmoid"][0] - gelu["none"][0]).max()),
    }

    plot_all(figs, x, curves)
    plot_swish(figs, x, swish)
    plot_gelu(figs, x, gelu)
    _common.report({**checks, **approx}, figs)
    return {"checks": checks, "approximations": approx, "files": figs.written}


if __name__ == "__main__":
    main()
