"""Tango ``DevFailed`` -> ctlshell errors, with the Tango reason and text in one line.

Pure: reads the ``args`` (a stack of ``DevError``) of an exception by duck typing.
The first DevError is where the failure started, so its reason leads the line.
"""

from __future__ import annotations

from typing import Any

from ...core import (
    ChannelTimeoutError,
    CtlshellError,
    DeviceError,
    DisconnectedError,
    NotFoundError,
    PutRefusedError,
    ValidationError,
)

__all__ = ["CONNECTION_REASONS", "describe", "reasons", "to_error"]

#: Reasons that mean "the device (or its database) cannot be reached".
CONNECTION_REASONS = frozenset({
    "API_CantConnectToDevice", "API_DeviceNotExported", "API_CorbaException", "API_ServerNotRunning",
    "API_CantConnectToDatabase", "API_EventTimeout", "API_CommunicationFailed", "API_ConnectionFailed",
    "API_DServerTimedOut", "TRANSIENT_ConnectFailed", "TRANSIENT_CallTimedout", "TRANSIENT_NoUsableProfile",
    "TRANSIENT", "COMM_FAILURE", "API_ZmqInitFailed", "API_DeviceNotDefined",
})
_NOT_FOUND = frozenset({"DB_DeviceNotDefined", "API_AttrNotFound", "API_CommandNotFound",
                        "API_AttrNotAllowed", "API_DeviceNotDefined"})
_TIMEOUT = frozenset({"API_DeviceTimedOut", "TRANSIENT_CallTimedout"})
_REFUSED = frozenset({"API_AttrNotWritable", "API_WAttrOutsideLimit", "API_IncompatibleAttrArgumentType",
                      "API_AttrOptProp", "API_CommandNotAllowed", "API_IncompatibleCmdArgumentType"})


def _errors(exc: Any) -> list[Any]:
    """The DevError stack of a DevFailed, or of an event's ``errors`` sequence."""
    stack = exc if isinstance(exc, (list, tuple)) else getattr(exc, "args", ())
    return [e for e in stack if hasattr(e, "reason")]


def reasons(exc: Any) -> list[str]:
    """Every Tango reason in the error stack (a DevFailed or an event's ``errors``), innermost first."""
    return [str(e.reason) for e in _errors(exc)]


def describe(exc: Any) -> str:
    """``REASON: description`` of the innermost error, plus the outermost reason when it differs."""
    stack = _errors(exc)
    if not stack:
        return " ".join(str(exc).split())
    first, last = stack[0], stack[-1]
    line = f"{first.reason}: {' '.join(str(first.desc).split())}"
    if last is not first and last.reason != first.reason:
        line += f" ({last.reason})"
    return line


def to_error(exc: Any, where: str, verb: str, timeout: float | None = None) -> CtlshellError:
    """The ctlshell error for a DevFailed raised by ``verb`` on ``where`` (a tango:// address)."""
    found = set(reasons(exc))
    text = describe(exc)
    if found & _TIMEOUT:
        within = f" within {timeout} s" if timeout else ""
        return ChannelTimeoutError(f"{where}: no answer to {verb}{within} ({text})")
    if found & _NOT_FOUND and not found & CONNECTION_REASONS - {"API_DeviceNotDefined"}:
        return NotFoundError(f"{where}: not found ({text})")
    if found & CONNECTION_REASONS:
        return DisconnectedError(f"{where}: cannot reach the device for {verb} ({text})")
    if found & _REFUSED:
        if verb == "put":
            return PutRefusedError(f"{where}: the device refused the write ({text})")
        if "API_IncompatibleCmdArgumentType" in found:
            return ValidationError(f"{where}: the device refused the argument ({text})")
    return DeviceError(f"{where}: {verb} failed ({text})")
