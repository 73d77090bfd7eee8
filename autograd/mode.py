"""Each thread's switches: grad mode, forward-mode tangents, anomaly checks, scope, tracer.

A module of its own so that the engine and the modules it calls (anomaly
checks) can both read them without importing each other.
"""
import threading


class _Mode:
    """One thread's switches (grad mode, forward-mode tangents, anomaly checks, scope, tracer).

    `hooked` is True while any of tangents, anomaly or tracer is on, so an op
    tests one attribute, not three, before skipping `_forward_hooks`.
    """

    __slots__ = ("grad_enabled", "scope", "hooked", "backward_op", "_tangents", "_anomaly", "_tracer")

    def __init__(self):
        self.grad_enabled = True
        self.scope = ()            # names of the enclosing scope() blocks, outermost first
        self._tangents = 0         # > 0 while a jvp() is being evaluated
        self._anomaly = False
        self._tracer = None        # set by trace() while it records a function
        self.hooked = False
        # the op whose vjp a recorded (create_graph) backward pass is running, kept by the
        # engine while anomaly checks are on, so that an anomaly message can name it
        self.backward_op = None

    def _switch(name):
        def set_(self, value):
            setattr(self, name, value)
            self.hooked = bool(self._tangents or self._anomaly or self._tracer is not None)
        return property(lambda self: getattr(self, name), set_)

    tangents, anomaly, tracer = _switch("_tangents"), _switch("_anomaly"), _switch("_tracer")
    del _switch


class _PerThread(threading.local):
    def __init__(self):
        self.mode = _Mode()


PER_THREAD = _PerThread()


class _CurrentMode:
    """`MODE.x` reads and writes the calling thread's switches.

    Hot paths fetch the thread's `_Mode` once (`PER_THREAD.mode`): a
    thread-local lookup costs several plain attribute reads.
    """

    __slots__ = ()

    def __getattr__(self, name):
        return getattr(PER_THREAD.mode, name)

    def __setattr__(self, name, value):
        setattr(PER_THREAD.mode, name, value)


MODE = _CurrentMode()
