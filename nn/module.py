"""`Module`, `Parameter` and `Sequential`: the bookkeeping every layer shares.

A module's parameters and sub-modules are simply its attributes: `Parameter`s
(or `Value`s, for the scalar networks of nn.scalar), `Module`s, and lists or
tuples of them. Nothing needs registering and subclasses need not call
`super().__init__()`; names follow PyTorch (`0.weight`, `fc1.bias`, `layers.2.w.0`).
"""

import operator
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from autograd import Tensor, Value, scope
from autograd.hints import ArrayLike, ValueOrTensor

ModuleT = TypeVar("ModuleT", bound="Module")

_NOTE = "in module "  # how the note Module.__call__ adds to an exception from forward starts


class Parameter(Tensor):
    """A leaf `Tensor` with `requires_grad=True` that owns its data.

    The data is copied, so optimisers updating it in place never touch the
    caller's array. Integer data becomes float64; float32 stays float32.
    `p.data = new_array` works (same shape; the dtype is kept).
    """

    def __init__(self, data: ArrayLike, dtype: npt.DTypeLike | None = None, label: str = "") -> None:
        arr = np.array(data.data if isinstance(data, Tensor) else data, dtype=dtype, copy=True)
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
        super().__init__(arr, requires_grad=True, label=label)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]


def _module_path(scope):
    """'Sequential > 0 (Linear)' from the scope names 'Sequential' and '0:Linear'."""
    parts = []
    for name in scope:
        attribute, _, class_name = name.partition(":")
        parts.append(f"{attribute} ({class_name})" if class_name else attribute)
    return " > ".join(parts)


def _is_member(item):
    return isinstance(item, (Module, Parameter, Value))


class Module:
    """Base class of layers and models: call it to run `forward` inside `autograd.scope`."""

    training = True
    # The scope block __call__ enters, made once and entered again on every call (a scope
    # keeps nothing per entry): one per class, named after it, until a parent stores the
    # module; then the module's own, named "<attribute>:<class>".
    _scope_block = scope("Module")
    _buffer_names: tuple[str, ...] = ()  # attributes that are buffers (register_buffer)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._scope_block = scope(cls.__name__)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Module must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        block = self._scope_block
        try:
            if len(args) == 1 and not kwargs:
                # the usual call, model(x): scope.call runs forward(x) in the block as one plain
                # call, which costs less than a with-block around a call spreading *args
                return block.call(self.forward, args[0])
            with block:
                return self.forward(*args, **kwargs)
        except Exception as exc:
            # the same exception object, re-raised: its type and the user's line in the
            # traceback stay; the innermost module adds where it happened (Python >= 3.11)
            if hasattr(exc, "add_note") and not any(note.startswith(_NOTE) for note in getattr(exc, "__notes__", ())):
                with block as path:  # the path forward ran in (the block was left on the way here)
                    exc.add_note(_NOTE + _module_path(path) + ", in forward()")
            raise

    def __setattr__(self, name: str, value: Any) -> None:
        items = value if isinstance(value, (list, tuple)) else (value,)
        for i, item in enumerate(items):
            path = name if items is not value else f"{name}.{i}"
            if isinstance(item, Module):
                object.__setattr__(item, "_scope_block", scope(f"{path}:{type(item).__name__}"))
            elif isinstance(item, (Parameter, Value)) and not item.label:
                item.label = path  # what draw_graph shows for the leaf
        object.__setattr__(self, name, value)

    # Traversal -----------------------------------------------------------
    def _members(self):
        """(name, item) for the parameters and modules held directly; lists give name.i."""
        for name, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if _is_member(item):
                        yield f"{name}.{i}", item
            elif _is_member(value):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """(path, module) for this module (path `prefix`) and every module below it."""
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            yield path, module
            children = [(f"{path}.{n}" if path else n, m) for n, m in module._members() if isinstance(m, Module)]
            stack.extend(reversed(children))

    def modules(self) -> list["Module"]:
        return [m for _, m in self.named_modules()]

    def named_parameters(self) -> list[tuple[str, ValueOrTensor]]:
        """(name, parameter) pairs in definition order; a shared parameter is listed once."""
        seen: set[int] = set()
        out: list[tuple[str, ValueOrTensor]] = []
        for path, module in self.named_modules():
            for name, item in module._members():
                if not isinstance(item, Module) and id(item) not in seen:
                    seen.add(id(item))
                    out.append((f"{path}.{name}" if path else name, item))
        return out

    def parameters(self) -> list[ValueOrTensor]:
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Keep ndarray `array` as attribute `name`: state, not a parameter (BatchNorm's running
        statistics), in state_dict() and restored by load_state_dict() in place, as PyTorch's buffers."""
        if name not in self._buffer_names:
            object.__setattr__(self, "_buffer_names", self._buffer_names + (name,))
        object.__setattr__(self, name, array)

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """(name, ndarray) for the buffers of this module and every module below it."""
        return [
            (f"{path}.{name}" if path else name, getattr(module, name))
            for path, module in self.named_modules()
            for name in module._buffer_names
        ]

    def buffers(self) -> list[np.ndarray]:
        return [b for _, b in self.named_buffers()]

    # State ---------------------------------------------------------------
    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def train(self: ModuleT, mode: bool = True) -> ModuleT:
        """Training mode (Dropout active) for this module and all below it; returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self: ModuleT) -> ModuleT:
        return self.train(False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """{name: copy of the parameter's (or buffer's) data as an ndarray}: later updates do not change it."""
        return {name: np.array(p.data, copy=True) for name, p in self.named_parameters()} | {
            name: np.array(b, copy=True) for name, b in self.named_buffers()
        }

    def load_state_dict(self: ModuleT, state: Mapping[str, ArrayLike]) -> ModuleT:
        """Copy `state`'s arrays into the parameters; ValueError names missing, extra and misshapen keys."""
        own = dict(self.named_parameters()) | {name: _BufferSlot(b) for name, b in self.named_buffers()}
        problems = []
        missing = [k for k in own if k not in state]
        extra = [k for k in state if k not in own]
        misshapen = [
            f"{k} has shape {np.shape(state[k])}, expected {np.shape(own[k].data)}"
            for k in own
            if k in state and np.shape(state[k]) != np.shape(own[k].data)
        ]
        if missing:
            problems.append(f"missing keys {missing}")
        if extra:
            problems.append(f"unexpected keys {extra}")
        wrong_type = [
            f"{k} has dtype {np.asarray(state[k]).dtype}"
            for k in own
            if k in state and np.asarray(state[k]).dtype.kind not in "fiub"
        ]
        if misshapen:
            problems.append("misshapen: " + "; ".join(misshapen))
        if wrong_type:
            problems.append("not real numbers: " + "; ".join(wrong_type))
        if problems:
            # checked before anything is copied: a bad state dict leaves the model as it was
            raise ValueError(f"load_state_dict ({type(self).__name__}): " + ", ".join(problems))
        for name, p in own.items():
            # a copy: the state dict's arrays must not alias (and be changed by) the parameters
            p.data = np.array(state[name], dtype=np.asarray(p.data).dtype)
        return self

    # Display -------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        children = [(n, m) for n, m in self._members() if isinstance(m, Module)]
        if not children:
            return head + ")"
        lines = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in children]
        return head + "\n" + "\n".join(lines) + "\n)"


