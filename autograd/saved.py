"""What a pending graph saved, for `Tensor`: kept unchanged until its backward, released after.

A backward rule reads the arrays its op saw in the forward pass (the inputs'
`_data`, and its own output's). Two things can go wrong between the passes,
and this module prevents both:

- **A write into a saved array** would give a wrong gradient without an error.
  The arrays of leaves a pending graph saved (a parameter's array, or the
  caller's own array that `Tensor(arr)` shares) are made read-only when the op
  runs, so a write through an old reference is refused by NumPy; the flag is
  restored when the last pending node that saved them is consumed by
  `backward()` or garbage-collected. An array handed out by `Tensor.data`
  while a pending graph holds it is made writable again (an optimiser's
  `p.data -= step` must work) and a copy is kept: `backward()` compares the two
  and raises `RuntimeError` naming the tensor if they differ, so reading
  `.data` costs a copy and writing costs an error, never a wrong gradient.
  The copy stands for the nodes made before it; nodes made later save the
  array as it is then and lock it again (a new generation of its `_Hold`).
- **Memory.** After `backward()` (without `retain_graph`) a node that only the
  graph references gives its array back (`release_data`): as PyTorch frees
  saved tensors, the next forward pass does not run beside the last one's
  activations. Tensors the caller references keep their data.
"""

import contextlib
import math
import weakref

import numpy as np

from . import engine


class ForwardScratch:
    """The mutable part of an op's params that its forward fills for its backward (conv2d's
    input columns, Scan's steps): a subclass lists its fields in __slots__; each starts None.
    The repr stays short, since params appear in error messages and pictures."""

    __slots__: tuple[str, ...] = ()

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# Arrays smaller than this stay after backward: they cost little memory, and releasing costs time.
RELEASE_MIN_SIZE = 4096


class ReleasedData:
    """Stands in for an array that backward() released: its shape and dtype, no values."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape, self.dtype = shape, dtype

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def __repr__(self) -> str:
        return f"<released by backward(): shape {self.shape}, {self.dtype}>"


def release_data(node):
    data = node._data
    if type(data) is np.ndarray:
        node._data = ReleasedData(data.shape, data.dtype)


def released_error(where, node):
    name = repr(node.label) if node.label else f"of shape {node._data.shape}"
    return RuntimeError(
        f"{where}: the data of the tensor {name} (made by '{node._op.name}') was released by "
        f"backward(), as only the graph referenced it; keep a reference to the tensor, or pass "
        f"retain_graph=True to backward(), to read it afterwards"
    )


# id(array) -> weakref to the _Hold that keeps the array locked (one per array, however many
# leaves share it: Tensor(arr) twice gives two leaves and one array)
HOLDS: dict[int, weakref.ref] = {}


class _Hold:
    """One array's lock while pending nodes saved it.

    Every such node holds the array's one _Hold (its `_held`), and `HOLDS` holds
    it only weakly: when the last of them is consumed by backward() (which drops
    `_held`) or collected, reference counting deletes the _Hold and __del__
    unlocks the array. A node pays one attribute store, not a callback of its own.

    Once the array is handed out (`copied`: the leaves whose copies stand for the data these
    nodes saw), nodes made afterwards start a new _Hold, which locks the array again and
    points back to this one (`previous`): each generation of nodes is checked against the
    data it saw, so a graph kept pending across an optimiser's step does not make the
    next steps' backward() refuse.
    """

    __slots__ = ("array", "locked", "copied", "previous", "ref", "__weakref__")

    def __init__(self, array, previous=None):
        self.array, self.copied, self.previous = array, None, previous
        # hold() makes a first generation only for a writable array (a read-only one needs no
        # _Hold); a later one, after a hand-out, finds it writable unless the caller locked it since
        self.locked = previous is None or array.flags.writeable
        if self.locked:
            array.setflags(False)  # write=False; positional: cheaper than flags.writeable, per op
        HOLDS[id(array)] = self.ref = weakref.ref(self)

    def unlock(self):
        if self.locked:
            self.locked = False
            try:
                self.array.setflags(True)  # write=True
            except ValueError:  # a view of an array someone else keeps read-only: it stays so
                pass

    def __del__(self):
        key = id(self.array)
        if HOLDS.get(key) is self.ref:  # the newest generation: an older one (handed out) takes over
            previous = self.previous
            if previous is None or (previous := previous()) is None:
                del HOLDS[key]
            else:
                HOLDS[key] = previous.ref
            self.unlock()
        if self.copied is not None:
            for leaf, handed_at in self.copied:
                forget_copy(leaf, handed_at)


@contextlib.contextmanager
def lifted(array):
    """Lift the lock for a write the engine tracks itself: a Tensor's in-place operator moves the
    version and notes the written memory, so every pending node that saved the array (or a view
    of it) refuses backward(), as in PyTorch. `array` may be a view of a locked array."""
    chain = [array]
    while isinstance(chain[-1].base, np.ndarray):
        chain.append(chain[-1].base)
    held = [a for a in chain if (h := _current_hold(a)) is not None and h.locked]
    if not held:
        yield
        return
    opened = []
    for a in reversed(chain):  # a view can be made writable only under a writable base
        if not a.flags.writeable and (a is array or any(a is h for h in held) or opened):
            try:
                a.flags.writeable = True
                opened.append(a)
            except ValueError:  # an array someone else keeps read-only
                break
    try:
        yield
    finally:
        for a in reversed(opened):
            a.flags.writeable = False


def _current_hold(array):
    ref = HOLDS.get(id(array))
    return None if ref is None else ref()


def hold(leaf):
    """The _Hold of the leaf's array (made, and the array locked, if no pending node saved it,
    or if the current one was handed out: a new generation); None for an array that was
    read-only before any pending node saved it (the engine's own constants, as cross_entropy's
    one-hot rows, and arrays the caller locked): NumPy already refuses writes into it."""
    data = leaf._data
    ref = HOLDS.get(id(data))  # _current_hold, inlined: this runs per op
    if ref is not None:
        current = ref()
        if current is not None:
            return current if current.copied is None else _Hold(data, current.ref)
    return _Hold(data) if data.flags.writeable else None


def pending(node):
    """True while a graph that has not run backward() saved this tensor's array."""
    if node._op is not None:
        return node._stamp is not None
    return _current_hold(node._data) is not None


