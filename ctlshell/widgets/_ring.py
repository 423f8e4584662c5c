"""A fixed-length ring buffer of (time, value) points (pure numpy).

Its memory is allocated once: ``length`` points of two float64, whatever the rate.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["Ring"]


class Ring:
    """The newest ``length`` (x, y) points.

    Parameters
    ----------
    length : int
        Points kept; the oldest are overwritten.
    """

    def __init__(self, length: int) -> None:
        if not isinstance(length, int) or length < 2:
            raise ValueError(f"a ring buffer needs length >= 2, got {length!r}")
        self.length = length
        self._x = np.full(length, np.nan)
        self._y = np.full(length, np.nan)
        self._next = 0
        self.count = 0  # points ever appended
        self._lock = threading.Lock()

    def append(self, x: float, y: float) -> None:
        with self._lock:
            self._x[self._next] = x
            self._y[self._next] = y
            self._next = (self._next + 1) % self.length
            self.count += 1

    def __len__(self) -> int:
        return min(self.count, self.length)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the points, oldest first."""
        with self._lock:
            n = len(self)
            if self.count <= self.length:
                return self._x[:n].copy(), self._y[:n].copy()
            return (np.concatenate((self._x[self._next:], self._x[:self._next])),
                    np.concatenate((self._y[self._next:], self._y[:self._next])))

    @property
    def nbytes(self) -> int:
        return self._x.nbytes + self._y.nbytes
