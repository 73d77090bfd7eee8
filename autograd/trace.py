"""trace(): record a function's graph once, replay it as a flat schedule of NumPy calls.

chainrule builds its graph while the program runs (a dynamic graph): flexible,
but every op pays for a node object, grad-mode checks and the backward pass's
bookkeeping. A traced function is the static alternative the course notes
describe: its ops are recorded once and compiled into two flat lists of
closures, and each call runs the lists:

- forward: the hot ops' rules (`_FORWARD`) write into buffers preallocated at
  trace time (`out=`); views (reshape, transpose...) and the rarer ops run
  their own forward rule;
- backward: the hot ops' rules (`_BACKWARD`) write each input's gradient into
  a preallocated buffer, and compute none for an input that needs none; the
  other ops run their own `vjp` on raw arrays. The ops are visited in the
  order the engine's backward pass visits them, so gradients that several ops
  send to one input are added in the same order;
- the parameters' `.grad` are then filled as `backward()` fills them (see
  `trace` for which arrays they get).

Everything that does not change between calls is decided at trace time: the
schedule, the buffers, which inputs need a gradient, whether a gradient must
be summed over broadcast axes or cast, where gradients are added. To decide
it, tracing runs the ops' own backward rules once on the recorded values, as
the engine would (a dry run), and looks at the shapes, dtypes and memory
layouts they give. Every rule here calls the same ufuncs in the same order as
its op's rule, on arrays of the same layout: the replay is bit-identical to
eager execution. Tracing checks it: it replays once on the example inputs
and compares every value and every parameter's gradient, bit for bit, with
eager execution and the dry run; if a rule here no longer matches its op (the
op was changed, say), the trace uses the ops' own rules only
(`TracedFunction.fast_rules` is then False).

Like any tracer it sees one execution: Python control flow that depends on
data, and constants computed with NumPy from the inputs' values, are frozen
at trace time. Pass everything that changes between calls as an input.
"""

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import PER_THREAD, backward_pass
from .tensor import Tensor
from .trace_rules import (
    _BACKWARD,
    _FORWARD,
    _VIEW_INPUTS,
    _bwd_generic,
    _empty,
    _empty_like,
    _Entry,
    _fwd_generic,
    _Grad,
    _make_put,
    _Replay,
)

# Recycling .grad arrays. A parameter's .grad arrays come from a pool of at most two
# (_empty views of a uint8 array). One is free when nothing but the pool references it:
# no .grad, no variable, and no view of it (a view of it references its uint8 base,
# as NumPy makes every view reference the array that owns the memory).
_refcount = getattr(sys, "getrefcount", None)


def _references_in(pool):
    """What _take sees for an array that only the pool references: its limits."""
    for buf in pool:
        return _refcount(buf), _refcount(buf.base)


# without sys.getrefcount (not CPython) nothing is known to be free: every call allocates
_FREE = _references_in([_empty(1, np.uint8)]) if _refcount is not None else None


def _take(pool, shape, dtype):
    """A free array of the pool, else a new one (the oldest, held elsewhere, is left to its holder)."""
    if _FREE is not None:
        most, most_base = _FREE
        for buf in pool:  # as in _references_in: the same references
            if _refcount(buf) <= most and _refcount(buf.base) <= most_base:
                return buf
    buf = _empty(shape, dtype)
    pool.append(buf)
    if len(pool) > 2:
        del pool[0]
    return buf


class _Param:
    """A leaf that receives a gradient: its `.grad` arrays, and where its gradient is built."""

    __slots__ = ("slot", "node", "pool", "scratch", "shape", "dtype", "old")

    def __init__(self, slot, node):
        self.slot, self.node = slot, node
        self.shape, self.dtype = node._data.shape, node._data.dtype
        self.pool, self.scratch, self.old = [], None, None


