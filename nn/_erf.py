"""The error function as an engine primitive (exact GELU needs it; NumPy has no erf).

It cannot be composed from the engine's ops, so it is an `Op` like those of
autograd/ops.py: erf'(x) = 2/sqrt(pi) exp(-x^2), written with `ns.*` so the
rule also serves create_graph=True (higher-order gradients) and forward mode.
"""

import math

import numpy as np

from autograd.engine import Op, apply

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
# math.erf is correct to the last bit; frompyfunc applies it elementwise at the cost of
# one Python call per element (np.vectorize adds its own overhead on top), and no scipy.
_erf_objects = np.frompyfunc(math.erf, 1, 1)


def _erf_raw(x):
    if isinstance(x, float):  # a Value's data
        return math.erf(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return np.asarray(_erf_objects(x), dtype=dtype)


class Erf(Op):
    name = "erf"
    forward = staticmethod(lambda ns, p, x: _erf_raw(x))
    vjp = staticmethod(lambda ns, p, g, out, x: (g * _TWO_OVER_SQRT_PI * ns.exp(-(x * x)),))
    jvp = staticmethod(lambda ns, p, ts, out, x: ts[0] * _TWO_OVER_SQRT_PI * ns.exp(-(x * x)))


def erf(x):
    """erf(x) of a `Tensor` or `Value`, differentiable."""
    return apply(Erf, None, x)
