"""Target 2: per-op overhead on a chain of (multiply, add, tanh) ops on a (10,) tensor."""
import numpy as np

from autograd import Tensor

N_OPS = 999          # 333 rounds of (multiply, add, tanh)


def make_inputs(seed=0, size=10):
    rng = np.random.default_rng(seed)
    return rng.normal(size=size), rng.uniform(0.5, 1.5, size), rng.normal(0, 0.1, size)


def tensor_chain(x0, w, c):
    x = Tensor(x0, requires_grad=True)
    y = x
    for _ in range(N_OPS // 3):
        y = (y * w + c).tanh()
    y.sum().backward()
    return x.grad


def numpy_chain(x0, w, c):
    """The same chain by hand: forward keeps the tanh outputs, backward applies each local rule."""
    y, outs = x0, []
    for _ in range(N_OPS // 3):
        y = np.tanh(y * w + c)
        outs.append(y)
    g = np.ones_like(y)
    for t in reversed(outs):
        g = g * (1 - t * t)    # tanh
        g = g * w              # the add passes g on; the multiply scales it
    return g


def figures(repeats=7):
    from benchmarks.harness import interleaved_medians
    x0, w, c = make_inputs()
    wt, ct = Tensor(w), Tensor(c)
    np.testing.assert_allclose(tensor_chain(x0, wt, ct), numpy_chain(x0, w, c), rtol=1e-12)
    return interleaved_medians({"numpy": lambda: numpy_chain(x0, w, c),
                                "tensor": lambda: tensor_chain(x0, wt, ct)}, repeats=repeats)
