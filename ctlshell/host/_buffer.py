"""A fixed-size circular buffer of numbers for a device's acquisition: :class:`CircularBuffer`.

Preallocated once; appending never allocates or grows it. Thread-safe: the device
thread appends while other threads read the last N values. Knows numpy only.
"""

from __future__ import annotations

import operator
import threading
from typing import Any

import numpy as np

__all__ = ["CircularBuffer"]


class CircularBuffer:
    """The newest ``size`` values (each a scalar or a fixed-shape row).

    Parameters
    ----------
    size : int
        How many values it keeps.
    shape : tuple of int
        Shape of one value (``()`` for scalars).
    dtype : numpy dtype
    """

    def __init__(self, size: int, shape: tuple[int, ...] = (), dtype: Any = float) -> None:
        try:
            count = operator.index(size)
        except TypeError:
            count = 0
        if isinstance(size, bool) or count < 1:
            raise ValueError(f"buffer size must be a positive int, not {size!r}")
        self.size = count
        self._data = np.zeros((size, *shape), dtype=dtype)
        self._next = 0
        self.total = 0  # values ever appended
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return min(self.total, self.size)

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def append(self, value: Any) -> None:
        """Add one value, overwriting the oldest when full."""
        with self._lock:
            self._data[self._next] = value
            self._next = (self._next + 1) % self.size
            self.total += 1

    def extend(self, values: Any) -> None:
        """Add many values at once (only the newest ``size`` are kept)."""
        values = np.asarray(values, dtype=self._data.dtype)
        n = len(values)
        if n == 0:
            return
        with self._lock:
            self.total += n
            if n >= self.size:
                self._data[:] = values[-self.size:]
                self._next = 0
                return
            first = min(n, self.size - self._next)
            self._data[self._next:self._next + first] = values[:first]
            self._data[:n - first] = values[first:]
            self._next = (self._next + n) % self.size

    def last(self, n: int | None = None) -> np.ndarray:
        """A copy of the newest ``n`` values (all kept values by default), oldest first."""
        with self._lock:
            count = len(self) if n is None else max(0, min(int(n), len(self)))
            idx = (np.arange(self._next - count, self._next)) % self.size
            return self._data[idx].copy()

    def clear(self) -> None:
        with self._lock:
            self._next = 0
            self.total = 0

    def __repr__(self) -> str:
        return f"<CircularBuffer {len(self)}/{self.size}>"
