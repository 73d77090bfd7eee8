"""Errors that name what the user called ("sigmoid: ...", "Linear: ..."), not only the primitive inside."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])


def renamed(exc: Exception, name: str) -> Exception:
    """exc as a ValueError/TypeError whose message starts with `name`, or exc itself if it does."""
    if str(exc).startswith(name + ":"):
        return exc
    return (TypeError if isinstance(exc, TypeError) else ValueError)(f"{name}: {exc}")


def names_errors(fn: FunctionT) -> FunctionT:
    """Decorate fn so that its ValueErrors and TypeErrors name it first."""

    @functools.wraps(fn)
    def named(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise renamed(exc, fn.__name__) from None

    return named  # type: ignore[return-value]  # functools.wraps keeps fn's signature
