"""Shared test helpers: an independent central-difference oracle and hypothesis settings."""

import os

import numpy as np
from hypothesis import settings

settings.register_profile("chainrule", max_examples=30, deadline=None)
# CI runs the same examples every time, so a landing never hinges on a lucky draw;
# local runs keep exploring new ones.
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "chainrule")


def central_difference(fn, arrays, eps=1e-6):
    """d fn(*arrays) / d arrays[i] for each i, by central differences in float64.

    `fn` maps float64 ndarrays to a float; written here (not taken from the
    engine) so that it checks the engine instead of agreeing with it.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + eps
            up = fn(*arrays)
            a[i] = keep - eps
            down = fn(*arrays)
            a[i] = keep
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads
