"""Property values of device proxies: :class:`Value` (a number or array with pint
units) and the choice of kind: ``Value(x)`` gives a :class:`StringValue` for a ``str``,
a :class:`BoolValue` for a bool, an :class:`EnumValue` for an enum member and a
:class:`NodeValue` for a structure (``_kinds.py``); an enum channel's index becomes its
label (Karabo's String with options), an enum of False/True a bool. Each value has
the server :class:`Timestamp` and its descriptor.

Rules (Karabo's): arithmetic keeps units (pint) and takes the **newest** timestamp of
its operands; an operand without a timestamp (a plain constant) adds none; the result
has no descriptor; numpy ufuncs, functions, indexing and methods keep units and
timestamp; incompatible units raise :class:`pint.DimensionalityError`. Comparisons
give a :class:`BoolValue` with the newest timestamp, as Karabo's (it is true or false
in ``if`` and ``wait_until``). Knows no proxy and no server.
"""

from __future__ import annotations

import operator
from enum import Enum
from typing import Any

import numpy as np
import pint

from ._base import BOOL_CHOICES, KaraboValue, _newest, unwrap
from ._kinds import BoolValue, EnumValue, NodeValue, StringValue, _truth
from ._units import Quantity

__all__ = ["BOOL_CHOICES", "BoolValue", "EnumValue", "KaraboValue", "NodeValue", "StringValue", "Value",
           "is_set", "unwrap"]


def is_set(value: Any) -> bool:
    """False for None and for a property that has never had a value."""
    return not (value is None or (isinstance(value, Value) and value._v is None))


def _flat(args: Any) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out.extend(_flat(a))
        else:
            out.append(a)
    return out


def _deep_unwrap(args: Any) -> Any:
    if isinstance(args, (list, tuple)):
        return type(args)(_deep_unwrap(a) for a in args)
    return unwrap(args)


def _derived(result: Any, *operands: Any) -> Any:
    if isinstance(result, (pint.Quantity, np.ndarray, int, float, complex, np.number)) and not isinstance(
            result, (bool, np.bool_)):
        return Value(result, _newest(*operands))
    if isinstance(result, np.ndarray) and result.dtype == bool:
        return result
    return result


