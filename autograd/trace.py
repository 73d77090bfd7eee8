"""trace(): record a function's graph once, replay it as a flat schedule of NumPy calls.

chainrule builds its graph while the program runs (a dynamic graph): flexible,
but every op pays for a node object, grad-mode checks and the backward pass's
bookkeeping. A traced function is the static alternative the course notes
describe: its ops are recorded once into a list, and each call replays the
list with plain NumPy: the forward rules write into buffers preallocated at
trace time (`out=`), the backward rules run in the recorded order on raw
arrays, and the parameters' `.grad` are filled as `backward()` would fill them.

Like any tracer it sees one execution: Python control flow that depends on
data, and constants computed with NumPy from the inputs' values, are frozen
at trace time. Pass everything that changes between calls as an input.
"""
import numpy as np

from . import ops
from . import tensor_ops as T
from .engine import PER_THREAD, no_grad
from .tensor import Tensor
from .tensor_ops import NumpyNS

# Forward rules that can write into a preallocated buffer. Other ops (views such
# as reshape or transpose, and the rarer ops) run their ordinary forward rule.
_INTO = {
    ops.Add: lambda p, out, a, b: np.add(a, b, out=out),
    ops.Sub: lambda p, out, a, b: np.subtract(a, b, out=out),
    ops.Mul: lambda p, out, a, b: np.multiply(a, b, out=out),
    ops.Div: lambda p, out, a, b: np.divide(a, b, out=out),
    ops.Neg: lambda p, out, x: np.negative(x, out=out),
    ops.Exp: lambda p, out, x: np.exp(x, out=out),
    ops.Log: lambda p, out, x: np.log(x, out=out),
    ops.Tanh: lambda p, out, x: np.tanh(x, out=out),
    ops.Relu: lambda p, out, x: np.maximum(x, 0, out=out),
    T.MatMul: lambda p, out, a, b: np.matmul(a, b, out=out),
    T.Sum: lambda p, out, x: np.add.reduce(x, axis=p[0], keepdims=p[1], out=out),
    T.Linear: lambda p, out, x, w, *b: np.add(np.matmul(x, w.T, out=out), b[0], out=out) if b
    else np.matmul(x, w.T, out=out),
}


class _Recorder:
    """Collects (op, params, out, parents) for every op applied while tracing."""

    def __init__(self):
        self.steps = []

    def record(self, op, params, out, parents):
        self.steps.append((op, params, out, parents))


def _signature(arrays):
    return tuple((a.shape, a.dtype) for a in arrays)


