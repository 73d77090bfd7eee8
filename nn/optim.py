"""Optimisers and learning-rate schedules with PyTorch's update rules.

Updates are written with operators and np.sqrt only, so they serve both
`Parameter`s (ndarray data, updated in place) and the `Value`s of nn.scalar
(float data). Every update goes through the `data` setter, which bumps the
tensor's version so a graph built from the old values refuses a backward.
A parameter whose `.grad` is None (it took no part in the loss) is skipped.
float32 parameters stay float32: Python numbers take the arrays' dtype.
"""
import math

import numpy as np


def _param_list(where, params):
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


class Optimizer:
    """Holds the parameters and per-parameter state; subclasses define `_update(i, p, g)`."""

    def __init__(self, params, lr, weight_decay):
        where = type(self).__name__
        self.params = _param_list(where, params)
        if not lr > 0:
            raise ValueError(f"{where}: lr must be positive, got {lr}")
        _check_rate(where, "weight_decay", weight_decay)
        self.lr = lr
        self.weight_decay = weight_decay
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if self.weight_decay:
                g = g + self.weight_decay * p.data     # a new array: p.grad is left as it was
            p.data -= self._update(self.state[i], g)

    def _update(self, state, g):
        """The step to subtract from the parameter."""
        raise NotImplementedError


class SGD(Optimizer):
    """w <- w - lr v, v = momentum v + g (v = g without momentum); Nesterov uses g + momentum v."""

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        _check_rate("SGD", "momentum", momentum)
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a positive momentum")
        self.momentum, self.nesterov = momentum, nesterov

    def _update(self, state, g):
        if self.momentum:
            v = state["velocity"] = g if "velocity" not in state else self.momentum * state["velocity"] + g
            g = g + self.momentum * v if self.nesterov else v
        return self.lr * g


class Adam(Optimizer):
    """Adam with bias-corrected first and second moment estimates."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        for name, b in zip(("beta1", "beta2"), betas):
            _check_rate("Adam", name, b, upper=1.0)
        self.betas, self.eps = tuple(betas), eps

    def _update(self, state, g):
        b1, b2 = self.betas
        t = state["t"] = state.get("t", 0) + 1
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class RMSprop(Optimizer):
    """Divides the step by a running root-mean-square of the gradient: v = alpha v + (1 - alpha) g^2."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        _check_rate("RMSprop", "alpha", alpha, upper=1.0)
        self.alpha, self.eps = alpha, eps

    def _update(self, state, g):
        v = state["v"] = self.alpha * state.get("v", 0.0) + (1 - self.alpha) * g * g
        return self.lr * g / (np.sqrt(v) + self.eps)


class LRScheduler:
    """Sets `optimizer.lr` from the epoch count; call step() once per epoch, after the optimiser's steps."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def step(self):
        self.last_epoch += 1
        self.optimizer.lr = self._lr(self.last_epoch)

    def get_last_lr(self):
        return [self.optimizer.lr]

    def _lr(self, epoch):
        raise NotImplementedError


class StepLR(LRScheduler):
    """lr = base_lr gamma^(epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size}")
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def _lr(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr gamma^epoch."""

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        self.gamma = gamma

    def _lr(self, epoch):
        return self.base_lr * self.gamma ** epoch


def clip_grad_norm_(params, max_norm):
    """Scale the gradients so their joint 2-norm is at most max_norm; returns the norm before clipping."""
    params = [params] if hasattr(params, "grad") else list(params)
    grads = [p for p in params if p.grad is not None]
    total = math.sqrt(sum(float(np.sum(np.square(p.grad))) for p in grads))
    scale = max_norm / (total + 1e-6)          # PyTorch's guard against a zero norm
    if scale < 1.0:
        for p in grads:
            p.grad = p.grad * scale
    return total
