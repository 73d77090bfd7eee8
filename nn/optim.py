"""Optimisers and learning-rate schedules with PyTorch's update rules and parameter groups.

An optimiser takes parameters, or a list of parameter groups as PyTorch does
(`[{"params": weights}, {"params": biases, "weight_decay": 0.0}]`); each group
holds its own options, filled in from the optimiser's defaults, in
`optimizer.param_groups`, and `optimizer.state[p]` holds p's buffers (PyTorch's
names: momentum_buffer, exp_avg, ...), arrays of their own: changing `.grad`
in place never changes them.

Updates are written with operators and NumPy functions only, so they serve both
`Parameter`s (ndarray data, updated in place) and the `Value`s of nn.scalar
(float data). Every update moves the tensor's version, as the `data` setter does, so
a graph built from the old values refuses a backward; plain SGD writes a Tensor's
array in place directly when no pending graph saved it, and through `data` otherwise.
A parameter whose `.grad` is None (it took no part in the loss) is skipped; a
`.grad` that is itself a graph (after `backward(create_graph=True)`) is read
for its values. float32 parameters stay float32: Python numbers take the arrays' dtype.
"""

import math
from collections.abc import Iterable
from typing import Any, TypeAlias

import numpy as np

from autograd.hints import ValueOrTensor
from autograd.node import Node
from autograd.tensor import subtract_scaled_grads

# parameters, one parameter, or parameter groups ({"params": ..., option: value})
Params: TypeAlias = ValueOrTensor | Iterable[ValueOrTensor] | Iterable[dict[str, Any]]


def _param_list(where, params):
    if isinstance(params, Node):
        params = [params]  # PyTorch takes a lone tensor in a group too
    params = list(params)
    if not params:
        raise ValueError(f"{where}: got an empty parameter list")
    for i, p in enumerate(params):
        if not getattr(p, "requires_grad", False):
            raise TypeError(f"{where}: parameter {i} ({type(p).__name__}) does not require grad")
    return params


def _check_rate(where, name, value, upper=math.inf):
    if not 0.0 <= value < upper:
        raise ValueError(f"{where}: {name} must be in [0, {upper}), got {value}")


def _values(g):
    """The gradient's values: after backward(create_graph=True) `.grad` is a graph node."""
    return g.data if isinstance(g, Node) else g


def _own_copy(g):
    """A buffer that owns its memory (floats, the data of nn.scalar's Values, are immutable)."""
    return g.copy() if isinstance(g, np.ndarray) else g


