"""Acceptance 7: bad input raises a clear ctlshell error, changes nothing and leaves no
thread or task behind."""

from __future__ import annotations

import pytest

import ctlshell
from ctlshell.core import AddressError, ChannelTimeoutError, CtlshellError, ValidationError


@pytest.mark.parametrize("address, message", [
    ("", "empty address"),
    ("   ", "empty address"),
    ("foo://X", "unknown scheme 'foo'"),
    ("ca:/X", "write the scheme as 'scheme://name'"),
    ("ca://", "has no name"),
    ("ca://has space", "not allowed in a PV name"),
    ('ca://quote"d', "not allowed in a PV name"),
    ("tango://only/two", "malformed Tango address"),
    ("ca://" + "A" * 300, "the limit is 255"),
    (42, "must be a string"),
])
def test_malformed_addresses(no_leaks, address, message):
    for verb in (ctlshell.get, ctlshell.info, lambda a: ctlshell.put(a, 1.0),
                 lambda a: ctlshell.monitor(a, print)):
        with pytest.raises(AddressError, match=message):
            verb(address)


def test_wrong_value_types_and_limits_change_nothing(no_leaks, prefix):
    pv = ctlshell.host(prefix + "V", 1.0, limits=(0, 10), writable=True)
    text = ctlshell.host(prefix + "S", "ok", writable=True)
    try:
        addr = f"ca://{prefix}V"
        before = ctlshell.get(addr)
        for bad, message in [("abc", "is not a number"), ([1.0, 2.0], "expected one double"),
                             (11.0, "outside the control limits"), (None, "is not a number"),
                             ({"x": 1}, "is not a number")]:
            with pytest.raises(ValidationError, match=message):
                ctlshell.put(addr, bad, wait=True)
            with pytest.raises(ValidationError):
                pv.value = bad
        after = ctlshell.get(addr)
        assert (after.value, after.timestamp) == (before.value, before.timestamp)
        with pytest.raises(ValidationError, match="expected a string"):
            ctlshell.put(f"ca://{prefix}S", 5, wait=True)
        with pytest.raises(ValidationError, match="longer than"):
            ctlshell.put(f"ca://{prefix}S", "x" * 60, wait=True)
        assert ctlshell.get(f"ca://{prefix}S").value == "ok"
    finally:
        pv.remove()
        text.remove()


def test_unknown_pvs_time_out_cleanly(no_leaks, prefix):
    for verb in (lambda a: ctlshell.get(a, timeout=0.3), lambda a: ctlshell.info(a, timeout=0.3),
                 lambda a: ctlshell.put(a, 1, timeout=0.3)):
        with pytest.raises(ChannelTimeoutError, match="within 0.3 s"):
            verb(f"ca://{prefix}MISSING")
    with pytest.raises(CtlshellError, match="no local PV"):
        ctlshell.get(f"local://{prefix}MISSING")


def test_bad_timeouts_and_callbacks(no_leaks, prefix):
    with pytest.raises(ValidationError, match="timeout must be positive"):
        ctlshell.get(f"ca://{prefix}X", timeout=-1)
    with pytest.raises(ValidationError, match="callback must be callable"):
        ctlshell.monitor(f"ca://{prefix}X", "print")


def test_blocking_call_from_a_callback_raises_instead_of_deadlocking(prefix):
    """A monitor callback runs on its own thread, so blocking verbs work there;
    on the runtime thread itself they raise."""
    from ctlshell.api import session
    from ctlshell.core import RuntimeDeadlockError

    async def on_loop():
        with pytest.raises(RuntimeDeadlockError, match="runtime thread"):
            ctlshell.status()
        return True

    assert session().run(on_loop(), None, "deadlock check")