def hand_out(node):
    """`node.data` is being handed out while a pending graph saved it: writable, with a copy to
    compare. A copy stands for the nodes made before it (DATA_WRITES moves on, so their stamps
    are smaller); a leaf gets one per generation of its _Hold."""
    if node._op is None:
        current = _current_hold(node._data)
        if current.copied is not None and any(leaf is node for leaf, _ in current.copied):
            return  # this generation's copy is already kept
        engine.DATA_WRITES[0] += 1  # nodes made from now on get stamps of at least handed_at
        handed_at = engine.DATA_WRITES[0]
        current.unlock()
        current.copied = (current.copied or []) + [(node, handed_at)]
    elif node._saved_copy is not None:
        return
    else:
        handed_at = math.inf  # a non-leaf's data is never locked: its copy stands for every node
    node._saved_copy = (node._saved_copy or []) + [(handed_at, node._data.copy())]
    key = id(node)

    def forget(ref):  # the tensor is gone: its id may be reused
        if engine.HANDED_OUT.get(key) is ref:
            del engine.HANDED_OUT[key]

    engine.HANDED_OUT[key] = weakref.ref(node, forget)


def forget_copy(node, handed_at=None):
    """Drop node's copies (only the one handed out at `handed_at` when given)."""
    copies = node._saved_copy
    if copies is not None:
        kept = [] if handed_at is None else [c for c in copies if c[0] != handed_at]
        node._saved_copy = kept or None
        if not kept:
            engine.HANDED_OUT.pop(id(node), None)


def changed_since_forward(node, stamp):
    """True if the array of `node`, handed out by .data, no longer equals the copy that stands
    for what a node stamped `stamp` saw (the first copy made after it)."""
    copies = node._saved_copy
    if copies is not None:
        for handed_at, copy in copies:
            if stamp < handed_at:
                return copy.tobytes() != node._data.tobytes()
    return False
