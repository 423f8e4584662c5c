"""The client of a NeXus writer device: ctlshell's ``NexusWriter`` or an existing
NXSDataWriter, through the Tango interface only (pytango ``DeviceProxy``).

``DevFailed`` comes back as a one-sentence ctlshell error: bad input as
:class:`~ctlshell.core.ValidationError`, a command in the wrong state as
:class:`WriterStateError`, anything else as :class:`~ctlshell.core.CtlshellError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core import BackendUnavailableError, CtlshellError, ValidationError
from ._writer import WriterStateError

__all__ = ["WriterClient", "WriterStatus", "dumps_record"]


@dataclass(frozen=True)
class WriterStatus:
    """State, status line and file of a writer device."""

    device: str
    state: str
    status: str
    file_name: str

    def __str__(self) -> str:
        return f"{self.device}: {self.status}" if self.status.startswith(self.state) else \
            f"{self.device}: {self.state}: {self.status}"


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps_record(data: Mapping[str, Any] | str | None = None, triggers: list[str] | None = None) -> str:
    """A JSON record (``{"data": ..., "triggers": ...}``) from a dict of values or JSON text."""
    if data is None:
        data = {}
    if isinstance(data, str):
        try:
            obj = json.loads(data) if data.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValidationError(f"record is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        if isinstance(obj, dict) and "data" not in obj and "triggers" not in obj:
            obj = {"data": obj}  # %nxwrite record {"x": 1} means the values themselves
    else:
        obj = {"data": dict(data)}
    if triggers:
        obj["triggers"] = list(triggers)
    try:
        return json.dumps(obj, default=_default, allow_nan=True)
    except TypeError as exc:
        raise ValidationError(f"record: {exc}") from None


class WriterClient:
    """Drive a writer device with NXSDataWriter's commands.

    Parameters
    ----------
    device : str
        A pytango device name or address (``tango://127.0.0.1:PORT/ctlshell/nexus/writer#dbase=no``).
    timeout : float
        Seconds to wait for each call.
    """

    def __init__(self, device: str, timeout: float = 10.0) -> None:
        try:
            import tango
        except ImportError as exc:
            raise BackendUnavailableError("the NeXus writer client needs pytango: pip install pytango") from exc
        self._tango = tango
        self.device = device
        try:
            self.proxy = tango.DeviceProxy(device)
            self.proxy.set_timeout_millis(int(timeout * 1000))
        except tango.DevFailed as exc:
            raise CtlshellError(f"cannot reach the writer {device}: {exc.args[0].desc.strip()}") from None

    def _do(self, what: str, fn: Any, *args: Any) -> Any:
        tango = self._tango
        try:
            return fn(*args)
        except tango.DevFailed as exc:
            err = exc.args[0]
            reason, desc = err.reason, " ".join(err.desc.split())
            if reason == "NexusWriter_BadInput":
                raise ValidationError(desc) from None
            if reason in ("NexusWriter_WrongState", "API_CommandNotAllowed", "API_AttrNotAllowed"):
                raise WriterStateError(f"{what}: {desc}") from None
            raise CtlshellError(f"{what} failed on {self.device}: {desc}") from None

    def write(self, attribute: str, value: str) -> None:
        """Write ``FileName``, ``XMLSettings`` or ``JSONRecord``."""
        self._do(attribute, self.proxy.write_attribute, attribute, value)

    def command(self, name: str, *args: Any) -> Any:
        """Run ``OpenFile``, ``OpenEntry``, ``Record``, ``CloseEntry`` or ``CloseFile``."""
        return self._do(name, self.proxy.command_inout, name, *args)

    # -- the verbs of %nxwrite -------------------------------------------------------
    def open(self, file_name: str, xml: str) -> WriterStatus:
        """XMLSettings (checked first: bad XML creates no file), FileName, OpenFile."""
        state = str(self._do("State", self.proxy.state))
        if state != "ON":  # before anything is written: a refused open changes nothing
            raise WriterStateError(f"open: the writer {self.device} is {state} with "
                                   f"{self._do('FileName', self.proxy.read_attribute, 'FileName').value!r} open; "
                                   "close it first")
        self.write("XMLSettings", xml)
        self.write("FileName", file_name)
        self.command("OpenFile")
        return self.status()

    def entry(self, data: Mapping[str, Any] | str | None = None) -> WriterStatus:
        """JSONRecord (global values, e.g. a title) then OpenEntry (INIT)."""
        self.write("JSONRecord", dumps_record(data))
        self.command("OpenEntry")
        return self.status()

    def record(self, data: Mapping[str, Any] | str | None = None, triggers: list[str] | None = None) -> None:
        """One STEP with ``data`` as its CLIENT values."""
        self.command("Record", dumps_record(data, triggers))

    def close(self, data: Mapping[str, Any] | str | None = None) -> WriterStatus:
        """CloseEntry (FINAL values from ``data``) if an entry is open, then CloseFile."""
        if str(self._do("State", self.proxy.state)) == "EXTRACT":
            if data is not None:
                self.write("JSONRecord", dumps_record(data))
            self.command("CloseEntry")
        if str(self._do("State", self.proxy.state)) != "ON":
            self.command("CloseFile")
        return self.status()

    def status(self) -> WriterStatus:
        state = str(self._do("State", self.proxy.state))
        try:  # ctlshell's writer: its one-line summary; NXSDataWriter: its Status text
            status = self.proxy.read_attribute("Summary").value
        except Exception:
            status = self._do("Status", self.proxy.status)
        file_name = self._do("FileName", self.proxy.read_attribute, "FileName").value
        return WriterStatus(self.device, state, status, file_name or "")
