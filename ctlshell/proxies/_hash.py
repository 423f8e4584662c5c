"""Karabo's :class:`Hash`: an ordered ``dict`` tree with per-key attributes and dotted paths.

As Karabo's (``karabo.native.Hash``, 2.21): a ``dict`` subclass whose entries keep
value and attributes together; ``h["a.b"] = 1`` creates node ``a``; writing below a
leaf (``h["a.b"]`` after ``h["a"] = 1``) raises ``KeyError``; ``h["k", "attr"]`` is
one attribute and ``h["k", ...]`` the live attribute dict (assigning it replaces
them); ``==`` compares values and attributes in order; :meth:`Hash.fullyEqual`
ignores order. Values are kept exactly as given, so numpy widths survive (``np.int32``
stays INT32); :meth:`Hash.type_of` names them. Pure: no proxy, no server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["Hash", "HashElement", "HashMergePolicy", "is_equal", "type_name"]

SEPARATOR = "."
_MISSING = object()

_NUMPY_TYPES = {np.dtype(t): name for t, name in [
    (np.bool_, "BOOL"), (np.int8, "INT8"), (np.uint8, "UINT8"), (np.int16, "INT16"), (np.uint16, "UINT16"),
    (np.int32, "INT32"), (np.uint32, "UINT32"), (np.int64, "INT64"), (np.uint64, "UINT64"),
    (np.float32, "FLOAT"), (np.float64, "DOUBLE")]}


def type_name(value: Any) -> str:
    """Karabo's name of a value's type: ``INT32``, ``FLOAT``, ``VECTOR_DOUBLE``, ``HASH``..."""
    if isinstance(value, Hash):
        return "HASH"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):  # a Python int: Int32 when it fits, as Karabo would send it
        return "INT32" if -(2**31) <= value < 2**31 else "INT64"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, np.generic):
        return _NUMPY_TYPES.get(value.dtype, "UNKNOWN")
    if isinstance(value, np.ndarray):
        return "VECTOR_" + _NUMPY_TYPES.get(value.dtype, "UNKNOWN")
    if isinstance(value, (list, tuple)):
        return "VECTOR_STRING" if value and all(isinstance(v, str) for v in value) else "VECTOR_HASH"
    if value is None:
        return "NONE"
    return "UNKNOWN"


def hash_type_name(value: Any) -> str:
    """Karabo's HashType name of a value, as its Hash repr shows it: ``Int32``, ``VectorDouble``..."""
    words = type_name(value).split("_")
    return "".join({"UINT8": "UInt8", "UINT16": "UInt16", "UINT32": "UInt32", "UINT64": "UInt64"}.get(
        w, w.capitalize()) for w in words)


def is_equal(a: Any, b: Any) -> bool:
    """Equality that also works element-wise for arrays (False for unequal shapes)."""
    try:
        res = a == b
    except ValueError:
        return False
    if isinstance(res, np.ndarray) or (isinstance(res, Iterable) and not isinstance(res, (str, bytes))):
        return bool(np.all(res)) and np.shape(a) == np.shape(b)  # type: ignore[call-overload]  # numpy converts any iterable
    return bool(res)


class HashElement:
    """One entry of a :class:`Hash`: its value and its attribute dict; unpacks as ``data, attrs``."""

    __slots__ = ("data", "attrs")

    def __init__(self, data: Any, attrs: dict[str, Any]) -> None:
        self.data = data
        self.attrs = attrs

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HashElement):
            return NotImplemented
        return is_equal(self.data, other.data) and _attrs_equal(self.attrs, other.attrs)

    def __iter__(self) -> Iterator[Any]:
        yield self.data
        yield self.attrs

    def __repr__(self) -> str:
        return f"HashElement({self.data!r}, {self.attrs!r})"


def _attrs_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return list(a) == list(b) and all(is_equal(a[k], b[k]) for k in a)


class HashMergePolicy:
    """The attribute policies of :meth:`Hash.merge`."""

    MERGE_ATTRIBUTES = "merge"
    REPLACE_ATTRIBUTES = "replace"


