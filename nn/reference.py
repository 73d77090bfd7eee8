"""Hand-derived backpropagation in plain NumPy (no autograd).

This module is the course notes' algorithm written out by hand, so that the
autodiff engine can be checked against it and so that the examples can show
the per-layer error terms delta^(l) directly.

Conventions (the course notes, "Notation"):

* ``weights[l]`` is ``W^(l+1)`` with shape ``(M_(l+1), M_l)``: row i holds the
  weights into neuron i. ``biases[l]`` has shape ``(M_(l+1),)``.
* A mini-batch is stored as rows: ``Z = A W^T + b``.
* ``delta^(l) = dC_x/dz^(l)`` is the error term of one sample ``x`` (one row per
  sample); the returned gradients are of the batch-MEAN cost, so they are
  ``delta^T a / m`` and the mean of delta over the batch.

The second half holds the single-hidden-layer network of 西瓜书 chapter 5 with
thresholds (``v, gamma, w, theta``) and its standard and accumulated BP steps.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "get_activation",
    "forward",
    "cost",
    "deltas",
    "backprop",
    "init_watermelon_params",
    "watermelon_forward",
    "watermelon_error",
    "bp_updates",
    "bp_standard_step",
    "bp_accumulated_step",
    "WatermelonBP",
]


# ---------------------------------------------------------------------------
# Activations: each name maps to (f, f'), both elementwise on float64 arrays.
# ---------------------------------------------------------------------------


def _sigmoid(z):
    # exp(-log(1 + e^-z)) never overflows, unlike 1 / (1 + exp(-z)) for z << 0.
    return np.exp(-np.logaddexp(0.0, -z))


def _d_sigmoid(z):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _d_tanh(z):
    t = np.tanh(z)
    return 1.0 - t * t


def _relu(z):
    return np.maximum(z, 0.0)


def _d_relu(z):
    # relu'(0) = 0, as chosen in the course notes.
    return (z > 0).astype(np.float64)


_LEAKY_SLOPE = 0.01


def _leaky_relu(z):
    return np.where(z > 0, z, _LEAKY_SLOPE * z)


def _d_leaky_relu(z):
    return np.where(z > 0, 1.0, _LEAKY_SLOPE)


def _elu(z):
    # expm1 on min(z, 0) keeps the unused branch of np.where from overflowing.
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def _d_elu(z):
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))


def _softplus(z):
    return np.logaddexp(0.0, z)


def _identity(z):
    return z


def _d_identity(z):
    return np.ones_like(z)


def _hard_sigmoid(z):
    # First-order Taylor form of the logistic around 0, clipped to [0, 1].
    return np.clip(0.25 * z + 0.5, 0.0, 1.0)


def _d_hard_sigmoid(z):
    return np.where(np.abs(z) < 2.0, 0.25, 0.0)


def _hard_tanh(z):
    return np.clip(z, -1.0, 1.0)


def _d_hard_tanh(z):
    return np.where(np.abs(z) < 1.0, 1.0, 0.0)


def _silu(z):
    return z * _sigmoid(z)


def _d_silu(z):
    s = _sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


# math.erf is exact to double precision; NumPy has no erf and scipy is not a
# dependency, so it is vectorised (the reference is for small checks anyway).
_erf = np.vectorize(math.erf, otypes=[np.float64])
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu(z):
    return 0.5 * z * (1.0 + _erf(z / _SQRT2))


def _d_gelu(z):
    # d/dz [z Phi(z)] = Phi(z) + z phi(z).
    phi = _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    return 0.5 * (1.0 + _erf(z / _SQRT2)) + z * phi


def _softmax(z):
    # Row-wise; subtracting the row max avoids overflow and changes nothing.
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


ACTIVATIONS: dict[str, tuple[Any, Any]] = {  # name: (f, f'), np.tanh among them
    "sigmoid": (_sigmoid, _d_sigmoid),
    "tanh": (np.tanh, _d_tanh),
    "relu": (_relu, _d_relu),
    "leaky_relu": (_leaky_relu, _d_leaky_relu),
    "elu": (_elu, _d_elu),
    "softplus": (_softplus, _sigmoid),  # softplus' is the logistic sigmoid
    "identity": (_identity, _d_identity),
    "hard_sigmoid": (_hard_sigmoid, _d_hard_sigmoid),
    "hard_tanh": (_hard_tanh, _d_hard_tanh),
    "silu": (_silu, _d_silu),
    "gelu": (_gelu, _d_gelu),
    # softmax is not elementwise: its derivative is a Jacobian, handled in the
    # output error term, so it is allowed as output activation only.
    "softmax": (_softmax, None),
}

# Other spellings users meet in the texts.
_ALIASES = {
    "linear": "identity",
    "none": "identity",
    "logistic": "sigmoid",
    "hard_logistic": "hard_sigmoid",
    "swish": "silu",
}

LOSSES = ("quadratic", "cross_entropy", "nll")


def _activation_name(name, fn, role):
    """Canonical activation name, or a ValueError naming the caller."""
    if not isinstance(name, str):
        raise ValueError(f"{fn}: {role} must be a string, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        known = ", ".join(sorted(ACTIVATIONS) + sorted(_ALIASES))
        raise ValueError(f"{fn}: unknown {role} {name!r}; expected one of: {known}")
    if key == "softmax" and role == "activation":
        raise ValueError(f"{fn}: 'softmax' is supported as output_activation only, not as the hidden activation")
    return key


Function: TypeAlias = Callable[[np.ndarray], np.ndarray]
WatermelonParams: TypeAlias = Mapping[str, npt.ArrayLike]  # keys "v", "gamma", "w", "theta"


def get_activation(name: str) -> tuple[Function, Function | None]:
    """Return ``(f, f_prime)`` for an activation name (``f_prime`` is None for softmax)."""
    return ACTIVATIONS[_activation_name(name, "get_activation", "output_activation")]


# ---------------------------------------------------------------------------
# Input checking shared by forward / cost / deltas / backprop.
# ---------------------------------------------------------------------------


def _check_network(fn, weights, biases, x):
    """Convert to float64 arrays and check every shape; returns (Ws, bs, x)."""
    if isinstance(weights, np.ndarray) or isinstance(biases, np.ndarray):
        raise ValueError(f"{fn}: weights and biases must be lists of arrays (one per layer)")
    Ws = [np.asarray(W, dtype=np.float64) for W in weights]
    bs = [np.asarray(b, dtype=np.float64) for b in biases]
    if len(Ws) == 0:
        raise ValueError(f"{fn}: weights is empty; need at least one layer")
    if len(Ws) != len(bs):
        raise ValueError(f"{fn}: got {len(Ws)} weight matrices but {len(bs)} bias vectors")
    for l, (W, b) in enumerate(zip(Ws, bs)):
        if W.ndim != 2:
            raise ValueError(f"{fn}: weights[{l}] must be 2-d (out, in), got shape {W.shape}")
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"{fn}: biases[{l}] has shape {b.shape}, expected {(W.shape[0],)} "
                f"to match weights[{l}] of shape {W.shape}"
            )
        if l > 0 and W.shape[1] != Ws[l - 1].shape[0]:
            raise ValueError(
                f"{fn}: weights[{l}] has shape {W.shape} but weights[{l - 1}] has shape "
                f"{Ws[l - 1].shape}: layer {l} expects {W.shape[1]} inputs, "
                f"layer {l - 1} gives {Ws[l - 1].shape[0]}"
            )
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != Ws[0].shape[1]:
        raise ValueError(
            f"{fn}: x has shape {x.shape}, expected (batch, {Ws[0].shape[1]}) "
            f"to match weights[0] of shape {Ws[0].shape}"
        )
    return Ws, bs, x


def _check_loss(fn, loss, out_name):
    if loss not in LOSSES:
        raise ValueError(f"{fn}: unknown loss {loss!r}; expected one of: {', '.join(LOSSES)}")
    # The two special losses only make sense with the output they pair with;
    # their simple a - y error term relies on it.
    if loss == "nll" and out_name != "softmax":
        raise ValueError(f"{fn}: loss 'nll' needs output_activation='softmax', got {out_name!r}")
    if loss == "cross_entropy" and out_name != "sigmoid":
        raise ValueError(f"{fn}: loss 'cross_entropy' (binary) needs output_activation='sigmoid', got {out_name!r}")


def _check_targets(fn, y, x, Ws, loss):
    y = np.asarray(y, dtype=np.float64)
    expected = (x.shape[0], Ws[-1].shape[0])
    if y.shape != expected:
        raise ValueError(f"{fn}: y has shape {y.shape}, expected {expected} (batch of x, outputs of weights[-1])")
    if loss == "nll" and y.size and not np.allclose(y.sum(axis=1), 1.0):
        raise ValueError(
            f"{fn}: loss 'nll' needs one-hot y (rows summing to 1); row sums range over "
            f"[{y.sum(axis=1).min():g}, {y.sum(axis=1).max():g}]"
        )
    return y


# ---------------------------------------------------------------------------
# Forward pass, cost, error terms, gradients.
# ---------------------------------------------------------------------------


def _forward(Ws, bs, x, hidden, output):
    zs, acts = [], [x]
    L = len(Ws)
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = acts[-1] @ W.T + b  # Z = A W^T + b, samples as rows
        f = ACTIVATIONS[output if l == L - 1 else hidden][0]
        zs.append(z)
        acts.append(f(z))
    return zs, acts


def forward(
    weights: Sequence[npt.ArrayLike],
    biases: Sequence[npt.ArrayLike],
    x: npt.ArrayLike,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Run the network on a batch.

    Returns ``(zs, activations)``: ``zs[l]`` is the weighted input of layer l+1,
    shape ``(batch, M_(l+1))``, and ``activations[l]`` is ``a^(l)`` with
    ``activations[0] = x``, so ``len(activations) == len(zs) + 1``.
    """
    fn = "forward"
    hidden = _activation_name(activation, fn, "activation")
    output = _activation_name(output_activation, fn, "output_activation")
    Ws, bs, x = _check_network(fn, weights, biases, x)
    return _forward(Ws, bs, x, hidden, output)