class _BufferSlot:
    """A buffer seen as a parameter by load_state_dict: `.data = new` copies into the array in place."""

    def __init__(self, array):
        self.array = array

    @property
    def data(self):
        return self.array

    @data.setter
    def data(self, new):
        np.copyto(self.array, new)


class Sequential(Module):
    """Modules applied one after another; they are named "0", "1", ... (PyTorch's names)."""

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def __len__(self) -> int:
        return sum(1 for _, m in self._members() if isinstance(m, Module))

    def __getitem__(self, index: int | slice) -> Module:
        """The module at an int index (negative counts from the end), or a Sequential of a slice
        that keeps the modules' names, as PyTorch's (`model[1:3]` holds "1" and "2")."""
        members = [(name, m) for name, m in self._members() if isinstance(m, Module)]
        if isinstance(index, slice):
            part = type(self).__new__(type(self))
            for name, m in members[index]:
                setattr(part, name, m)
            return part
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: indices must be integers or slices, not {type(index).__name__}"
            ) from None
        if not -len(members) <= i < len(members):
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for {len(members)} modules")
        return members[i][1]

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules_in_order())

    def forward(self, x: Any) -> Any:
        for m in self._modules_in_order():
            x = m(x)
        return x

    # forward runs on every call: the modules it runs are found once and kept (_order), and any
    # change of membership drops them: setting or deleting an attribute, a buffer, or (checked
    # on each call, see _ModuleOrder) a list attribute changed in place.
    _order: "_ModuleOrder | None" = None

    def _modules_in_order(self) -> tuple[Module, ...]:
        """The modules held directly, in order, as _members finds them."""
        order = self._order
        if order is None or (order.lists and not order.lists_unchanged()):
            order = _ModuleOrder(vars(self).values())
            object.__setattr__(self, "_order", order)
        return order.modules

    def _forget_order(self) -> None:
        object.__setattr__(self, "_order", None)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        self._forget_order()

    def __delattr__(self, name: str) -> None:
        super().__delattr__(name)
        self._forget_order()

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        super().register_buffer(name, array)
        self._forget_order()


class _ModuleOrder:
    """The modules a Sequential runs, in order, from its attribute values.

    A list attribute can gain or lose modules in place, unseen by __setattr__, so the
    lists read are kept with their items as they were, and compared item by item.
    An object of its own, not a tuple: _members expands tuples it finds in a module.
    """

    __slots__ = ("modules", "lists", "items")

    def __init__(self, values: Iterable[Any]) -> None:
        modules: list[Module] = []
        lists = []
        for value in values:
            if isinstance(value, Module):
                modules.append(value)
            elif isinstance(value, (list, tuple)):
                modules += [item for item in value if isinstance(item, Module)]
                if isinstance(value, list):
                    lists.append(value)
        self.modules = tuple(modules)
        self.lists = tuple(lists)
        self.items = tuple(chain.from_iterable(lists))

    def lists_unchanged(self) -> bool:
        items = tuple(chain.from_iterable(self.lists))
        # by identity: == on items would compare arrays elementwise
        return len(items) == len(self.items) and all(map(operator.is_, items, self.items))
