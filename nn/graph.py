"""Graph convolution (Kipf and Welling's GCN layer) on a dense adjacency matrix."""

import math

import numpy as np

from autograd import Tensor, linear
from autograd.hints import ArrayLike

from .init import DType, Seed, as_generator
from .layers import as_input
from .module import Module, Parameter

__all__ = ["GCNConv", "normalized_adjacency"]


def normalized_adjacency(adjacency: ArrayLike, dtype: DType = np.float64) -> np.ndarray:
    """D^-1/2 (A + I) D^-1/2 for a dense 0/1 adjacency A (n, n); D is the degree matrix of A + I.

    A node's existing self-loop counts once (A + I is taken with its diagonal set to 1, as
    PyTorch Geometric's GCNConv adds only the missing self-loops). For a directed A, row i
    lists i's neighbours and the degree is the row sum.
    """
    a = np.array(adjacency.data if isinstance(adjacency, Tensor) else adjacency, dtype=dtype)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"GCNConv: adjacency must be square (n_nodes, n_nodes), got shape {a.shape}")
    if not np.all((a == 0) | (a == 1)):
        raise ValueError("GCNConv: adjacency must hold only 0 and 1")
    np.fill_diagonal(a, 1)
    scale = 1.0 / np.sqrt(a.sum(axis=1))
    return scale[:, None] * a * scale[None, :]


class GCNConv(Module):
    """One graph-convolution layer: D^-1/2 (A + I) D^-1/2 x W^T + b.

    Each node's new features are the degree-normalised sum of its own and its neighbours'
    transformed features. `weight` (out_features, in_features) starts Glorot-uniform and
    `bias` (out_features,) at zero, as in PyTorch Geometric. `forward(x, adjacency)` takes node
    features x (n_nodes, in_features) and a dense 0/1 adjacency (n_nodes, n_nodes), which is
    data: no gradient flows to it.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, rng: Seed = None, dtype: DType = np.float64
    ) -> None:
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"GCNConv: {name} must be a positive int, got {n!r}")
        rng = as_generator(rng)
        self.in_features, self.out_features = int(in_features), int(out_features)
        bound = math.sqrt(6.0 / (in_features + out_features))
        self.weight = Parameter(rng.uniform(-bound, bound, size=(out_features, in_features)), dtype=dtype)
        self.bias = Parameter(np.zeros(out_features), dtype=dtype) if bias else None

    def forward(self, x: ArrayLike, adjacency: ArrayLike) -> Tensor:
        x = as_input(x, self.weight.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"GCNConv: x must have shape (n_nodes, {self.in_features}), got {x.shape}")
        propagate = normalized_adjacency(adjacency, self.weight.dtype)
        if propagate.shape[0] != x.shape[0]:
            raise ValueError(f"GCNConv: adjacency {propagate.shape} does not match x {x.shape} (one row per node)")
        out = Tensor(propagate) @ linear(x, self.weight)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
