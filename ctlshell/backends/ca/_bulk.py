"""Reading many CA channels at once, as libca's own users do (pyepics' ``caget_many``):
every channel is created (its search starts), and each one's read is requested as soon
as it is connected, with one flush per burst and one wake-up of the loop for the whole
batch, not one per channel.

aioca reads one channel per coroutine: its ``caget`` costs a task, a ``wait_for``
timer, two events, two cross-thread wake-ups of the loop and two flushes per channel.
At 10 000 channels served by pythonSoftIOC that made ``get_many`` 1.97 times
``caget_many``'s time (3.15 s against 1.60 s, ``make bench-scale``).

The channels are aioca's own (its channel cache, shared with ``caget``, ``caput`` and
``camonitor``). A scalar's answer is decoded by :mod:`._dbr` into a plain
:class:`~._dbr.Time` or :class:`~._dbr.Ctrl` (one ``struct.unpack``; a snapshot of
10 000 channels decodes 20 000 answers); any other answer is converted by
epicscorelibs, as aioca does, into the ``AugmentedValue`` ``aioca.caget`` returns. This module is
the one reach into aioca's ``get_channel`` and into libca's ``ca_array_get_callback``
for the CA backend, tested against the installed aioca by ``tests/unit/test_ca_bulk.py``.
It knows nothing of ctlshell's model.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import Sequence
from typing import Any

from .. import _dso  # noqa: F401  (first: epicscorelibs.path loads without setuptools)
import aioca
from aioca._catools import get_channel
from epicscorelibs.ca import cadef

from . import _dbr, _thread_state

__all__ = ["read_many"]



class _Answers:
    """The answers to one batch of reads, filled on libca's threads.

    The loop is woken once, when the last answer arrived; a read that has not
    answered when the caller stops waiting is ignored when it does.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, n: int) -> None:
        self.values: list[Any] = [None] * n
        self._loop = loop
        self._lock = threading.Lock()
        self._left = n
        self._closed = False
        self._all = loop.create_future()

    def arrived(self, index: int, value: Any) -> None:
        """One answer (any thread); the last wakes the loop."""
        with self._lock:
            if self._closed or self.values[index] is not None:
                return
            self.values[index] = value
            self._left -= 1
            last = self._left == 0
        if last:
            self._loop.call_soon_threadsafe(self._finish)

    def _finish(self) -> None:
        if not self._all.done():
            self._all.set_result(None)

    async def wait(self, timeout: float) -> list[Any]:
        """Every answer, or those in by ``timeout`` (the others stay ``None``)."""
        if self._left:
            try:
                await asyncio.wait_for(asyncio.shield(self._all), max(timeout, 0.0))
            except TimeoutError:
                pass
        with self._lock:
            self._closed = True
            return list(self.values)


@cadef.event_handler
def _on_answer(args: Any) -> None:  # pragma: no cover (libca's thread)
    """libca's callback of one read: convert here, as aioca does, and record it."""
    _thread_state.keep()
    answers, index, to_value, name, code, lean, channel, form = args.usr
    ctypes.pythonapi.Py_DecRef(args.usr)  # the reference taken when the read was sent
    if args.status == cadef.ECA_NORMAL:
        try:
            if lean is not None and args.type == code and args.count == 1:
                value = lean(args.raw_dbr)
            else:
                if to_value is None:  # a lean read answered otherwise (its PV changed meanwhile)
                    to_value = _dbr.converter(channel, form)
                value = to_value(args.raw_dbr, args.type, args.count)
        except Exception as exc:  # a value epicscorelibs cannot convert: that channel's error
            value = exc
    else:
        value = aioca.CANothing(name, args.status)
    answers.arrived(index, value)


