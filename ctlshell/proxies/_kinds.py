"""The value kinds beside numbers, as Karabo's: :class:`StringValue` (a ``str``),
:class:`BoolValue`, :class:`EnumValue` (a :class:`State`) and :class:`NodeValue` (a
structure, a :class:`Hash` of its fields), and the stamped result of a comparison.
Pure: knows no proxy and no server.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

from ._base import KaraboValue, _newest, unwrap
from ._hash import Hash

__all__ = ["BoolValue", "EnumValue", "NodeValue", "StringValue"]


def _truth(result: Any, *operands: Any) -> Any:
    """A comparison's result: a :class:`BoolValue` stamped with the newest operand."""
    if isinstance(result, (bool, np.bool_)):
        return BoolValue(result, _newest(*operands))
    return result


def _keep_stamp(name: str) -> Any:
    method = getattr(str, name)

    def wrapped(self: StringValue, *args: Any, **kwargs: Any) -> Any:
        result = method(str(self), *(unwrap(a) for a in args), **kwargs)
        return StringValue(result, self.timestamp) if isinstance(result, str) else result

    wrapped.__name__ = name
    wrapped.__doc__ = method.__doc__
    return wrapped


class StringValue(str, KaraboValue):
    """A string property value: a ``str`` (hashable, JSON-able, ``isinstance(s, str)``)
    with a timestamp; str methods and ``+`` keep the timestamp."""

    def __new__(cls, value: Any, timestamp: Any = None, descriptor: Any = None) -> StringValue:
        out = super().__new__(cls, value)
        out._meta(timestamp, descriptor)
        return out

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    @property
    def value(self) -> str:
        """The bare ``str``."""
        return str(self)

    @property
    def is_set(self) -> bool:
        return True

    def _bare(self) -> str:
        return str(self)

    def __reduce__(self) -> Any:
        return (str, (str(self),))

    def __eq__(self, other: object) -> Any:
        return _truth(str.__eq__(str(self), unwrap(other)) is True, self, other)

    def __ne__(self, other: object) -> Any:
        return _truth(str.__eq__(str(self), unwrap(other)) is not True, self, other)

    __hash__ = str.__hash__

    for _name in ("__add__", "__mul__", "__rmul__", "__mod__", "__getitem__", "capitalize", "casefold", "center",
                  "expandtabs", "format", "join", "ljust", "lower", "lstrip", "removeprefix", "removesuffix",
                  "replace", "rjust", "rstrip", "strip", "swapcase", "title", "translate", "upper", "zfill"):
        locals()[_name] = _keep_stamp(_name)
    del _name


class BoolValue(KaraboValue):
    """A boolean property value with a timestamp; compares as a bool (``b == 1``), does no
    arithmetic (``b + 1`` raises ``TypeError``, as Karabo's)."""

    __hash__ = None  # type: ignore[assignment]  # unhashable, as its == is elementwise

    def __init__(self, value: Any, timestamp: Any = None, descriptor: Any = None) -> None:
        self.value = bool(value)
        self._meta(timestamp, descriptor)

    @property
    def is_set(self) -> bool:
        return True

    def _bare(self) -> bool:
        return self.value

    def __bool__(self) -> bool:
        return self.value

    def __int__(self) -> int:
        return int(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __eq__(self, other: object) -> Any:
        return _truth(self.value == bool(unwrap(other)), self, other)

    def __ne__(self, other: object) -> Any:
        return _truth(self.value != bool(unwrap(other)), self, other)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return repr(self.value)


class EnumValue(KaraboValue):
    """An enum property value (a :class:`State`): compares to members (``dev.state ==
    State.ON``), ``.enum`` is the member, ``.value`` its name; hashable."""

    def __init__(self, value: Any, timestamp: Any = None, descriptor: Any = None) -> None:
        if not isinstance(value, Enum):
            raise TypeError(f"an EnumValue holds an enum member, not {value!r}")
        self.enum = value
        self._meta(timestamp, descriptor)

    @property
    def value(self) -> Any:
        return self.enum.value

    @property
    def is_set(self) -> bool:
        return True

    def _bare(self) -> Any:
        return self.enum

    def __eq__(self, other: object) -> Any:
        return _truth(self.enum == unwrap(other), self, other)

    def __ne__(self, other: object) -> Any:
        return _truth(self.enum != unwrap(other), self, other)

    def __hash__(self) -> int:
        return hash(self.enum)

    def __str__(self) -> str:
        return str(self.enum)

    def __repr__(self) -> str:
        return repr(self.enum)


class NodeValue(Hash, KaraboValue):
    """A structured property (a PVA structure that is no normative type): a :class:`Hash`
    of its fields, dotted paths as nodes; ``node.field`` reads a field as a value with
    the structure's timestamp (``dev.stats.a.b``), as a Karabo node's sub-proxy."""

    def __init__(self, fields: Any, timestamp: Any = None, descriptor: Any = None) -> None:
        Hash.__init__(self)
        for key, value in fields.items():
            self[key] = value
        self._meta(timestamp, descriptor)

    @property
    def value(self) -> Hash:
        """The fields as a plain :class:`Hash`."""
        return Hash(self)

    @property
    def is_set(self) -> bool:
        return True

    def _bare(self) -> Hash:
        return Hash(self)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            field = self[name]
        except KeyError:
            raise AttributeError(f"the structure has no field {name!r}; it has {list(self)}") from None
        if isinstance(field, Hash):
            return NodeValue({p: v for p, v, _ in Hash.flat_iterall(field)}, self.timestamp)
        from ._values import Value  # the kinds are below Value, which picks among them

        return Value(field, self.timestamp)

    def __dir__(self) -> list[str]:
        return sorted(set(self) | set(object.__dir__(self)))

    def __reduce__(self) -> Any:
        return Hash.__reduce__(self)
