"""chainrule's autodiff engine: `Value` (scalars) and `Tensor` (NumPy arrays) on one graph core."""

from .engine import enable_grad, is_grad_enabled, no_grad, scope
from .tensor import IndexOutOfRange, Tensor, broadcast_to, concatenate, linear, matmul, maximum, minimum, stack, where
from .trace import TracedFunction, trace
from .value import Value
from .draw import GraphvizNotFound, draw_graph, render_graph
from .explain import explain

__all__ = [
    "Value",
    "Tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "scope",
    "maximum",
    "minimum",
    "where",
    "concatenate",
    "stack",
    "matmul",
    "broadcast_to",
    "IndexOutOfRange",
    "linear",
    "trace",
    "TracedFunction",
]
__all__ += ["draw_graph", "render_graph", "explain", "GraphvizNotFound"]
from .transforms import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .function import Function
from .anomaly import detect_anomaly

__all__ += [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "jacobian",
    "hessian",
    "numerical_grad",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "Function",
    "detect_anomaly",
]
from .symbolic import Expression, expression, symbolic_derivative

__all__ += ["expression", "symbolic_derivative", "Expression"]

from .walkthrough import walkthrough

__all__ += ["walkthrough"]

from .conv import conv1d, conv2d

__all__ += ["conv2d", "conv1d"]