class Hash(dict):
    """An ordered tree: ``h["a.b"] = 1`` creates node ``a``; ``h["a.b", "unit"] = "m"``
    sets an attribute; ``h["a.b", ...]`` is the live attribute dict.

    Parameters
    ----------
    *args
        Alternating keys and values (``Hash("a", 1, "b.c", 2)``), one mapping, or one Hash
        (copied with its attributes).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1:
            if isinstance(args[0], Hash):
                for key, value, attrs in args[0].iterall():
                    dict.__setitem__(self, key, HashElement(value, attrs))
                return
            if not hasattr(args[0], "items"):
                raise ValueError(f"Hash takes pairs of key and value, or one mapping, not {args[0]!r}")
            args = tuple(x for kv in args[0].items() for x in kv)
        if len(args) % 2:
            raise ValueError("Hash takes pairs of key and value")
        for key, value in zip(args[::2], args[1::2]):
            self.setElement(key, value, {})

    # -- paths ----------------------------------------------------------------------------
    def _path(self, path: str, auto: bool = False) -> tuple[Hash, str]:
        parts = str(path).split(SEPARATOR)
        node: Any = self
        for name in parts[:-1]:
            if auto and not dict.__contains__(node, name):
                dict.__setitem__(node, name, HashElement(Hash(), {}))
            node = dict.__getitem__(node, name).data
            if not isinstance(node, Hash):
                raise KeyError(path)
        return node, parts[-1]

    def _element(self, path: str) -> HashElement:
        if not isinstance(path, str):
            raise KeyError(path)
        node, leaf = self._path(path)
        return dict.__getitem__(node, leaf)

    # -- items ----------------------------------------------------------------------------
    def __setitem__(self, item: Any, value: Any) -> None:
        if isinstance(item, tuple):
            key, attr = item
            if attr is Ellipsis:
                if not isinstance(value, dict):
                    raise TypeError(f"h[{key!r}, ...] takes a dict of attributes, not {value!r}")
                self._element(key).attrs = value
            else:
                self._element(key).attrs[attr] = value
            return
        node, leaf = self._path(str(item), True)
        old = dict.get(node, leaf)
        dict.__setitem__(node, leaf, HashElement(value, old.attrs if old is not None else {}))

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, tuple):
            key, attr = item
            attrs = self._element(key).attrs
            return attrs if attr is Ellipsis else attrs[attr]
        return self._element(item).data

    def __delitem__(self, item: Any) -> None:
        if isinstance(item, tuple):
            key, attr = item
            del self._element(key).attrs[attr]
            return
        node, leaf = self._path(item)
        dict.__delitem__(node, leaf)

    def __contains__(self, key: object) -> bool:
        try:
            self._element(key)  # type: ignore[arg-type]  # a non-str key is a KeyError below
        except KeyError:
            return False
        return True

    def getElement(self, path: str) -> tuple[Any, dict[str, Any]]:  # noqa: N802 (Karabo's name)
        """``(value, attributes)`` of ``path``."""
        element = self._element(path)
        return element.data, element.attrs

    def setElement(self, key: str, value: Any, attrs: dict[str, Any]) -> None:  # noqa: N802
        """Set value and attributes of ``key`` at once."""
        if not isinstance(attrs, dict):
            raise TypeError(f"setElement takes a dict of attributes, not {attrs!r}")
        node, leaf = self._path(str(key), True)
        dict.__setitem__(node, leaf, HashElement(value, attrs))

    def pop(self, item: str, default: Any = _MISSING) -> Any:
        """Remove ``item`` and return its value; ``default`` (or ``KeyError``) when missing."""
        if item in self:
            value = self[item]
            del self[item]
            return value
        if default is _MISSING:
            raise KeyError(item)
        return default

    def get(self, item: str, default: Any = None) -> Any:
        try:
            return self[item]
        except KeyError:
            return default

    def setdefault(self, item: str, default: Any = None) -> Any:
        if item not in self:
            self[item] = default
        return self[item]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def copy(self) -> Hash:
        """A shallow copy (attributes dicts copied)."""
        out = Hash()
        for key, value, attrs in self.iterall():
            dict.__setitem__(out, key, HashElement(value, dict(attrs)))
        return out

    def values(self) -> list[Any]:  # type: ignore[override]  # Karabo's Hash: a list
        return [dict.__getitem__(self, k).data for k in self]

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]  # Karabo's: an iterator
        for key in list(dict.keys(self)):
            yield key, dict.__getitem__(self, key).data

    def iterall(self) -> Iterator[tuple[str, Any, dict[str, Any]]]:
        """``(key, value, attributes)`` of this level, in order."""
        for key in list(dict.keys(self)):
            element = dict.__getitem__(self, key)
            yield key, element.data, element.attrs

    @staticmethod
    def flat_iterall(hsh: Hash, base: str = "", empty: bool = False) -> Iterator[tuple[str, Any, dict[str, Any]]]:
        """``(path, value, attributes)`` of every leaf (with ``empty``: each node first, as an empty Hash)."""
        base = base + SEPARATOR if base else ""
        for key, value, attrs in hsh.iterall():
            path = base + key
            if isinstance(value, Hash):
                if empty:
                    yield path, Hash(), attrs
                yield from Hash.flat_iterall(value, path, empty)
            else:
                yield path, value, attrs

    # -- Karabo's named methods -----------------------------------------------------------------
    def set(self, item: str, value: Any) -> None:
        self[item] = value

    def has(self, item: str) -> bool:
        return item in self

    def erase(self, key: str) -> None:
        del self[key]

    def empty(self) -> bool:
        return len(self) == 0

    def getKeys(self, keys: list[str] | None = None) -> list[str] | None:  # noqa: N802
        """The keys of this level; with ``keys``, appended to that list (and None returned, as Karabo)."""
        if keys is None:
            return list(dict.keys(self))
        keys.extend(dict.keys(self))
        return None

    def setAttribute(self, item: str, key: str, value: Any) -> None:  # noqa: N802
        self[item, key] = value

    def getAttribute(self, item: str, key: str) -> Any:  # noqa: N802
        return self[item, key]

    def getAttributes(self, item: str) -> dict[str, Any]:  # noqa: N802
        return self[item, ...]

    def hasAttribute(self, item: str, key: str) -> bool:  # noqa: N802
        return key in self[item, ...]

    def merge(self, other: Hash, attribute_policy: str = "merge") -> None:
        """Merge ``other`` into this Hash: nodes recursively, leaves replaced; attributes
        merged (``"merge"``) or replaced (any other policy)."""
        for key, value in other.items():
            if isinstance(value, Hash):
                if key not in self or not isinstance(self[key], Hash):
                    self[key] = Hash()
                self[key].merge(value, attribute_policy)
            else:
                self[key] = value
            if attribute_policy == "merge":
                self[key, ...].update(other[key, ...])
            else:
                self[key, ...] = dict(other[key, ...])

    def paths(self, *, intermediate: bool = True) -> list[str]:
        """Every path, each node after its children (Karabo's order); only the leaves
        (an empty node counts as one) with ``intermediate=False``."""
        out: list[str] = []
        for key, value in self.items():
            if isinstance(value, Hash):
                if intermediate:
                    out.extend(f"{key}.{p}" for p in value.paths(intermediate=True))
                    out.append(key)
                elif value:
                    out.extend(f"{key}.{p}" for p in value.paths(intermediate=False))
                else:
                    out.append(key)
            else:
                out.append(key)
        return out

    def deepcopy(self) -> Hash:
        """A deep copy: values and attributes copied."""
        import copy

        return copy.deepcopy(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Hash:
        import copy

        out = Hash()
        memo[id(self)] = out
        for key, value, attrs in self.iterall():
            dict.__setitem__(out, key, HashElement(copy.deepcopy(value, memo), copy.deepcopy(attrs, memo)))
        return out

    def __copy__(self) -> Hash:
        return self.copy()

    def __reduce__(self) -> Any:
        return (_rebuild, (list(Hash.flat_iterall(self, empty=True)),))

    def type_of(self, path: str) -> str:
        """Karabo type name of the value at ``path`` (``INT32``, ``INT64``, ``DOUBLE``...)."""
        return type_name(self[path])

    # -- comparing ---------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        """Equal keys in the same order, equal values and equal attributes (Karabo's ``==``)."""
        if not isinstance(other, Hash):
            return dict(self.items()) == other if isinstance(other, dict) else NotImplemented
        if list(dict.keys(self)) != list(dict.keys(other)):
            return False
        return all(dict.__getitem__(self, k) == dict.__getitem__(other, k) for k in dict.keys(self))

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def fullyEqual(self, other: Hash) -> bool:  # noqa: N802
        """Equal paths, values and attributes, in any order."""
        if not isinstance(other, Hash):
            raise TypeError(f"fullyEqual compares two Hashes, not {other!r}")
        if sorted(self.paths()) != sorted(other.paths()):
            return False
        for key, value, attrs in Hash.flat_iterall(other, empty=True):
            if not isinstance(value, Hash) and not is_equal(value, self[key]):
                return False
            mine = self[key, ...]
            if sorted(mine) != sorted(attrs) or not all(is_equal(v, mine[k]) for k, v in attrs.items()):
                return False
        return True

    fully_equal = fullyEqual

    __hash__ = None

    # -- display ---------------------------------------------------------------------------------
    def __str__(self) -> str:
        return "<" + ", ".join(f"{k}{self[k, ...]!r}: {self[k]!r}" for k in self) + ">"

    def __repr__(self) -> str:
        if not self:
            return "<>"

        def lines(h: Hash, n: int) -> Iterator[str]:
            for key, value, attrs in h.iterall():
                if isinstance(value, Hash):
                    yield "  " * n + f"{key}{attrs!r}\n"
                    yield from lines(value, n + 2)
                else:
                    yield "  " * n + f"{key}{attrs!r}: {value!r} => {hash_type_name(value)}\n"

        return f"<\n{''.join(lines(self, 0))}>"


def _rebuild(entries: list[tuple[str, Any, dict[str, Any]]]) -> Hash:
    out = Hash()
    for key, value, attrs in entries:
        out.setElement(key, value, attrs)
    return out
