"""Every run recorded to NeXus through a writer device (ctlshell's ``NexusWriter``
or an existing NXSDataWriter), by its Tango interface only.

start + the primary descriptor -> ``OpenFile`` / ``OpenEntry`` with the configuration
made from them (or the user's own XML); each primary event -> ``Record``; stop ->
``CloseEntry`` with the exit status, ``CloseFile``. A writer that fails raises from
the callback, so the RunEngine ends the run at once (by default); what was recorded
before stays in the file (the writer flushes per record).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ._nexus_config import config_xml, entry_values, event_values

__all__ = ["NexusRecorder"]

log = logging.getLogger(__name__)


class NexusRecorder:
    """A RunEngine subscription that records every run to its own file.

    Parameters
    ----------
    writer : WriterClient or str, optional
        A writer device (client or address); default: ctlshell's writer started for
        this session under ``data_dir``.
    data_dir : str, optional
        Where a writer started here writes (default: the current directory).
    file_pattern : str
        The file of each run, formatted with the start document (``scan_id``, ``uid``...).
    xml : str, optional
        The user's own configuration instead of the one made from the documents.
    """

    def __init__(self, writer: Any = None, data_dir: str | None = None,
                 file_pattern: str = "scan_{scan_id:05d}.h5", xml: str | None = None) -> None:
        from .. import nexus

        self.data_dir = os.path.realpath(data_dir or os.getcwd())
        self._process = None
        if writer is None:
            self._process = nexus.start_writer(self.data_dir)
            writer = self._process.address
        self.writer = nexus.connect(writer) if isinstance(writer, str) else writer
        self.file_pattern = file_pattern
        self.xml = xml
        self.files: list[str] = []
        self._start_doc: dict[str, Any] = {}
        self._primary: str | None = None
        self._open = False
        self.token: Any = None  # the RunEngine subscription (record_runs)

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        handler = getattr(self, f"_{name}", None)
        if handler is not None:
            handler(doc)

    def _start(self, doc: dict[str, Any]) -> None:
        self._start_doc = doc
        self._primary = None
        self._open = False

    def _descriptor(self, doc: dict[str, Any]) -> None:
        if doc.get("name") != "primary" or self._open:
            return
        start = self._start_doc
        self._primary = doc["uid"]
        file_name = self.file_pattern.format(**start)
        self.writer.open(file_name, self.xml or config_xml(start, doc))
        self._open = True
        self.files.append(os.path.join(self.data_dir, file_name))
        self.writer.entry(entry_values(start))

    def _event(self, doc: dict[str, Any]) -> None:
        if self._open and doc.get("descriptor") == self._primary:
            self.writer.record(event_values(doc))

    def _stop(self, doc: dict[str, Any]) -> None:
        if self._open:
            self._open = False
            self.writer.close({"exit_status": str(doc.get("exit_status", ""))})

    def close(self) -> None:
        """Close what is open and stop a writer started here."""
        if self._open:
            try:
                self.writer.close({"exit_status": "abort"})
            except Exception:
                log.exception("closing the run's file failed")
            self._open = False
        if self._process is not None:
            self._process.stop()
            self._process = None
