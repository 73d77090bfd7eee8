"""What `Value` and `Tensor` have in common: the node fields and backward()."""
from . import engine


class Node:
    """A vertex of the computation graph (base of `Value` and `Tensor`)."""

    # The fields every node needs are slots, filled once by _set. Rare ones (a label, a
    # scope, a forward-mode tangent, retain_grad, a data version) are class defaults that
    # go into the instance's __dict__ only when set: a node made by an op fills 7 fields,
    # not 12, which matters both to build speed and to the cyclic collector, which visits
    # every field of every node of a large graph each time it runs.
    __slots__ = ("_data", "_grad", "_requires_grad", "_op", "_params", "_parents", "_stamp",
                 "_held", "__dict__", "__weakref__")
    # _held is written, never read: a family that protects saved inputs (Tensor: saved.py) puts
    # there what keeps them so, and backward clears it; left unset otherwise
    label = ""
    _scope = ()             # names of the scope() blocks the node was made in
    _tangent = None         # forward mode (jvp): d node / d inputs along the tangents
    _retains_grad = False   # a non-leaf Tensor keeps .grad (retain_grad())
    _version = 0            # the DATA_WRITES count of the last .data assignment

    def _init_leaf(self, data, requires_grad, label):
        self._set(data, requires_grad, None, None, (), 0, engine.PER_THREAD.mode.scope)
        if label:
            self.label = label

    def _set(self, data, requires_grad, op, params, parents, stamp, scope):
        self._data = data
        self._grad = self.zero_grad_value
        self._op = op
        self._requires_grad = requires_grad
        self._params = params
        self._parents = parents
        self._stamp = stamp
        if scope:
            self._scope = scope

    # The engine reads and writes the slot _requires_grad; users the property (Tensor's setter
    # checks the dtype), which would cost the engine a Python call per op and per edge.
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self._requires_grad = bool(flag)

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, g):
        self._grad = g

    @property
    def is_leaf(self):
        return self._op is None

    @property
    def op_name(self):
        """The name of the operation that made this node ('' for a leaf)."""
        return "" if self._op is None else self._op.name

    def zero_grad(self):
        self._grad = self.zero_grad_value

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Back-propagate from this node; gradients accumulate into `.grad`."""
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this {type(self).__name__} does not require grad and has no "
                f"graph (was it made inside no_grad(), or from inputs without "
                f"requires_grad=True?)")
        seed = self._family.seed(self, grad, create_graph)
        # as in PyTorch, create_graph keeps the graph: the gradients' graph runs through it
        engine.backward_pass(self, seed, retain_graph=retain_graph or create_graph,
                             create_graph=create_graph)

    # Hooks the engine calls; each family overrides what differs.
    keeps_all_grads = False     # True: every node's .grad is filled, by adding (Value)
    zero_grad_value = None      # what .grad holds before any backward (Value: 0.0)
    deposit = None              # a function(node, g, deposited, seed) filling a leaf's .grad
                                # (or a retained one's) when keeps_all_grads is False

    check_versions = None       # a function(node) for families whose data can change in place
    release_data = None         # a function(node) dropping a consumed node's data, for families
    release_min_size = 0        # whose data has a .size: from this size up (small arrays stay)
    fit_grad = None             # a function(ns, g, parent) for families that broadcast
