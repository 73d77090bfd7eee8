"""The names that the public API's type hints share.

A function of nodes takes and returns Values or Tensors; where the result is the
same kind as the argument (a Value in, a Value out) the hint is the TypeVar
`NodeT`, else the union `ValueOrTensor`.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy.typing as npt

from .tensor import Tensor
from .value import Value

ValueOrTensor: TypeAlias = Value | Tensor
NodeT = TypeVar("NodeT", Value, Tensor)  # a Value or a Tensor, the same kind in and out

# what the transforms, checks and layers accept as data: a node, an array, nested lists, a number
ArrayLike: TypeAlias = Tensor | npt.ArrayLike
Array: TypeAlias = npt.NDArray[Any]
Argnums: TypeAlias = int | Sequence[int]  # which positional arguments a transform differentiates
AnyFunction: TypeAlias = Callable[..., Any]  # a user's function of nodes, arrays and options

__all__ = ["ValueOrTensor", "NodeT", "ArrayLike", "Array", "Argnums", "AnyFunction"]