class TracedFunction:
    """The callable `trace` returns; see `trace`."""

    def __init__(self, fn, example_inputs, retrace=True):
        self.fn = fn
        self.retrace = retrace
        self._record([_as_input(x) for x in example_inputs])

    def _record(self, arrays):
        recorder = _Recorder()
        inputs = [Tensor(a) for a in arrays]
        mode = PER_THREAD.mode
        mode.tracer, previous = recorder, mode.tracer
        try:
            out = self.fn(*inputs)
        finally:
            mode.tracer = previous
        if not isinstance(out, Tensor):
            raise TypeError(f"trace: the function must return a Tensor, got {type(out).__name__}")
        self.signature = _signature(arrays)
        self._compile(inputs, recorder.steps, out)

    def _compile(self, inputs, steps, out):
        """Number every array the function touches and turn the steps into a flat schedule."""
        slot_of = {}

        def slot(node):
            if node not in slot_of:
                slot_of[node] = len(slot_of)
            return slot_of[node]

        for x in inputs:
            slot(x)
        forward = []
        for op, params, node, parents in steps:
            srcs = tuple(slot(p) for p in parents)
            into = _INTO.get(op)
            buffer = np.empty_like(node._data) if into is not None and node._data.ndim else None
            forward.append((op, params, slot(node), srcs, into if buffer is not None else None, buffer))
        if out not in slot_of:
            raise ValueError("trace: the function's result is not computed from its inputs by Tensor ops")
        # leaves that are neither inputs nor op outputs: parameters and constants, read at call time
        made = {s[2] for s in forward}
        self.leaves = [(s, n) for n, s in slot_of.items() if s >= len(inputs) and s not in made]
        self.n_inputs, self.n_slots = len(inputs), len(slot_of)
        self.forward = forward
        self.out_slot = slot_of[out]
        self.needs_grad = [False] * self.n_slots
        for n, s in slot_of.items():
            self.needs_grad[s] = n.requires_grad
        self.backward = [(op, params, o, srcs) for op, params, o, srcs, _, _ in reversed(forward)
                         if self.needs_grad[o]]
        self.shapes = [None] * self.n_slots
        for n, s in slot_of.items():
            self.shapes[s] = (n._data.shape, n._data.dtype)
        self.has_backward = out.requires_grad and out._data.size == 1

    def __call__(self, *inputs, backward=True):
        arrays = [_as_input(x) for x in inputs]
        if _signature(arrays) != self.signature:
            if not self.retrace:
                raise ValueError(
                    f"trace: inputs changed from {_describe(self.signature)} to "
                    f"{_describe(_signature(arrays))}; trace again or pass retrace=True")
            self._record(arrays)
        vals = self._run_forward(arrays)
        result = Tensor(vals[self.out_slot].copy())
        if backward and self.has_backward:
            self._run_backward(vals)
        return result

    def _run_forward(self, arrays):
        vals = [None] * self.n_slots
        vals[:self.n_inputs] = arrays
        for s, leaf in self.leaves:
            vals[s] = leaf._data
        for op, params, o, srcs, into, buffer in self.forward:
            args = (vals[srcs[0]],) if len(srcs) == 1 else [vals[s] for s in srcs]
            if into is not None:
                vals[o] = into(params, buffer, *args)
            else:
                out = op.forward(NumpyNS, params, *args)
                vals[o] = out if type(out) is np.ndarray else np.asarray(out)
        return vals

    def _run_backward(self, vals):
        grads = [None] * self.n_slots
        grads[self.out_slot] = np.ones_like(vals[self.out_slot])
        needs, shapes = self.needs_grad, self.shapes
        with no_grad():
            for op, params, o, srcs in self.backward:
                g = grads[o]
                if g is None:
                    continue
                pgs = op.vjp(NumpyNS, params, g, vals[o], *[vals[s] for s in srcs])
                for s, pg in zip(srcs, pgs):
                    if pg is None or not needs[s]:
                        continue
                    shape, dtype = shapes[s]
                    if pg.shape != shape:
                        pg = T.sum_to(pg, shape)
                    if pg.dtype != dtype:
                        pg = pg.astype(dtype)
                    grads[s] = pg if grads[s] is None else grads[s] + pg
        deposited = set()
        for s, leaf in self.leaves:
            if needs[s] and grads[s] is not None:
                Tensor.deposit(leaf, grads[s], deposited, None)


def _as_input(x):
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"trace: inputs must be numeric arrays, got dtype {arr.dtype}")
    return arr


def _describe(signature):
    return ", ".join(f"{shape} {dtype}" for shape, dtype in signature)


def trace(fn, *example_inputs, retrace=True):
    """Record `fn(*example_inputs)` once; return a callable that replays it.

    `fn` takes Tensors and returns a Tensor computed from them (and from
    parameters it refers to, whose current data is read on every call). The
    callable takes arrays or Tensors of the same shapes and dtypes, returns
    the result as a new Tensor and, when the result is a scalar that needs a
    gradient, runs the backward pass too: parameters' `.grad` accumulate as
    with `result.backward()` (pass `backward=False` to skip it). Inputs of
    another shape or dtype trigger a new trace (or a ValueError with
    `retrace=False`). Results are bit-identical to running `fn` eagerly.
    """
    return TracedFunction(fn, example_inputs, retrace=retrace)