def _per_sample_cost(z_out, a_out, y, loss):
    if loss == "quadratic":
        return 0.5 * np.sum((a_out - y) ** 2, axis=1)
    if loss == "cross_entropy":
        # -[y ln s(z) + (1 - y) ln(1 - s(z))] = softplus(z) - y z, stable for any z.
        return np.sum(np.logaddexp(0.0, z_out) - y * z_out, axis=1)
    # nll: -sum_k y_k ln softmax(z)_k = logsumexp(z) - sum_k y_k z_k (rows of y sum to 1).
    zmax = z_out.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(z_out - zmax).sum(axis=1))
    return lse - np.sum(y * z_out, axis=1)


def cost(
    weights, biases, x, y, activation: str = "sigmoid", output_activation: str = "sigmoid", loss: str = "quadratic"
) -> float:
    """Batch-mean cost C = (1/m) sum_x C_x, the quantity whose gradient backprop returns."""
    run = _checked_forward("cost", weights, biases, x, y, activation, output_activation, loss)
    return float(np.mean(_per_sample_cost(run.zs[-1], run.acts[-1], run.y, loss)))


def _output_delta(z, a, y, output, loss):
    """delta^L = dC_x/dz^L for each sample (row)."""
    if loss in ("cross_entropy", "nll"):
        # sigmoid + binary cross-entropy and softmax + NLL: the f'(z) factor
        # cancels against grad_a C, leaving a - y.
        return a - y
    grad_a = a - y  # quadratic: grad_a of 1/2 ||a - y||^2
    if output == "softmax":
        # Jacobian a_i (delta_ij - a_j) applied to grad_a: a * (g - <g, a>).
        return a * (grad_a - np.sum(grad_a * a, axis=1, keepdims=True))
    return grad_a * ACTIVATIONS[output][1](z)