def _same(a, b):
    """a and b hold the same bits (NaNs aside: any NaN equals any NaN); -0.0 is not 0.0."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind not in "fc":
        return np.array_equal(a, b)
    if not np.array_equal(a, b, equal_nan=True):
        return False
    return a.dtype.kind == "c" or np.array_equal(np.signbit(a), np.signbit(b))


def _signature(arrays, grads):
    return tuple((a.shape, a.dtype, g) for a, g in zip(arrays, grads))


def _wants_grad(x):
    return x.requires_grad if isinstance(x, Tensor) else False


def _live_params(params, slot_of_data):
    """(a function of the replay's values that gives an op's params, the slots it reads) when
    the params hold arrays that are values of the trace (integer labels or indices passed as
    inputs, a mask an op made from them): those are read on each call, never frozen.
    (None, ()) when the params are constant."""
    items = params if isinstance(params, tuple) else (params,)
    slots = [slot_of_data.get(id(p)) if isinstance(p, np.ndarray) else None for p in items]
    read = [s for s in slots if s is not None]
    if not read:
        return None, ()
    if isinstance(params, tuple):
        rebuild = getattr(params, "_make", tuple)  # an op's named params stay named
        return (lambda v: rebuild(p if s is None else v[s] for p, s in zip(params, slots))), read
    return (lambda v: v[read[0]]), read


def refuse_random(name: str) -> None:
    """Called by ops that draw random numbers: a replay would reuse one draw forever, so trace()
    refuses them (trace a function without them, e.g. the model in eval() mode)."""
    if PER_THREAD.mode.tracer is not None:
        raise ValueError(
            f"trace: {name} draws random numbers, which a replay would freeze at the "
            f"traced call's draw; trace the function without it (e.g. model.eval()) "
            f"or run it eagerly"
        )


class TracedFunction:
    """The callable `trace` returns; see `trace`."""

    def __init__(self, fn: Callable[..., Tensor], example_inputs: Sequence[Any], retrace: bool = True) -> None:
        self.fn = fn
        self.retrace = retrace
        self._record([_as_input(x) for x in example_inputs], [_wants_grad(x) for x in example_inputs])

    def _record(self, arrays, grads):
        recorder = _Recorder()
        # an input that requires grad gets its gradient, as in eager mode (see _run_backward)
        inputs = [Tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
        mode = PER_THREAD.mode
        mode.tracer, previous = recorder, mode.tracer
        try:
            out = self.fn(*inputs)
        finally:
            mode.tracer = previous
        if not isinstance(out, Tensor):
            raise TypeError(f"trace: the function must return a Tensor, got {type(out).__name__}")
        self.signature = _signature(arrays, grads)
        self._compile(inputs, recorder.steps, out, fast=True)
        if not self._reproduces(inputs, out):
            # a rule here no longer does what its op does: replay the ops' own rules
            self._compile(inputs, recorder.steps, out, fast=False)

    # Compiling ----------------------------------------------------------------
    def _compile(self, inputs, steps, out, fast):
        """Number every array the function touches and turn the steps into two flat lists of
        closures: with `fast`, the rules of _FORWARD and _BACKWARD where they apply, else
        only the ops' own forward and vjp."""
        slot_of = {}

        def slot(node):
            if node not in slot_of:
                slot_of[node] = len(slot_of)
            return slot_of[node]

        for x in inputs:
            slot(x)
        entries, used = [], set()
        slot_of_data = {id(x._data): i for i, x in enumerate(inputs)}
        for op, params, node, parents in steps:
            srcs = tuple(slot(p) for p in parents)
            live, read = _live_params(params, slot_of_data)
            entries.append(_Entry(op, params, slot(node), srcs, node, live))
            slot_of_data.setdefault(id(node._data), slot_of[node])
            used.update(srcs, read)
        if out not in slot_of:
            raise ValueError("trace: the function's result is not computed from its inputs by Tensor ops")
        for i, x in enumerate(inputs):
            if i not in used and out is not x:
                raise ValueError(
                    f"trace: input {i} (shape {x.shape}, {x.dtype}) reaches no op of the function: "
                    f"its values were read some other way (.data, NumPy) and a replay would keep "
                    f"the traced call's values. Use it through Tensor operations"
                )
        made = {e.out for e in entries}
        # leaves that are neither inputs nor op outputs: parameters and constants, read at call time
        self.leaves = [(s, n) for n, s in slot_of.items() if s >= len(inputs) and s not in made]
        self.n_inputs, self.n_slots = len(inputs), len(slot_of)
        self.out_slot = slot_of[out]
        self._leaf_specs = [(s, n, n._data.shape, n._data.dtype) for s, n in self.leaves]

        r = self._replay = _Replay(self.n_slots)
        v = r.vals
        for n, s in slot_of.items():
            v[s] = n._data  # the recorded values: buffers are made like them
        forward = []
        for e in entries:
            data = e.node._data
            make = _FORWARD.get(e.op) if fast and e.live is None else None
            if make is not None and type(data) is np.ndarray:
                buf = _empty_like(data)  # the layout eager's fresh result has
                run = make(r, e.params, buf, e.out, e.srcs)
                if run is not None:
                    forward.append(run)
                    v[e.out] = getattr(run, "result", buf)
                    continue
            forward.append(_fwd_generic(e.op, e.params, v, e.out, e.srcs, e.live))
        self._forward, self.fast_rules = forward, fast
        self._entries = entries  # until _reproduces has checked the replay
        self.has_backward = out.requires_grad and out._data.size == 1
        self._backward, self._params, self._totals = [], [], {}
        if self.has_backward:
            self._compile_backward(out, slot_of, {e.node: e for e in entries}, fast)
        self._no_inputs = (None,) * self.n_inputs
        v[: self.n_inputs] = self._no_inputs  # do not keep the example inputs alive

    def _reproduces(self, inputs, out):
        """Replay once on the example inputs: does every value and every parameter's gradient
        equal, bit for bit, what eager execution and the engine's backward pass gave?"""
        entries, totals = self._entries, self._totals
        self._entries = self._totals = None
        r = self._replay
        v, gr, acc = r.vals, r.grads, r.buffers
        try:
            self._run_forward([x._data for x in inputs])
            if not all(_same(v[e.out], e.node._data) for e in entries):
                return False
            if self.has_backward:
                for p in self._params:
                    gr[p.slot] = acc[p.slot] = p.scratch
                gr[self.out_slot] = self._seed
                for run in self._backward:
                    run()
                if not all(_same(gr[p.slot], totals[p.node]) for p in self._params):
                    return False
            return True
        finally:
            for p in self._params:
                gr[p.slot] = acc[p.slot] = None
            v[: self.n_inputs] = self._no_inputs

    def _compile_backward(self, out, slot_of, entry_of, fast):
        """Plan the backward pass with a dry run of the engine's algorithm on the recorded graph."""
        r = self._replay
        v, acc = r.vals, r.buffers
        visits, totals = _dry_run(out, entry_of)
        counts = {}  # slot: how many gradients it receives
        for _, cs in visits:
            for c in cs:
                if c is not None:
                    counts[c.slot] = counts.get(c.slot, 0) + 1
        params = [_Param(slot_of[n], n) for n in totals if n not in entry_of]
        param_slots = {p.slot for p in params}
        for n, total in totals.items():
            s = slot_of[n]
            # a slot that adds gradients adds them into its own buffer (a parameter's: set per call)
            if s not in param_slots and counts.get(s, 0) > 1 and total.flags.c_contiguous:
                acc[s] = _empty(total.shape, total.dtype)

        def given(c):
            """Plan gradient c as an array the rule hands over (the op's vjp, or a view of g)."""
            shape, dtype = v[c.slot].shape, v[c.slot].dtype
            fits = c.ref.shape == shape and c.ref.dtype == dtype
            c.dest, c.put = None, (None if fits and c.first else _make_put(r, c, shape, dtype))

        def computed(c):
            """Plan gradient c as written by the rule into a buffer: the slot's own when it is
            the slot's first gradient, needs no fitting and the slot has (or may get) a buffer;
            else a temporary, then fitted and stored or added by `put`."""
            s = c.slot
            shape, dtype = v[s].shape, v[s].dtype
            fits = c.ref.shape == shape and c.ref.dtype == dtype
            if fits and c.first and (s in param_slots or acc[s] is not None or counts[s] == 1):
                if s not in param_slots:
                    if acc[s] is None:
                        acc[s] = _empty(shape, dtype)
                    r.grads[s] = acc[s]  # for good (a parameter's: on every call)
                c.dest, c.put = s, None
            else:
                c.dest = len(acc)
                acc.append(_empty(c.ref.shape, c.ref.dtype))
                c.put = _make_put(r, c, shape, dtype)

        backward = []
        for e, cs in visits:
            make, views = _BACKWARD.get(e.op) if fast and e.live is None else None, _VIEW_INPUTS.get(e.op, ())
            run = None
            # the buffers are C-ordered: a rule may write into one only where the vjp's fresh array is
            if make is not None and all(c is None or i in views or c.ref.flags.c_contiguous for i, c in enumerate(cs)):
                for i, c in enumerate(cs):
                    if c is not None:
                        (given if i in views else computed)(c)
                run = make(r, e, cs)
            if run is None:
                for c in cs:
                    if c is not None:
                        given(c)
                run = _bwd_generic(r, e, cs)
            backward.append(run)
        for _, cs in visits:
            for c in cs:
                if c is not None:
                    c.ref = None  # the dry run's arrays are not needed any more
        for p in params:
            p.scratch = _empty(p.shape, p.dtype)
        self._backward, self._params = backward, params
        self._input_params = [p for p in params if p.slot < self.n_inputs]
        self._totals = totals  # for _reproduces
        self._seed = np.ones_like(out._data)

    # Calling ------------------------------------------------------------------
    def _load_leaves(self):
        """Read the leaves' current data; False if one changed shape or dtype since tracing."""
        v = self._replay.vals
        for s, node, shape, dtype in self._leaf_specs:
            data = node._data
            if data is not v[s]:
                if data.shape != shape or data.dtype != dtype:
                    return False
                v[s] = data
        return True

    def _run_forward(self, arrays):
        """Replay the forward pass on `arrays`; returns the list of values (index it by `out_slot`)."""
        v = self._replay.vals
        v[: self.n_inputs] = arrays
        if not self._load_leaves():
            raise ValueError("trace: a tensor the function reads changed shape or dtype; trace again")
        for run in self._forward:
            run()
        return v

    def __call__(self, *inputs: Any, backward: bool = True) -> Tensor:
        r = self._replay
        v = r.vals
        signature = self.signature
        if len(inputs) == len(signature):
            i = 0
            for x, (shape, dtype, wants_grad) in zip(inputs, signature):
                a = x._data if isinstance(x, Tensor) else x
                if (
                    type(a) is not np.ndarray
                    or a.shape != shape
                    or a.dtype != dtype
                    or (a is not x and x.requires_grad) is not wants_grad
                ):
                    return self._call_slowly(inputs, backward)
                v[i] = a
                i += 1
        else:
            return self._call_slowly(inputs, backward)
        if not self._load_leaves():
            return self._call_slowly(inputs, backward, leaves_changed=True)
        for run in self._forward:
            run()
        result = Tensor._wrap(v[self.out_slot].copy())
        if backward and self.has_backward:
            for p in self._input_params:  # the caller's tensors get the inputs' gradients
                p.node = inputs[p.slot]
            try:
                self._run_backward()
            finally:
                for p in self._input_params:
                    p.node = None
        v[: self.n_inputs] = self._no_inputs  # do not keep the caller's arrays alive
        return result

    def _call_slowly(self, inputs, backward, leaves_changed=False):
        arrays = [_as_input(x) for x in inputs]
        grads = [_wants_grad(x) for x in inputs]
        sig = _signature(arrays, grads)
        if sig != self.signature or leaves_changed:
            if not self.retrace:
                if leaves_changed:
                    raise ValueError(
                        "trace: a tensor the function reads changed shape or dtype since "
                        "tracing; trace again or pass retrace=True"
                    )
                raise ValueError(
                    f"trace: inputs changed from {_describe(self.signature)} to "
                    f"{_describe(sig)}; trace again or pass retrace=True"
                )
            self._record(arrays, grads)
        # Tensors stay Tensors: those that require grad receive their gradients
        return self(*[x if isinstance(x, Tensor) else a for x, a in zip(inputs, arrays)], backward=backward)

    def _run_backward(self):
        r = self._replay
        gr, acc = r.grads, r.buffers
        params = self._params
        for p in params:
            # where the parameter's gradient is built: a free .grad array if .grad is None
            old = p.old = p.node._grad
            gr[p.slot] = acc[p.slot] = _take(p.pool, p.shape, p.dtype) if old is None else p.scratch
        gr[self.out_slot] = self._seed  # after: the result may be a parameter itself
        for run in self._backward:
            run()
        for p in params:
            s, old = p.slot, p.old
            g, buf = gr[s], acc[s]
            if old is None:
                if g is not buf:
                    np.copyto(buf, g)
                p.node._grad = buf
            else:
                p.old = None
                if type(old) is np.ndarray and old.shape == p.shape and old.dtype == p.dtype:
                    p.node._grad = np.add(old, g, out=_take(p.pool, p.shape, p.dtype))
                else:
                    p.node._grad = old + (g.copy() if g is buf else g)
            gr[s] = acc[s] = g = buf = old = None


