"""pytango client calls without re-reading the telemetry settings on every call.

Since pytango 10, every client method (``read_attribute``, ``write_attribute``,
``command_inout``...) is wrapped for OpenTelemetry. The wrapper re-reads the telemetry
configuration on *every* call (``_telemetry_runtime.refresh_from_env()``: eleven
``get_env_var`` calls through cppTango, which also looks in the tangorc files), about
150-200 us per call on this machine, against ~20 us of CPU for the read itself; and
when telemetry is off (the default) it then just calls the plain method.

Here the configuration is refreshed at most once per :data:`REFRESH_PERIOD` seconds;
while telemetry is off the plain method is called, while it is on (a user who set
``TANGO_TELEMETRY_ENABLE``) the traced one, so spans and context propagation are
exactly pytango's. This is the only module that knows pytango's instrumentation
internals; on a pytango without them every call goes to the public method.

pytango 10.3.2 stopped re-reading the configuration per call (its wrapper now checks a
flag, and its instrumentation moved to ``tango._internal``): there is nothing to skip
there, and every call goes to pytango's own method.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import tango

__all__ = ["REFRESH_PERIOD", "untraced", "telemetry_active"]

#: How often (seconds) the telemetry configuration is read again.
REFRESH_PERIOD = 1.0

def _refreshing_runtime() -> Any:
    """pytango's telemetry runtime where its wrapper refreshes it on every call, else None."""
    try:  # pytango 10.0 to 10.3.1
        from tango._instrumentation import _telemetry_runtime as runtime
    except ImportError:  # older pytango (no wrapper) or 10.3.2 and later (no refresh per call)
        return None
    return runtime if hasattr(runtime, "refresh_from_env") else None


_RUNTIME: Any = _refreshing_runtime()

_lock = threading.Lock()
_next_refresh = 0.0
_active = True


def telemetry_active() -> bool:
    """Whether pytango propagates telemetry now (refreshed at most once per period)."""
    global _next_refresh, _active
    if _RUNTIME is None:
        return True
    now = time.monotonic()
    if now >= _next_refresh:
        with _lock:
            if now >= _next_refresh:
                _RUNTIME.refresh_from_env()
                _active = bool(_RUNTIME.can_propagate_context())
                _next_refresh = now + REFRESH_PERIOD
    return _active


def _unwrap(public: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any] | None]:
    """(the traced function without green dispatch, the plain function or None)."""
    traced = getattr(public, "__wrapped__", public)  # green mode dispatch: synchronous proxies only call it
    if not getattr(traced, "__trace_kwargs__", False):  # not pytango's client_trace_wrapper
        return traced, None
    return traced, getattr(traced, "__wrapped__", None)


def untraced(public: Callable[..., Any]) -> Callable[..., Any]:
    """``public`` (an unbound ``DeviceProxy`` method) as a function of ``(proxy, *args)``
    that skips pytango's per-call telemetry refresh while telemetry is off.

    Only for proxies in synchronous green mode (ctlshell's own).
    """
    traced, plain = _unwrap(public)
    if plain is None or _RUNTIME is None:
        return traced

    def call(proxy: tango.DeviceProxy, *args: Any) -> Any:
        if telemetry_active():
            return traced(proxy, *args)
        return plain(proxy, *args)

    call.__name__ = getattr(plain, "__name__", "call")
    call.__doc__ = public.__doc__
    return call