def _backward(Ws, zs, acts, y, hidden, output, loss):
    """Per-layer error terms, output layer first computed, returned input-first."""
    L = len(Ws)
    ds = [None] * L
    ds[L - 1] = _output_delta(zs[-1], acts[-1], y, output, loss)
    d_hidden = ACTIVATIONS[hidden][1]
    for l in range(L - 2, -1, -1):
        # Product with W first (rows: delta^{l+1} W^{l+1}), then the elementwise f'.
        ds[l] = (ds[l + 1] @ Ws[l + 1]) * d_hidden(zs[l])
    return ds


class _ForwardRun(NamedTuple):
    """A checked forward pass: the weights, targets and activation names it used, and its z's and a's."""

    Ws: list[np.ndarray]
    y: np.ndarray
    hidden: str
    output: str
    zs: list[np.ndarray]
    acts: list[np.ndarray]


def _checked_forward(fn, weights, biases, x, y, activation, output_activation, loss) -> _ForwardRun:
    """Check the arguments of `fn` (cost, deltas, backprop) and run the forward pass."""
    hidden = _activation_name(activation, fn, "activation")
    output = _activation_name(output_activation, fn, "output_activation")
    _check_loss(fn, loss, output)
    Ws, bs, x = _check_network(fn, weights, biases, x)
    y = _check_targets(fn, y, x, Ws, loss)
    zs, acts = _forward(Ws, bs, x, hidden, output)
    return _ForwardRun(Ws, y, hidden, output, zs, acts)