class _Recorder:
    """Collects (op, params, out, parents) for every op applied while tracing."""

    def __init__(self):
        self.steps = []

    def record(self, op, params, out, parents):
        self.steps.append((op, params, out, parents))


def _dry_run(root, entry_of):
    """Run the engine's backward pass on the recorded graph and watch it, to plan the replay.

    Returns the entries in the order the engine visits them, each with one _Grad
    (or None) per input, and {node: its total gradient} for every node reached.
    """
    visits, totals, reached = [], {}, set()

    def visit(node, g, pgs):
        totals[node] = g
        if node._op is None:
            return
        e = entry_of.get(node)
        if e is None:
            raise ValueError(
                f"trace: the function uses a tensor that needs a gradient and was made by "
                f"'{node._op.name}' outside the function; the replay cannot send gradients "
                f"through it. Compute it inside the function (or detach it)"
            )
        cs = [None] * len(pgs)
        for i, (p, pg) in enumerate(zip(node._parents, pgs)):
            if pg is not None and p.requires_grad:
                cs[i] = _Grad(e.srcs[i], p not in reached, pg)
                reached.add(p)
        visits.append((e, cs))

    backward_pass(root, np.ones_like(root._data), retain_graph=True, wrt=(), visit=visit)
    return visits, totals


def _as_input(x):
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"trace: inputs must be numeric arrays, got dtype {arr.dtype}")
    return arr


