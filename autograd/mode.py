"""Each thread's switches: grad mode, forward-mode tangents, anomaly checks, scope, tracer.

A module of its own so that the engine and the modules it calls (anomaly
checks) can both read them without importing each other.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Protocol, TypeVar

_FunctionT = TypeVar("_FunctionT", bound=Callable[..., Any])


def _switch(name: str) -> property:
    """A switch whose every write also updates `hooked`."""

    def set_(mode: "_Mode", value: Any) -> None:
        setattr(mode, name, value)
        mode.hooked = bool(mode._tangents or mode._anomaly or mode._tracer is not None)

    return property(lambda mode: getattr(mode, name), set_)


class _Mode:
    """One thread's switches (grad mode, forward-mode tangents, anomaly checks, scope, tracer).

    `hooked` is True while any of tangents, anomaly or tracer is on, so an op
    tests one attribute, not three, before skipping `_forward_hooks`.
    """

    __slots__ = ("grad_enabled", "scope", "hooked", "backward_op", "_tangents", "_anomaly", "_tracer")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.scope: tuple[str, ...] = ()  # names of the enclosing scope() blocks, outermost first
        self._tangents = 0  # > 0 while a jvp() is being evaluated
        self._anomaly = False
        self._tracer: Any = None  # set by trace() while it records a function
        self.hooked = False
        # the op whose vjp a recorded (create_graph) backward pass is running, kept by the
        # engine while anomaly checks are on, so that an anomaly message can name it
        self.backward_op: Any = None

    tangents, anomaly, tracer = _switch("_tangents"), _switch("_anomaly"), _switch("_tracer")


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.mode = _Mode()


PER_THREAD = _PerThread()


class _CurrentMode:
    """`MODE.x` reads and writes the calling thread's switches.

    Hot paths fetch the thread's `_Mode` once (`PER_THREAD.mode`): a
    thread-local lookup costs several plain attribute reads.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(PER_THREAD.mode, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(PER_THREAD.mode, name, value)


MODE = _CurrentMode()


class SwitchBlock(Protocol):
    """What no_grad(), enable_grad() and detect_anomaly() return: a `with` block that also
    decorates a function (`@no_grad()`), as PyTorch's do."""

    def __enter__(self) -> None: ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None, /
    ) -> bool | None: ...

    def __call__(self, function: _FunctionT, /) -> _FunctionT: ...


@contextmanager
def switched(name: str, value: Any) -> Iterator[None]:
    """Set this thread's switch `name` to `value` inside the block, and restore it after.

    The body of `no_grad`, `enable_grad` and `detect_anomaly`; a generator-based context
    manager, so each of them also works as a decorator.
    """
    mode = PER_THREAD.mode
    previous = getattr(mode, name)
    setattr(mode, name, value)
    try:
        yield
    finally:
        setattr(mode, name, previous)
