"""Time and background work: a cancellable ``sleep`` that takes time units, and
``background`` for coroutines and plain functions (the latter in worker threads).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..core import ValidationError
from ._sync import Future, run
from ._units import seconds

__all__ = ["background", "sleep"]

log = logging.getLogger(__name__)
_workers = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="ctlshell-background")


def sleep(delay: Any, result: Any = None, *, timeout: Any = None, wait: bool = True) -> Any:
    """Sleep ``delay`` seconds (or a time quantity: ``sleep(200 * unit.ms)``); cancellable.
    Returns ``result`` (as Karabo's and asyncio's).

    Raises
    ------
    pint.DimensionalityError
        For a quantity that is not a time.
    """
    secs = seconds(delay)
    if secs is None or not secs >= 0:
        raise ValidationError(f"sleep needs a delay >= 0, not {delay!r}")
    return run(asyncio.sleep(secs, result), timeout=timeout, wait=wait, what=f"sleep {secs:g} s")


def background(fn: Any, *args: Any, timeout: Any = None) -> Future:
    """Run a coroutine function, a coroutine or a plain function (in a worker thread,
    where verbs block as usual) in the background; returns its :class:`Future`.
    An exception is logged and raised again by ``future.wait()``."""
    coro: Coroutine[Any, Any, Any]
    if inspect.iscoroutine(fn):
        coro = fn
    elif inspect.iscoroutinefunction(fn):
        coro = fn(*args)
    elif callable(fn):
        coro = _in_thread(fn, args, {})
    else:
        raise ValidationError(f"background needs a function or coroutine, not {fn!r}")
    name = getattr(fn, "__qualname__", repr(fn))
    return run(_logged(coro, name), timeout=timeout, wait=False, what=f"background {name}")


async def _in_thread(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_workers, functools.partial(fn, *args, **kwargs))


async def _logged(coro: Any, name: str) -> Any:
    try:
        return await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("error in background task %s", name)
        raise