def _describe(signature):
    return ", ".join(f"{shape} {dtype}" + (" requires_grad" if g else "") for shape, dtype, g in signature)


def trace(fn: Callable[..., Tensor], *example_inputs: Any, retrace: bool = True) -> TracedFunction:
    """Record `fn(*example_inputs)` once; return a callable that replays it.

    `fn` takes Tensors and returns a Tensor computed from them (and from
    parameters it refers to, whose current data is read on every call). The
    callable takes arrays or Tensors of the same shapes and dtypes, returns
    the result as a new Tensor and, when the result is a scalar that needs a
    gradient, runs the backward pass too (pass `backward=False` to skip it).
    Inputs of another shape or dtype trigger a new trace (or a ValueError with
    `retrace=False`). Results are bit-identical to running `fn` eagerly.

    Gradients accumulate as with `result.backward()`: a parameter whose `.grad`
    is None gets the gradient, otherwise `.grad + gradient`, a new array (the
    old one is left as it was). The arrays handed to `.grad` are recycled: once
    nothing references one any more (you set `.grad = None` or called
    `zero_grad()`, as optimisers' training loops do, and kept no other reference
    and no view of it), a later call may write the next gradient into it
    instead of allocating a new one. An array you still hold, or a view of it,
    is never written: saving `p.grad` between calls is safe. (The arrays are
    views of trace-owned memory aligned for BLAS, so `p.grad.base` is not None.)

    Integer inputs (class labels, index arrays) are read on every call: ops that take
    them as an input or in their params (a one-hot of labels, an index, a mask made from
    them) replay with each call's values. An input whose values `fn` reads some other
    way (`.data`, NumPy), so that no op uses it, is refused with a ValueError: a replay
    would keep the traced call's values. Ops that draw random numbers (`nn.Dropout` in
    training mode) make `trace` raise a ValueError naming them. An input Tensor with
    `requires_grad=True` gets its gradient in `.grad`, accumulated as `backward()` does.

    A parameter used outside `fn` through an op that needs its gradient
    (`w2 = w * 2` computed before tracing, then used in `fn`) cannot be traced
    through: compute it inside `fn`. A traced function keeps buffers between
    calls, so it is not reentrant: do not call one from two threads at once.
    """
    return TracedFunction(fn, example_inputs, retrace=retrace)
