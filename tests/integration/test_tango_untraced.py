"""pytango's per-call telemetry refresh is skipped while telemetry is off, and used
while it is on (``ctlshell.backends.tango._untraced``), against Debian's TangoTest.

pytango 10.3.2 no longer refreshes per call; there the module must step aside (every
call goes to pytango's own method), which the last test checks on any version."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator

import pytest
import tango

try:
    from tango import PyTangoUserWarning
except ImportError:  # pytango before 10.3.2 kept it private
    from tango._warnings import PyTangoUserWarning

import ctlshell
from ctlshell.backends.tango import _untraced


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts pytango's telemetry refreshes; starts with a fresh configuration read."""
    runtime = _untraced._RUNTIME
    if runtime is None:
        pytest.skip(f"pytango {tango.__version__} reads its telemetry settings once, not per call: "
                    "nothing to skip (test_the_module_steps_aside_where_pytango_needs_nothing_skipped)")
    count = [0]
    real = runtime.refresh_from_env
    here = threading.get_ident()  # other tests' event pumps and pollers may call pytango meanwhile

    def counting() -> None:
        if threading.get_ident() == here:
            count[0] += 1
        real()

    monkeypatch.setattr(runtime, "refresh_from_env", counting)
    monkeypatch.setattr(_untraced, "_next_refresh", 0.0)
    yield count
    monkeypatch.undo()
    _untraced._next_refresh = 0.0


def test_reads_writes_and_commands_do_not_refresh_telemetry_per_call(tangotest, refreshes):
    address = tangotest.address()
    bare = tango.DeviceProxy(address.removeprefix("tango://"))
    before = refreshes[0]
    bare.read_attribute("double_scalar")
    assert refreshes[0] == before + 1, "bare pytango refreshes on every call (what this module skips)"
    refreshes[0] = 0
    for _ in range(200):
        assert isinstance(ctlshell.get(f"{address}/double_scalar").value, float)
        bare.read_attribute("double_scalar")
    bare_calls = 200
    # ctlshell's reads (on this thread) add at most a refresh per period to bare pytango's one per call
    assert refreshes[0] - bare_calls <= 3, refreshes[0]
    # writes and commands (on the backend's threads) through the same plain methods still work
    ctlshell.put(f"{address}/long_scalar_w", 7)
    assert ctlshell.get(f"{address}/long_scalar_w").value == 7
    assert ctlshell.command(f"{address}->DevDouble")(3.0) == 3.0


def test_telemetry_switched_on_is_followed_within_the_period(tangotest, refreshes, monkeypatch):
    address = tangotest.address()
    ctlshell.get(f"{address}/double_scalar")
    assert not _untraced.telemetry_active()
    monkeypatch.setenv("TANGO_TELEMETRY_ENABLE", "on")
    monkeypatch.setattr(_untraced, "_next_refresh", 0.0)  # as if the period had passed
    with warnings.catch_warnings():  # pytango says once that no OpenTelemetry SDK is installed
        warnings.simplefilter("ignore", PyTangoUserWarning)
        assert _untraced.telemetry_active()
        # with telemetry on, every call goes through pytango's traced method again
        refreshes[0] = 0
        for _ in range(5):
            assert isinstance(ctlshell.get(f"{address}/double_scalar").value, float)
    assert refreshes[0] >= 5
    monkeypatch.delenv("TANGO_TELEMETRY_ENABLE")
    monkeypatch.setattr(_untraced, "_next_refresh", 0.0)
    assert not _untraced.telemetry_active()
    assert os.environ.get("TANGO_TELEMETRY_ENABLE") is None


def test_the_module_steps_aside_where_pytango_needs_nothing_skipped(tangotest):
    """On a pytango with the per-call refresh the plain method is wrapped; without it,
    ctlshell calls pytango's public method itself. Either way reads, writes and commands
    of the real device work."""
    public = tango.DeviceProxy.read_attribute
    used = _untraced.untraced(public)
    refreshing = getattr(getattr(tango, "_instrumentation", None), "_telemetry_runtime", None)
    if refreshing is not None and hasattr(refreshing, "refresh_from_env"):
        assert _untraced._RUNTIME is refreshing and used is not getattr(public, "__wrapped__", public)
    else:
        assert _untraced._RUNTIME is None and used is getattr(public, "__wrapped__", public)
    address = tangotest.address()
    ctlshell.put(f"{address}/long_scalar_w", 11)
    assert ctlshell.get(f"{address}/long_scalar_w").value == 11
    assert ctlshell.command(f"{address}->DevDouble")(2.5) == 2.5
