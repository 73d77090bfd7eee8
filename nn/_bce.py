"""Binary cross-entropy of probabilities as an engine primitive, with PyTorch's numerics.

Composed from log and clip, a prediction p = 1e-9 for a target 1 would be clipped away
from 0 and get a zero gradient exactly where the loss should learn fastest. As in
PyTorch, each log term is instead clamped at -100 (so p = 0 or 1 gives a finite loss)
while the gradient keeps its closed form (p - y) / max(p (1 - p), 1e-12), finite and
large for a confident wrong prediction. That pair is not the derivative of any
composition of the engine's ops, so it is an `Op` of its own, its rules written with
`ns.*` so they also serve create_graph=True and forward mode.
"""

import numpy as np

from autograd.engine import BinaryOp

LOG_FLOOR = -100.0  # each log term is at least this (PyTorch's clamp)
SLOPE_FLOOR = 1e-12  # p (1 - p) in the gradient's denominator is at least this


def _clamped_logs(ns, p):
    """(max(log p, -100), max(log(1 - p), -100)); p = 0 or 1 gives -100, not -inf."""
    return ns.clip(ns.log(p), LOG_FLOOR, None), ns.clip(ns.log(1 - p), LOG_FLOOR, None)


def _forward(ns, params, p, y):
    outside = ~((p >= 0) & (p <= 1))
    if outside.any():
        raise ValueError(
            f"binary_cross_entropy: probabilities must lie in [0, 1], got {p[outside].flat[0]} (input shape {p.shape})"
        )
    with np.errstate(divide="ignore"):  # log 0 = -inf, then clamped
        log_p, log_q = _clamped_logs(ns, p)
    return -(y * log_p + (1 - y) * log_q)


def _dp(ns, p, y):
    """d loss / d p = (p - y) / max(p (1 - p), 1e-12)."""
    return (p - y) / ns.clip(p * (1 - p), SLOPE_FLOOR, None)


def _dy(ns, p):
    """d loss / d y = max(log(1 - p), -100) - max(log p, -100)."""
    with np.errstate(divide="ignore"):
        log_p, log_q = _clamped_logs(ns, p)
    return log_q - log_p


class BinaryCrossEntropy(BinaryOp):
    """-(y max(log p, -100) + (1 - y) max(log(1 - p), -100)) elementwise, p in [0, 1]."""

    name = "binary_cross_entropy"
    forward = staticmethod(_forward)
    vjp_a = staticmethod(lambda ns, params, g, out, p, y: g * _dp(ns, p, y))
    vjp_b = staticmethod(lambda ns, params, g, out, p, y: g * _dy(ns, p))
    jvp = staticmethod(lambda ns, params, ts, out, p, y: ts[0] * _dp(ns, p, y) + ts[1] * _dy(ns, p))
