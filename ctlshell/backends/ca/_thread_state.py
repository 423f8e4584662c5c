"""libca's threads keep their Python thread state from one callback to the next.

libca calls back on threads of its own (a circuit's receive thread, the search
thread). For a thread Python did not start, every ctypes callback creates a Python
thread state on entry and destroys it on return: at 10 000 answers that was half the
CPU of a batch read (a warm read of 10 000 channels: 0.43–0.51 s, 0.18–0.20 s with the
state kept). :func:`keep` takes one more reference to the calling thread's state
(``PyGILState_Ensure``, never released), so the state outlives the callback and the
next callback on that thread only takes the GIL. aioca's callbacks on a thread kept so
gain as well.

The cost: one thread state (a few KiB) per libca thread that ever called back, kept
after that thread ends (a circuit's receive thread ends with its circuit).
"""

from __future__ import annotations

import ctypes
import threading

__all__ = ["keep"]

_ensure = ctypes.pythonapi.PyGILState_Ensure


class _Kept(threading.local):
    kept = False  # per thread state: a new thread (or a state ctypes just made) starts False


_local = _Kept()


def keep() -> None:
    """Keep the calling thread's Python thread state (call it inside a libca callback).

    Cheap when already kept: one thread-local attribute read."""
    if not _local.kept:
        _local.kept = True  # stored in this thread state, which now lives on
        _ensure()  # the state's count goes 1 -> 2; ctypes' release on return leaves it 1