def _prepare(fn, weights, biases, x, y, activation, output_activation, loss):
    run = _checked_forward(fn, weights, biases, x, y, activation, output_activation, loss)
    return run.acts, _backward(run.Ws, run.zs, run.acts, run.y, run.hidden, run.output, loss)


def deltas(
    weights, biases, x, y, activation: str = "sigmoid", output_activation: str = "sigmoid", loss: str = "quadratic"
) -> list[np.ndarray]:
    """Error terms ``delta^(l) = dC_x/dz^(l)``, one per layer, input side first.

    ``deltas(...)[l]`` has shape ``(batch, M_(l+1))``: one row per sample, not
    averaged, so ``np.linalg.norm(d, axis=1)`` gives per-sample norms (the
    vanishing-gradient picture).
    """
    _, ds = _prepare("deltas", weights, biases, x, y, activation, output_activation, loss)
    return ds


def backprop(
    weights, biases, x, y, activation: str = "sigmoid", output_activation: str = "sigmoid", loss: str = "quadratic"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Gradients of the batch-mean cost by the four backpropagation equations.

    Returns ``(dW_list, db_list)`` with the shapes of ``weights`` and
    ``biases`` (float64): ``dW^(l) = delta^(l)^T a^(l-1) / m`` and
    ``db^(l) = mean over the batch of delta^(l)``.
    """
    acts, ds = _prepare("backprop", weights, biases, x, y, activation, output_activation, loss)
    m = acts[0].shape[0]
    if m == 0:
        raise ValueError(f"backprop: x has shape {acts[0].shape}; the batch is empty")
    dWs = [d.T @ a / m for d, a in zip(ds, acts[:-1])]
    dbs = [d.mean(axis=0) for d in ds]
    return dWs, dbs


# ---------------------------------------------------------------------------
# 西瓜书 chapter 5: one hidden layer with thresholds, standard and accumulated BP.
#   alpha_h = sum_i v_ih x_i,  b_h = f(alpha_h - gamma_h)
#   beta_j  = sum_h w_hj b_h,  y_hat_j = f(beta_j - theta_j)
# with f the logistic sigmoid and E_k = 1/2 sum_j (y_hat_j - y_j)^2.
# ---------------------------------------------------------------------------

_WM_KEYS = ("v", "gamma", "w", "theta")


def init_watermelon_params(d: int, q: int, l: int, seed: int | None = None) -> dict[str, np.ndarray]:
    """Parameters ``{"v": (d, q), "gamma": (q,), "w": (q, l), "theta": (l,)}``, all uniform on (0, 1)."""
    for name, n in (("d", d), ("q", q), ("l", l)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"init_watermelon_params: {name} must be a positive int, got {n!r}")
    rng = np.random.default_rng(seed)
    return {
        "v": rng.uniform(0.0, 1.0, size=(d, q)),
        "gamma": rng.uniform(0.0, 1.0, size=q),
        "w": rng.uniform(0.0, 1.0, size=(q, l)),
        "theta": rng.uniform(0.0, 1.0, size=l),
    }


def _check_wm_params(fn, params):
    missing = [k for k in _WM_KEYS if k not in params]
    if missing:
        raise ValueError(f"{fn}: params is missing {missing}; expected keys {list(_WM_KEYS)}")
    p = {k: np.asarray(params[k], dtype=np.float64) for k in _WM_KEYS}
    v, gamma, w, theta = (p[k] for k in _WM_KEYS)
    if (
        v.ndim != 2
        or w.ndim != 2
        or gamma.shape != (v.shape[1],)
        or w.shape[0] != v.shape[1]
        or theta.shape != (w.shape[1],)
    ):
        raise ValueError(
            f"{fn}: inconsistent parameter shapes v {v.shape}, gamma {gamma.shape}, "
            f"w {w.shape}, theta {theta.shape}; expected (d, q), (q,), (q, l), (l,)"
        )
    return p


def _check_wm_data(fn, p, X, Y=None):
    d, l = p["v"].shape[0], p["w"].shape[1]
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]  # one sample given as a vector
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"{fn}: X has shape {X.shape}, expected (m, {d}) or ({d},) to match v {p['v'].shape}")
    if Y is None:
        return X, None
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim <= 1 and l == 1 and Y.size == X.shape[0]:
        Y = Y.reshape(-1, 1)  # a vector of targets for a single output
    elif Y.ndim == 1:
        Y = Y[None, :]
    if Y.shape != (X.shape[0], l):
        raise ValueError(
            f"{fn}: Y has shape {Y.shape}, expected ({X.shape[0]}, {l}) to match X {X.shape} and w {p['w'].shape}"
        )
    return X, Y


def _wm_forward(p, X):
    b = _sigmoid(X @ p["v"] - p["gamma"])  # hidden outputs b_h, (m, q)
    y_hat = _sigmoid(b @ p["w"] - p["theta"])  # outputs y_hat_j, (m, l)
    return b, y_hat


def watermelon_forward(params: WatermelonParams, X: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(b, y_hat)``: hidden outputs ``(m, q)`` and network outputs ``(m, l)``."""
    p = _check_wm_params("watermelon_forward", params)
    X, _ = _check_wm_data("watermelon_forward", p, X)
    return _wm_forward(p, X)


def watermelon_error(params: WatermelonParams, X: npt.ArrayLike, Y: npt.ArrayLike) -> float:
    """Accumulated error ``E = (1/m) sum_k E_k`` with ``E_k = 1/2 sum_j (y_hat_j - y_j)^2``."""
    p = _check_wm_params("watermelon_error", params)
    X, Y = _check_wm_data("watermelon_error", p, X, Y)
    _, y_hat = _wm_forward(p, X)
    return float(np.mean(0.5 * np.sum((y_hat - Y) ** 2, axis=1)))


def _wm_updates(p, X, Y, eta):
    """The book's update terms, averaged over the rows of X (one row: that sample's)."""
    m = X.shape[0]
    b, y_hat = _wm_forward(p, X)
    g = y_hat * (1.0 - y_hat) * (Y - y_hat)  # g_j = -dE_k/dbeta_j, (m, l)
    e = b * (1.0 - b) * (g @ p["w"].T)  # e_h = -dE_k/dalpha_h, (m, q)
    return {
        "v": eta * X.T @ e / m,  # dv_ih = eta e_h x_i
        "gamma": -eta * e.mean(axis=0),  # dgamma_h = -eta e_h
        "w": eta * b.T @ g / m,  # dw_hj = eta g_j b_h
        "theta": -eta * g.mean(axis=0),  # dtheta_j = -eta g_j
    }


def bp_updates(params: WatermelonParams, X: npt.ArrayLike, Y: npt.ArrayLike, eta: float = 0.1) -> dict[str, np.ndarray]:
    """The update terms ``{"v": dv, "gamma": dgamma, "w": dw, "theta": dtheta}``.

    For one sample these are the book's ``eta e_h x_i``, ``-eta e_h``,
    ``eta g_j b_h``, ``-eta g_j``; for several they are averaged, which is
    ``-eta`` times the gradient of ``E = (1/m) sum_k E_k``.
    """
    p = _check_wm_params("bp_updates", params)
    X, Y = _check_wm_data("bp_updates", p, X, Y)
    return _wm_updates(p, X, Y, eta)


def bp_standard_step(
    params: WatermelonParams, X: npt.ArrayLike, Y: npt.ArrayLike, eta: float = 0.1
) -> dict[str, np.ndarray]:
    """Standard BP: one update per sample, in the given order. Returns new params (inputs unchanged)."""
    p = _check_wm_params("bp_standard_step", params)
    samples, targets = _check_wm_data("bp_standard_step", p, X, Y)
    p = {k: a.copy() for k, a in p.items()}
    for k in range(samples.shape[0]):
        # Each sample sees the parameters already updated by the previous ones.
        upd = _wm_updates(p, samples[k : k + 1], targets[k : k + 1], eta)
        for key in _WM_KEYS:
            p[key] += upd[key]
    return p


def bp_accumulated_step(
    params: WatermelonParams, X: npt.ArrayLike, Y: npt.ArrayLike, eta: float = 0.1
) -> dict[str, np.ndarray]:
    """Accumulated BP: one update per pass, down the gradient of ``E = (1/m) sum_k E_k``."""
    p = _check_wm_params("bp_accumulated_step", params)
    X, Y = _check_wm_data("bp_accumulated_step", p, X, Y)
    upd = _wm_updates(p, X, Y, eta)
    return {k: p[k] + upd[k] for k in _WM_KEYS}


class WatermelonBP:
    """西瓜书's d-q-l sigmoid network with thresholds, trained by standard or accumulated BP.

    >>> net = WatermelonBP(d=2, q=4, l=1, seed=0)
    >>> history = net.fit(X, Y, eta=0.5, epochs=1000, mode="standard")  # doctest: +SKIP
    """

    def __init__(self, d: int, q: int, l: int, seed: int | None = None) -> None:
        p = init_watermelon_params(d, q, l, seed=seed)
        self.v, self.gamma, self.w, self.theta = (p[k] for k in _WM_KEYS)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {"v": self.v, "gamma": self.gamma, "w": self.w, "theta": self.theta}

    def _set(self, p):
        self.v, self.gamma, self.w, self.theta = (p[k] for k in _WM_KEYS)

    def forward(self, X: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(b, y_hat)``."""
        return watermelon_forward(self.params, X)

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Network outputs ``y_hat``, shape ``(m, l)``."""
        return self.forward(X)[1]

    def error(self, X: npt.ArrayLike, Y: npt.ArrayLike) -> float:
        return watermelon_error(self.params, X, Y)

    def standard_step(self, X: npt.ArrayLike, Y: npt.ArrayLike, eta: float = 0.1) -> None:
        self._set(bp_standard_step(self.params, X, Y, eta))

    def accumulated_step(self, X: npt.ArrayLike, Y: npt.ArrayLike, eta: float = 0.1) -> None:
        self._set(bp_accumulated_step(self.params, X, Y, eta))

    def fit(
        self, X: npt.ArrayLike, Y: npt.ArrayLike, eta: float = 0.1, epochs: int = 100, mode: str = "standard"
    ) -> list[float]:
        """Train for ``epochs`` passes; returns the list of E after each pass."""
        if mode not in ("standard", "accumulated"):
            raise ValueError(f"WatermelonBP.fit: mode must be 'standard' or 'accumulated', got {mode!r}")
        step = self.standard_step if mode == "standard" else self.accumulated_step
        history = []
        for _ in range(epochs):
            step(X, Y, eta)
            history.append(self.error(X, Y))
        return history
