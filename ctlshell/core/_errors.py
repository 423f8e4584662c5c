"""The ctlshell error hierarchy.

Every error ctlshell raises on purpose inherits from :class:`CtlshellError` and from
the builtin a Python user would expect (``TimeoutError``, ``ValueError``, ...), so
``except TimeoutError`` keeps working. This module knows nothing of any protocol.
"""

from __future__ import annotations

__all__ = [
    "AddressError",
    "BackendUnavailableError",
    "ChannelTimeoutError",
    "MotionInterrupted",
    "CtlshellError",
    "DeviceError",
    "DisconnectedError",
    "NotFoundError",
    "PutRefusedError",
    "RuntimeClosedError",
    "RuntimeDeadlockError",
    "ValidationError",
]


class CtlshellError(Exception):
    """Base of every error ctlshell raises on purpose."""


class AddressError(CtlshellError, ValueError):
    """An address could not be parsed (unknown scheme, empty or malformed name)."""


class ValidationError(CtlshellError, ValueError):
    """A value was refused before anything changed: wrong type, outside limits, not a choice."""


class ChannelTimeoutError(CtlshellError, TimeoutError):
    """A channel did not connect or answer within the timeout."""


class DisconnectedError(CtlshellError, ConnectionError):
    """The server of a channel went away while an operation was in flight."""


class PutRefusedError(CtlshellError, RuntimeError):
    """The server refused a write (read-only, out of its limits, or its own check failed)."""


class DeviceError(CtlshellError, RuntimeError):
    """The device answered with an error of its own (a Tango DevFailed: a command refused
    in its state, a failing read); the message keeps the device's reason and text."""


class NotFoundError(CtlshellError, KeyError):
    """A name is not known where it must be (an unknown ``local://`` PV, say)."""

    def __str__(self) -> str:  # KeyError quotes its argument; a sentence reads better
        return str(self.args[0]) if self.args else ""


class BackendUnavailableError(CtlshellError, ImportError):
    """The library a scheme needs is not installed; the message says how to install it."""


class RuntimeDeadlockError(CtlshellError, RuntimeError):
    """A blocking call was made on the runtime thread, where it would wait for itself."""


class RuntimeClosedError(CtlshellError, RuntimeError):
    """The runtime has been shut down."""


class MotionInterrupted(KeyboardInterrupt):
    """Ctrl-C (a KeyboardInterrupt) while waiting for a write that sets something moving:
    raised after ctlshell tried to stop it; the message says what it did."""