def _request(answers: _Answers, index: int, name: str, channel: Any, form: int) -> Any:
    """Send the read of one connected channel; None when sent, else its failure."""
    try:
        code, lean, to_value = _dbr.request_of(channel, name, form)
        context = (answers, index, to_value, name, code, lean, channel, form)
        ctypes.pythonapi.Py_IncRef(context)  # libca holds it until the answer (argtypes: py_object)
        try:
            cadef.ca_array_get_callback(code, 0, channel, _on_answer, context)
        except BaseException:
            ctypes.pythonapi.Py_DecRef(context)
            raise
    except cadef.Disconnected:
        return aioca.CANothing(name, cadef.ECA_DISCONN)
    except cadef.CAException as exc:
        return aioca.CANothing(name, exc.status)
    return None


class _Batch:
    """One ``read_many``: sends each channel's read once it is connected.

    A channel not connected yet gets a listener in aioca's list of its connection
    listeners (what aioca's own subscriptions are), so its read goes out when its
    connection comes up, whatever the order; the reads sent by the callbacks the loop
    runs in one pass go out in one flush.
    """

    def __init__(self, names: Sequence[str], form: int, with_info: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self.names = names
        self.form = form
        self.answers = _Answers(self.loop, len(names))
        self.infos: list[Any] = [None] * len(names) if with_info else []
        self.channels = [get_channel(name) for name in names]  # every search starts now
        self.listeners: list[tuple[Any, _Listener]] = []
        self._flush_due = False

    def start(self) -> None:
        for index, channel in enumerate(self.channels):
            if channel.connected():
                self.send(index)
            else:
                listener = _Listener(self, index)
                channel._add_subscription(listener)  # noqa: SLF001 (aioca's connection listeners)
                self.listeners.append((channel, listener))
        cadef.ca_flush_io()
        self._flush_due = False

    def send(self, index: int) -> None:
        channel = self.channels[index]
        if self.infos:
            self.infos[index] = aioca.CAInfo(self.names[index], channel)
        failure = _request(self.answers, index, self.names[index], channel, self.form)
        if failure is not None:
            self.answers.arrived(index, failure)
        elif not self._flush_due:
            self._flush_due = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        cadef.ca_flush_io()

    def stop(self) -> None:
        for channel, listener in self.listeners:
            listener.batch = None
            try:
                channel._remove_subscription(listener)  # noqa: SLF001
            except KeyError:  # aioca purged the channel (and its listeners) meanwhile
                pass
        self.listeners = []


class _Listener:
    """Sends one channel's read of a batch when the channel connects (aioca calls
    ``_on_connect`` on the loop, and ``close`` when it purges the channel)."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: _Batch, index: int) -> None:
        self.batch: _Batch | None = batch
        self.index = index

    def _on_connect(self, connected: bool) -> None:
        batch = self.batch
        if connected and batch is not None:
            self.batch = None
            batch.send(self.index)

    def close(self) -> None:
        self.batch = None


async def read_many(names: Sequence[str], form: int, timeout: float,
                    with_info: bool = False) -> list[Any]:
    """Read every channel of ``names`` at once (on the loop aioca runs on).

    Parameters
    ----------
    names : sequence of str
        PV names (each at most once).
    form : int
        ``aioca.FORMAT_TIME`` or ``aioca.FORMAT_CTRL``.
    timeout : float
        Seconds for the whole batch: connection and read.
    with_info : bool
        Also give each channel's ``aioca.CAInfo`` (type, count, access, server).

    Returns
    -------
    list
        Per name, in order: the answer, a :class:`~._dbr.Time` or :class:`~._dbr.Ctrl`
        for a scalar, else the ``AugmentedValue`` (either as ``(answer, CAInfo)`` with
        ``with_info``), or an ``aioca.CANothing`` (``ECA_TIMEOUT`` for a channel that
        did not connect or answer in time), or the conversion's exception.
    """
    batch = _Batch(names, form, with_info)
    try:
        batch.start()
        values = await batch.answers.wait(timeout)
    finally:
        batch.stop()
    out: list[Any] = []
    for index, value in enumerate(values):
        if value is None:
            value = aioca.CANothing(names[index], cadef.ECA_TIMEOUT)
        if with_info and not isinstance(value, BaseException):
            value = (value, batch.infos[index])
        out.append(value)
    return out
