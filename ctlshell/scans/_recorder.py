"""Every run recorded to NeXus through a writer device (ctlshell's ``NexusWriter``
or an existing NXSDataWriter), by its Tango interface only.

start + the primary descriptor -> ``OpenFile`` / ``OpenEntry`` with the configuration
made from them (or the user's own XML); each primary event -> ``Record``; stop ->
``CloseEntry`` with the exit status, ``CloseFile``.

``Record`` is off the RunEngine's critical path: events are queued (in order, a
bounded queue) to one recording thread, so a plan does not wait for the writer's
round trip and HDF5 write of each point. A writer that fails is raised from the
next document the RunEngine hands the recorder (the next event, at the latest the
stop), so the run ends then (by default); stop waits until every queued point is
recorded before ``CloseEntry``, so nothing taken is lost; what was recorded before a
failure stays in the file (the writer flushes per record).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Any

from ._nexus_config import config_xml, entry_values, event_values

__all__ = ["NexusRecorder", "RecordingError"]

#: Points queued to the recording thread at most (a plan faster than the writer then waits).
QUEUE_SIZE = 1000

log = logging.getLogger(__name__)


class RecordingError(RuntimeError):
    """The writer failed to record a point of the run (the run ends; see the message)."""


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
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(QUEUE_SIZE)
        self._failure: BaseException | None = None
        self._worker: threading.Thread | None = None
        self._failed_run = False  # the writer failed in this run (closing it is then best effort)

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        self._raise_failure()
        handler = getattr(self, f"_{name}", None)
        if handler is not None:
            handler(doc)

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            self._failed_run = True
            raise RecordingError(f"recording the run to NeXus failed: {failure}") from failure

    # -- the recording thread -------------------------------------------------------
    def _record_queued(self) -> None:
        while True:
            values = self._queue.get()
            try:
                if values is None:
                    return
                if self._failure is None:  # after a failure, points are not sent (the run is ending)
                    self.writer.record(values)
            except BaseException as exc:  # noqa: BLE001 -- handed to the RunEngine's thread
                self._failure = exc
                log.error("recording a point failed: %s", exc)
            finally:
                self._queue.task_done()

    def _start_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._record_queued, name="ctlshell-nexus-record", daemon=True)
            self._worker.start()

    def _drain(self) -> None:
        """Wait until every queued point is recorded (or failed)."""
        if self._worker is not None and self._worker.is_alive():
            self._queue.join()

    def _start(self, doc: dict[str, Any]) -> None:
        self._start_doc = doc
        self._primary = None
        self._open = False
        self._failed_run = False

    def _descriptor(self, doc: dict[str, Any]) -> None:
        if doc.get("name") != "primary" or self._open:
            return
        start = self._start_doc
        self._primary = doc["uid"]
        file_name = self.file_pattern.format(**start)
        self._start_worker()
        self.writer.open(file_name, self.xml or config_xml(start, doc))
        self._open = True
        self.files.append(os.path.join(self.data_dir, file_name))
        self.writer.entry(entry_values(start))

    def _event(self, doc: dict[str, Any]) -> None:
        if self._open and doc.get("descriptor") == self._primary:
            self._queue.put(event_values(doc))

    def _stop(self, doc: dict[str, Any]) -> None:
        if self._open:
            self._drain()  # every point taken is in the file before the entry closes
            self._open = False
            failed = self._failure is not None or self._failed_run
            try:
                self.writer.close({"exit_status": "fail" if failed else str(doc.get("exit_status", ""))})
            except Exception:
                if not failed:
                    raise
                log.warning("closing the run's file after the writer failed did not work either", exc_info=True)
            self._raise_failure()

    def close(self) -> None:
        """Record what is queued, close what is open, end the recording thread and stop
        a writer started here."""
        self._drain()
        if self._worker is not None and self._worker.is_alive():
            self._queue.put(None)
            self._worker.join(10)
        self._worker = None
        if self._open:
            try:
                self.writer.close({"exit_status": "abort"})
            except Exception:
                log.exception("closing the run's file failed")
            self._open = False
        if self._process is not None:
            self._process.stop()
            self._process = None
