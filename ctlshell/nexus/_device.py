"""The ``NexusWriter`` Tango device: NXSDataWriter's interface over :class:`FileWriter`.

Attributes ``FileName``, ``XMLSettings``, ``JSONRecord`` (read/write strings);
commands ``OpenFile``, ``OpenEntry``, ``Record(json)``, ``CloseEntry``, ``CloseFile``
(and ``OpenEntryAsynch``, ``RecordAsynch``, ``CloseEntryAsynch``, ``CanFail``,
``Errors`` for NXSDataWriter's clients);
State ON / OPEN / EXTRACT / FAULT and a Status line. Errors reach the client as
``DevFailed`` with reason ``NexusWriter_BadInput``, ``NexusWriter_WrongState`` or
``NexusWriter_Fault`` (HDF5 failed: state FAULT) and one sentence; a refused command changes
nothing. Files are written only under the data directory given to the server. Device
properties as NXSDataWriter's: ``MetadataOutput`` ("file": ``NAME.ENTRY.json`` at
CloseEntry) and ``DefaultCanFail`` (ctlshell's default False).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tango import AttrWriteType, DevState, Except
from tango.server import Device, attribute, command, device_property

from ..core import CtlshellError
from ._channel_source import ChannelReader
from ._db_source import DbReader
from ._sources import SourceReader
from ._tango_source import TangoReader
from ._writer import FileWriter, WriterStateError

__all__ = ["NexusWriter"]

_STATES = {"ON": DevState.ON, "OPEN": DevState.OPEN, "EXTRACT": DevState.EXTRACT, "FAULT": DevState.FAULT}
#: NXSDataWriter's Status texts, compared verbatim by its clients (ctlshell's detail: Summary)
_STATUS = {"ON": "Ready", "OPEN": "File Open", "EXTRACT": "Entry Open", "FAULT": "Error"}


class NexusWriter(Device):
    """A NeXus file writer with NXSDataWriter's Tango interface."""

    #: set by ``ctlshell nxwriter`` before the server starts (no database property needed)
    DATA_DIR = "."

    #: NXSDataWriter's property: "file" writes NAME.ENTRY.json (SciCat metadata) at CloseEntry
    MetadataOutput = device_property(dtype=str, default_value="")
    #: NXSDataWriter's property (its default True): CanFail at Init. ctlshell's default False
    #: fills no value unless asked; a CanFail the client set is kept across entries (NXSDataWriter
    #: returns to DefaultCanFail at CloseEntry, which with ctlshell's default would undo the client's True)
    DefaultCanFail = device_property(dtype=bool, default_value=False)

    def init_device(self) -> None:
        super().init_device()
        old = getattr(self, "writer", None)
        if old is not None and old.state != "ON":
            old.close_file()
        readers: dict[str, SourceReader] = {"TANGO": TangoReader(), "DB": DbReader(), "CHANNEL": ChannelReader()}
        self.writer = FileWriter(readers, data_dir=self.DATA_DIR)
        self.writer.can_fail = bool(self.DefaultCanFail)
        try:
            self.writer.metadata_output = self.MetadataOutput
        except CtlshellError as exc:  # the device runs; the property's problem is its Status and Errors
            self.writer.last_error = f"MetadataOutput property ignored: {exc}"
        self._last_state = self.writer.state
        self._sync()

    def delete_device(self) -> None:
        if self.writer.state != "ON":
            self.writer.close_file()

    def _sync(self) -> None:
        self.set_state(_STATES[self.writer.state])

    def dev_state(self) -> DevState:
        return _STATES[self.writer.state]

    def dev_status(self) -> str:
        return _STATUS[self.writer.state]

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            result = fn(*args)
            if self.writer.state != self._last_state:
                self._last_state = self.writer.state
                self._sync()
            return result
        except WriterStateError as exc:
            reason, text = "NexusWriter_WrongState", str(exc)
        except CtlshellError as exc:  # refused input or a source that failed: nothing written
            reason = "NexusWriter_Fault" if self.writer.state == "FAULT" else "NexusWriter_BadInput"
            text = str(exc)
        self.writer.last_error = text
        self._last_state = self.writer.state
        self._sync()
        Except.throw_exception(reason, text, f"NexusWriter.{what}")

    # -- attributes ----------------------------------------------------------------
    @attribute(dtype=str, access=AttrWriteType.READ_WRITE, doc="the file to write (inside the data directory)")
    def FileName(self) -> str:
        return self.writer.file_name

    @FileName.write
    def FileName(self, value: str) -> None:
        self._call("FileName", setattr, self.writer, "file_name", value)

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE, doc="the XML configuration of the next entry")
    def XMLSettings(self) -> str:
        return self.writer.xml

    @XMLSettings.write
    def XMLSettings(self, value: str) -> None:
        self._call("XMLSettings", setattr, self.writer, "xml", value)

    @attribute(dtype=str, access=AttrWriteType.READ_WRITE, doc="global JSON record: {\"data\": {name: value}}")
    def JSONRecord(self) -> str:
        return self.writer.json_record

    @JSONRecord.write
    def JSONRecord(self, value: str) -> None:
        self._call("JSONRecord", setattr, self.writer, "json_record", value)

    @attribute(dtype=str, doc="state, file, records written and the last error, in one line")
    def Summary(self) -> str:  # computed when asked, not on every Record
        return self.writer.status()

    @attribute(dtype=int, doc="records written in the open entry")
    def Records(self) -> int:
        return self.writer.records

    # NXSDataWriter clients (e.g. Sardana's recorder) also touch these
    @attribute(dtype=bool, access=AttrWriteType.READ_WRITE,
               doc="True: a failed source gives NXSDataWriter's fill value, marked FAILED/INVALID and logged in "
                   "/nexus_logs; False (ctlshell's default): the record is refused. The "
                   "DefaultCanFail property at Init")
    def CanFail(self) -> bool:
        return self.writer.can_fail

    @CanFail.write
    def CanFail(self, value: bool) -> None:
        self._call("CanFail", setattr, self.writer, "can_fail", bool(value))

    @attribute(dtype=int, access=AttrWriteType.READ_WRITE, doc="split into NAME_00001.h5 ... every N records "
               "(0: one file)")
    def StepsPerFile(self) -> int:
        return self.writer.steps_per_file

    @StepsPerFile.write
    def StepsPerFile(self, value: int) -> None:
        self._call("StepsPerFile", setattr, self.writer, "steps_per_file", value)

    @attribute(dtype=int, doc="index of the file being written when StepsPerFile splits (0: not split)")
    def CurrentFileId(self) -> int:
        return self.writer.current_file_id

    @attribute(dtype=bool, access=AttrWriteType.READ_WRITE, doc="the next OpenEntry, Record or CloseEntry "
               "reads and writes no values (INIT, the record, FINAL); reset by it")
    def SkipAcquisition(self) -> bool:
        return self.writer.skip_acquisition

    @SkipAcquisition.write
    def SkipAcquisition(self, value: bool) -> None:
        self.writer.skip_acquisition = bool(value)

    @attribute(dtype=(str,), max_dim_x=10000, doc="the last error and the CanFail failures since OpenFile")
    def Errors(self) -> list[str]:
        return ([self.writer.last_error] if self.writer.last_error else []) + self.writer.failures

    # -- commands ------------------------------------------------------------------
    @command
    def OpenFile(self) -> None:
        self._call("OpenFile", self.writer.open_file)

    @command
    def OpenEntry(self) -> None:
        self._call("OpenEntry", self.writer.open_entry)

    @command(dtype_in=str, doc_in="local JSON record: {\"data\": {name: value}, \"triggers\": [...]}")
    def Record(self, text: str) -> None:
        self._call("Record", self.writer.record, text)

    @command
    def CloseEntry(self) -> None:
        self._call("CloseEntry", self.writer.close_entry)

    @command
    def CloseFile(self) -> None:
        self._call("CloseFile", self.writer.close_file)

    # the *Asynch variants finish before they return (the state is never RUNNING), so a
    # client polling State for NXSDataWriter's asynchronous commands works unchanged
    @command
    def OpenEntryAsynch(self) -> None:
        self._call("OpenEntryAsynch", self.writer.open_entry)

    @command(dtype_in=str)
    def RecordAsynch(self, text: str) -> None:
        self._call("RecordAsynch", self.writer.record, text)

    @command
    def CloseEntryAsynch(self) -> None:
        self._call("CloseEntryAsynch", self.writer.close_entry)
