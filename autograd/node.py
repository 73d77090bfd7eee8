"""What `Value` and `Tensor` have in common: the node fields and backward()."""
from . import engine


class Node:
    """A vertex of the computation graph (base of `Value` and `Tensor`)."""

    __slots__ = ("_data", "requires_grad", "label", "_op", "_params", "_parents",
                 "_stamp", "_scope", "_tangent", "_retains_grad", "__weakref__")

    def _init_leaf(self, data, requires_grad, label):
        self._data = data
        self.grad = None
        self.requires_grad = requires_grad
        self.label = label
        self._op = None
        self._params = None
        self._parents = ()
        self._stamp = 0
        self._scope = engine.PER_THREAD.mode.scope
        self._tangent = None
        self._retains_grad = False

    @property
    def is_leaf(self):
        return self._op is None

    @property
    def op_name(self):
        """The name of the operation that made this node ('' for a leaf)."""
        return "" if self._op is None else self._op.name

    def zero_grad(self):
        self.grad = None if self._family.grad_none_when_zeroed else 0.0

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Back-propagate from this node; gradients accumulate into `.grad`."""
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this {type(self).__name__} does not require grad and has no "
                f"graph (was it made inside no_grad(), or from inputs without "
                f"requires_grad=True?)")
        seed = self._family.seed(self, grad, create_graph)
        engine.backward_pass(self, seed, retain_graph=retain_graph, create_graph=create_graph)

    # Hooks the engine calls; each family overrides what differs.
    keeps_all_grads = False
    grad_none_when_zeroed = True

    check_versions = None       # a function(node) for families whose data can change in place
    fit_grad = None             # a function(ns, g, parent) for families that broadcast
