"""Karabo's :class:`Hash`: an ordered tree with per-key attributes and dotted paths.

Values are kept exactly as given, so numpy widths survive (``np.int32`` stays
Int32, ``np.int64`` Int64, ``np.float32`` Float); :meth:`Hash.type_of` names them.
Pure: no proxy, no server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Hash", "type_name"]

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


class Hash:
    """An ordered tree: ``h["a.b"] = 1`` creates node ``a``; ``h["a.b", "unit"] = "m"``
    sets an attribute; ``h["a.b", ...]`` is the live attribute dict.

    Parameters
    ----------
    *pairs
        Alternating keys and values, or one mapping.
    """

    def __init__(self, *pairs: Any) -> None:
        self._data: dict[str, Any] = {}
        self._attrs: dict[str, dict[str, Any]] = {}
        if len(pairs) == 1 and hasattr(pairs[0], "items"):
            pairs = tuple(x for kv in pairs[0].items() for x in kv)
        if len(pairs) % 2:
            raise ValueError("Hash takes pairs of key and value")
        for key, value in zip(pairs[::2], pairs[1::2]):
            self[key] = value

    def _node(self, path: str, create: bool) -> tuple[Hash, str]:
        if not isinstance(path, str) or not path:
            raise KeyError(f"a Hash key is a non-empty string, not {path!r}")
        *parents, leaf = path.split(".")
        node = self
        for name in parents:
            child = node._data.get(name)
            if not isinstance(child, Hash):
                if not create:
                    raise KeyError(path)
                child = Hash()
                node._data[name] = child
                node._attrs[name] = {}
            node = child
        return node, leaf

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, tuple):
            path, attr = key
            node, leaf = self._node(path, False)
            if leaf not in node._data:
                raise KeyError(path)
            node._attrs[leaf][attr] = value
            return
        node, leaf = self._node(key, True)
        node._data[leaf] = value
        node._attrs.setdefault(leaf, {})

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple):
            path, attr = key
            node, leaf = self._node(path, False)
            if leaf not in node._attrs:
                raise KeyError(path)
            return node._attrs[leaf] if attr is Ellipsis else node._attrs[leaf][attr]
        node, leaf = self._node(key, False)
        return node._data[leaf]

    def __delitem__(self, key: Any) -> None:
        if isinstance(key, tuple):
            path, attr = key
            node, leaf = self._node(path, False)
            del node._attrs[leaf][attr]
            return
        node, leaf = self._node(key, False)
        del node._data[leaf]
        del node._attrs[leaf]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def keys(self) -> list[str]:
        return list(self._data)

    def values(self) -> list[Any]:
        return list(self._data.values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._data.items())

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def paths(self, intermediate: bool = False) -> list[str]:
        """Every leaf path (with the nodes too when ``intermediate``), in order."""
        out: list[str] = []
        for key, value in self._data.items():
            if isinstance(value, Hash):
                if intermediate:
                    out.append(key)
                out.extend(f"{key}.{p}" for p in value.paths(intermediate))
            else:
                out.append(key)
        return out

    def type_of(self, path: str) -> str:
        """Karabo type name of the value at ``path`` (``INT32``, ``INT64``, ``DOUBLE``...)."""
        return type_name(self[path])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hash) or list(self._data) != list(other._data):
            return False
        return all(_same(self._data[k], other._data[k]) for k in self._data)

    def fully_equal(self, other: Hash) -> bool:
        """Equal values **and** attributes."""
        return self == other and all(
            self._attrs[k] == other._attrs[k] and (not isinstance(v, Hash) or v.fully_equal(other._data[k]))
            for k, v in self._data.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        lines = []
        for path in self.paths():
            attrs = self[path, ...]
            extra = f" {attrs}" if attrs else ""
            lines.append(f"  {path} {type_name(self[path])}: {self[path]!r}{extra}")
        return "<Hash\n" + "\n".join(lines) + ">" if lines else "<Hash>"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)