class Optimizer:
    """Parameter groups, per-parameter state and the step loop; subclasses define the update.

    `defaults` maps each option to its value for groups that do not set it; a
    subclass checks a group's options in `_check_group` and computes the step to
    subtract from a parameter in `_update(state, g, group)`.
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        where = type(self).__name__
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[ValueOrTensor, dict[str, Any]] = {}
        groups: list[Any] = [params] if isinstance(params, Node) else list(params)
        if not groups:
            raise ValueError(f"{where}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a dict with "params" and any of the optimiser's options (the rest from the defaults)."""
        where = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{where}: a parameter group is a dict with a 'params' entry, got {type(group).__name__}")
        # a misspelt option would otherwise be ignored without a word (PyTorch keeps any key)
        unknown = sorted(set(group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(
                f"{where}: unknown options {unknown} in a parameter group (options: {sorted(self.defaults)})"
            )
        group = {
            "params": _param_list(where, group["params"]),
            **{name: group.get(name, default) for name, default in self.defaults.items()},
        }
        lr = group["lr"]
        if not lr >= 0:
            raise ValueError(f"{where}: lr must be nonnegative, got {lr}")
        _check_rate(where, "weight_decay", group["weight_decay"])
        self._check_group(where, group)
        for p in group["params"]:
            if p in self.state:
                raise ValueError(
                    f"{where}: a parameter ({p.label or type(p).__name__}) appears in more than one parameter group"
                )
            self.state[p] = {}
        self.param_groups.append(group)

    @property
    def lr(self) -> float:
        """The first group's learning rate (setting it sets every group's)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    def zero_grad(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                # Node.zero_grad inlined (a Python call per parameter and step): each family's own
                # empty gradient, None for a Tensor, 0.0 for a Value
                p._grad = p.zero_grad_value

    def step(self) -> None:
        for group in self.param_groups:
            weight_decay = group["weight_decay"]
            # the group's options read once: a plain step (rate * g) needs no call per parameter
            rate = None if weight_decay else self._plain_rate(group)
            # the plain step writes the arrays it can; the others go through `data` and its checks
            params: Iterable[Any] = group["params"] if rate is None else subtract_scaled_grads(group["params"], rate)
            for p in params:
                g: Any = p._grad  # the slot: the property is a Python call per parameter and step
                if g is None:
                    continue
                if isinstance(g, Node):  # _values inlined: this runs per parameter
                    g = g.data  # type: ignore[attr-defined]  # Value and Tensor, Node's two kinds, have it
                if weight_decay:
                    g = g + weight_decay * p.data  # a new array: p.grad is left as it was
                p.data -= self._update(self.state[p], g, group)

    def _check_group(self, where, group):
        """Raise ValueError for a group's options that make no sense."""

    def _plain_rate(self, group):
        """The number c when the group's step is c * g for every parameter (no state to keep), else
        None; step() then skips the call to _update per parameter."""
        return None

    def _update(self, state, g, group):
        """The step to subtract from the parameter."""
        raise NotImplementedError


class SGD(Optimizer):
    """w <- w - lr v, v = momentum v + g (v = g without momentum); Nesterov uses g + momentum v."""

    def __init__(
        self, params: Params, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov, "weight_decay": weight_decay})

    def _check_group(self, where, group):
        _check_rate(where, "momentum", group["momentum"])
        if group["nesterov"] and group["momentum"] == 0:
            raise ValueError(f"{where}: nesterov=True needs a positive momentum")

    def _plain_rate(self, group):
        if group["momentum"] or type(self)._update is not SGD._update:  # a subclass's own rule runs
            return None
        return group["lr"]  # without momentum the step is lr * g

    def _update(self, state, g, group):
        momentum = group["momentum"]
        if momentum:
            v = state.get("momentum_buffer")
            # the first buffer is a copy (PyTorch clones): g may be the parameter's own .grad
            v = state["momentum_buffer"] = _own_copy(g) if v is None else momentum * v + g
            g = g + momentum * v if group["nesterov"] else v
        return group["lr"] * g


class Adam(Optimizer):
    """Adam with bias-corrected moment estimates; amsgrad divides by the largest second moment so far."""

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(
            params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad}
        )

    def _check_group(self, where, group):
        for name, b in zip(("beta1", "beta2"), group["betas"]):
            _check_rate(where, name, b, upper=1.0)
        _check_rate(where, "eps", group["eps"])

    def _update(self, state, g, group):
        # PyTorch's order of operations: lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        b1, b2 = group["betas"]
        t = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = b1 * state.get("exp_avg", 0.0) + (1 - b1) * g
        v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0.0) + (1 - b2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", 0.0), v)
        denominator = np.sqrt(v) / math.sqrt(1 - b2**t) + group["eps"]
        return group["lr"] / (1 - b1**t) * m / denominator


class RMSprop(Optimizer):
    """Divides the step by a running root-mean-square of the gradient: v = alpha v + (1 - alpha) g^2."""

    def __init__(
        self, params: Params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay})

    def _check_group(self, where, group):
        _check_rate(where, "alpha", group["alpha"], upper=1.0)
        _check_rate(where, "eps", group["eps"])

    def _update(self, state, g, group):
        alpha = group["alpha"]
        v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
        return group["lr"] * g / (np.sqrt(v) + group["eps"])


class LRScheduler:
    """Sets every group's lr from the epoch count; call step() once per epoch, after the optimiser's steps."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0

    def step(self) -> None:
        self.last_epoch += 1
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self._lr(base_lr, self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _lr(self, base_lr, epoch):
        raise NotImplementedError


class StepLR(LRScheduler):
    """lr = base_lr gamma^(epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size}")
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def _lr(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr gamma^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = gamma

    def _lr(self, base_lr, epoch):
        return base_lr * self.gamma**epoch


def clip_grad_norm_(params: ValueOrTensor | Iterable[ValueOrTensor], max_norm: float) -> float:
    """Scale the gradients so their joint 2-norm is at most max_norm; returns the norm before clipping.

    A gradient that is a graph (after backward(create_graph=True)) is read for its
    values and replaced by the scaled values, as PyTorch scales it in place without recording.
    """
    items: list[Any] = [params] if isinstance(params, Node) else list(params)
    grads = [p for p in items if p.grad is not None]
    total = math.sqrt(sum(float(np.sum(np.square(_values(p.grad)))) for p in grads))
    scale = max_norm / (total + 1e-6)  # PyTorch's guard against a zero norm
    if scale < 1.0:
        for p in grads:
            p.grad = _values(p.grad) * scale
    return total