class Value(KaraboValue):
    """A property value: magnitude with units, server timestamp, descriptor.

    Parameters
    ----------
    value : Any
        A number, array, string, enum index, a pint quantity, or ``None`` (unset).
    timestamp : Timestamp or float, optional
        Server time (a float is POSIX seconds); ``None`` when unknown.
    descriptor : Descriptor, optional
        The property's description; only values read from a proxy carry one.
    units : pint.Unit, optional
        For a bare number; the descriptor's units by default.

    Attributes
    ----------
    value : Any
        The bare value (magnitude).
    timestamp : Timestamp or None
    descriptor : Descriptor or None
    severity : Severity or None
        Of the reading this value came from (None for a value not read from a device).
    status : str
        Its status text: for a property whose read failed, the device's error.
    """

    def __new__(cls, value: Any = None, timestamp: Any = None, descriptor: Any = None, *,
                units: Any = None) -> Any:
        if cls is Value:
            if isinstance(value, KaraboValue) and not isinstance(value, Value):
                value = value._bare()
            choices = getattr(getattr(descriptor, "metadata", None), "choices", None)
            if choices and isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
                    and 0 <= value < len(choices):
                # an enum channel's index: its label; a False/True enum (a boolean item): a bool
                value = bool(value) if tuple(choices) == BOOL_CHOICES else choices[value]
            if isinstance(value, str):
                return StringValue(value, timestamp, descriptor)
            if isinstance(value, dict):  # a structure (a PVA structure): its fields as a node
                return NodeValue(value, timestamp, descriptor)
            if isinstance(value, (bool, np.bool_)):
                return BoolValue(value, timestamp, descriptor)
            if isinstance(value, Enum):
                return EnumValue(value, timestamp, descriptor)
        return super().__new__(cls)

    def __init__(self, value: Any, timestamp: Any = None, descriptor: Any = None,
                 *, units: Any = None) -> None:
        if isinstance(value, Value):
            value = value._v
        if units is None and descriptor is not None:
            units = descriptor.unit
        numeric = isinstance(value, (int, float, np.number, np.ndarray)) and not isinstance(value, (bool, np.bool_))
        if numeric and not (isinstance(value, np.ndarray) and value.dtype.kind not in "iuf"):
            value = Quantity(value, units) if units is not None else Quantity(value)
        self._v: Any = value
        self._meta(timestamp, descriptor)  # and _source: (proxy, key) of a value read from a proxy

    def _bare(self) -> Any:
        return self._v

    # -- what it holds -----------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The bare value (a number, an array, a string), without units."""
        return self._v.magnitude if isinstance(self._v, pint.Quantity) else self._v

    magnitude = value

    @property
    def quantity(self) -> Any:
        """The pint quantity (the bare value for strings and unset values)."""
        return self._v

    @property
    def units(self) -> Any:
        """The pint units (``None`` for strings and unset values)."""
        return self._v.units if isinstance(self._v, pint.Quantity) else None

    @property
    def is_set(self) -> bool:
        """False for a property that has never had a value."""
        return self._v is not None

    def to(self, units: Any) -> Value:
        """The same value in other (compatible) units, same timestamp."""
        return Value(self._v.to(units), self.timestamp)

    # -- arithmetic ----------------------------------------------------------------------
    def _binary(op: Any, reflected: bool = False) -> Any:  # noqa: N805 (a class-body helper)
        def method(self: Value, other: Any) -> Any:
            a, b = (unwrap(other), self._v) if reflected else (self._v, unwrap(other))
            return _derived(op(a, b), self, other)

        return method

    __add__, __radd__ = _binary(operator.add), _binary(operator.add, True)
    __sub__, __rsub__ = _binary(operator.sub), _binary(operator.sub, True)
    __mul__, __rmul__ = _binary(operator.mul), _binary(operator.mul, True)
    __truediv__, __rtruediv__ = _binary(operator.truediv), _binary(operator.truediv, True)
    __floordiv__, __rfloordiv__ = _binary(operator.floordiv), _binary(operator.floordiv, True)
    __mod__, __rmod__ = _binary(operator.mod), _binary(operator.mod, True)
    __pow__, __rpow__ = _binary(operator.pow), _binary(operator.pow, True)
    __matmul__ = _binary(operator.matmul)
    del _binary

    def __neg__(self) -> Any:
        return _derived(-self._v, self)

    def __pos__(self) -> Any:
        return _derived(+self._v, self)

    def __abs__(self) -> Any:
        return _derived(abs(self._v), self)

    # comparisons: a BoolValue with the newest timestamp (Karabo's); arrays give bool arrays
    def _compare(op: Any) -> Any:  # noqa: N805 (a class-body helper)
        def method(self: Value, other: Any) -> Any:
            if self._v is None:  # an unset value compares as None does (Karabo's NoneValue)
                return op(None, unwrap(other))
            return _truth(op(self._v, unwrap(other)), self, other)

        return method

    __eq__ = _compare(operator.eq)
    __ne__ = _compare(operator.ne)
    __lt__ = _compare(operator.lt)
    __le__ = _compare(operator.le)
    __gt__ = _compare(operator.gt)
    __ge__ = _compare(operator.ge)
    del _compare

    __hash__ = None  # type: ignore[assignment]  # unhashable: == compares by value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self._v)

    def __int__(self) -> int:
        return int(self._v)

    def __index__(self) -> int:
        return operator.index(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Any:
        return (_derived(x, self) for x in self._v)

    def __getitem__(self, index: Any) -> Any:
        return _derived(self._v[index], self)

    # -- numpy -------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        result = getattr(ufunc, method)(*(unwrap(x) for x in inputs), **kwargs)
        return _derived(result, *inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        result = func(*_deep_unwrap(args), **{k: _deep_unwrap(v) for k, v in kwargs.items()})
        return _derived(result, *_flat(args))

    def __getattr__(self, name: str) -> Any:
        # pint's and numpy's own (.T, .sum(), .m_as(), .dimensionality) keep the timestamp
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(object.__getattribute__(self, "_v"), name)
        if callable(attr):
            def call(*args: Any, **kwargs: Any) -> Any:
                return _derived(attr(*_deep_unwrap(args), **kwargs), self, *_flat(args))

            return call
        return _derived(attr, self)

    # -- display -------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self._v:~}" if isinstance(self._v, pint.Quantity) else str(self._v)

    def __format__(self, spec: str) -> str:
        return format(self._v, spec)

    def __repr__(self) -> str:
        shown = "unset" if self._v is None else (f"{self._v:~P}" if isinstance(self._v, pint.Quantity) else
                                                  repr(self._v))
        return f"<Value{self._key_text()} {shown} @ {self._stamp_text()}>"


# pint hands ``quantity + value`` back to Value.__radd__ instead of treating the Value
# as a plain number (its documented hook for types that wrap quantities)
pint.compat.upcast_type_map[pint.compat.fully_qualified_name(Value)] = Value  # type: ignore[index]  # a dict, typed Mapping
