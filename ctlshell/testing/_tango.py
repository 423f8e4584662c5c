"""A Tango database and Tango device servers as subprocesses, on 127.0.0.1 only.

:class:`TangoDatabase` runs pytango's own database device server (``DataBaseds``)
on an SQLite file (docs/decisions/0005-embedded-tango-database.md), so names resolve
as at a facility without MySQL. :class:`TangoServer` runs the ctlshell test devices
(``ctlshell.testing._tango_devices``) registered in such a database, or without one
from a ``-file=`` database, reachable as ``tango://127.0.0.1:PORT/a/b/c/attr#dbase=no``.
:class:`TangoTestServer` runs Debian's C++ TangoTest (``sys/tg_test/1``) in such a
database: a real device server not written here.
pytango is imported only when a database is registered into, so importing
``ctlshell.testing`` never needs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping

from ._env import child_command, free_port
from ._process import ServerProcess

__all__ = ["TANGO_TEST_BINARY", "TangoDatabase", "TangoServer", "TangoTestServer", "tango_env", "tango_test_binary"]

#: Text each Tango server prints once it serves requests.
READY_TEXT = "Ready to accept request"
DEVICES_MODULE = "ctlshell.testing._tango_devices"


def tango_env(db_port: int | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment whose Tango clients and servers use the database on ``127.0.0.1:db_port``.

    Parameters
    ----------
    db_port : int, optional
        Port of the database; ``None`` removes ``TANGO_HOST`` (no database).
    base : mapping, optional
        Environment to start from (``os.environ`` by default).
    """
    env = dict(os.environ if base is None else base)
    env.pop("TANGO_HOST", None)
    if db_port is not None:
        env["TANGO_HOST"] = f"127.0.0.1:{db_port}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Process(ServerProcess):
    """A Tango server subprocess: ready when it says so."""

    def _spawn(self, args: list[str], env: dict[str, str], cwd: str | None,  # type: ignore[override]  # the ready text is fixed here
               timeout: float) -> None:
        super()._spawn(args, env, READY_TEXT, timeout, cwd)


class TangoDatabase(_Process):
    """pytango's SQLite Tango database (``DataBaseds 2``) on ``127.0.0.1:port``.

    Parameters
    ----------
    port : int, optional
        A free loopback port is chosen when omitted.
    """

    def __init__(self, port: int | None = None) -> None:
        super().__init__("ctlshell-tangodb-")
        self.port = port or free_port()
        self.directory = tempfile.mkdtemp(prefix="ctlshell-tangodb-")
        self.path = os.path.join(self.directory, "tango_database.db")

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the ``TANGO_HOST`` of this database."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> TangoDatabase:
        env = tango_env(self.port)
        env["PYTANGO_DATABASE_NAME"] = self.path
        # options before the instance name: what follows it is handed to Tango
        args = ["-m", "tango.databaseds.database", "--host", "127.0.0.1", "--port", str(self.port), "2"]
        self._spawn(args, env, self.directory, timeout)
        return self

    def register(self, server: str, devices: Mapping[str, str],
                 properties: Mapping[str, Mapping[str, object]] | None = None) -> None:
        """Register ``server`` (``Executable/instance``) with ``devices`` (name -> class).

        ``properties`` maps device names to device properties.
        """
        import tango

        db = tango.Database("127.0.0.1", self.port)
        for name, cls in devices.items():
            info = tango.DbDevInfo()
            info.name, info._class, info.server = name, cls, server
            db.add_device(info)
        for name, props in (properties or {}).items():
            db.put_device_property(name, dict(props))

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> TangoDatabase:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class TangoServer(_Process):
    """The ctlshell test device server (``CtlShellTest/INSTANCE``) on ``127.0.0.1:port``.

    Parameters
    ----------
    instance : str
        Server instance name; unique per test run so servers can run side by side.
    devices : mapping of str to str
        Device name -> class (``CtlTestDevice`` or ``CtlMotor``).
    database : TangoDatabase, optional
        Register the devices there and resolve them through it. Without one, the
        server runs from a ``-file=`` database and is reached with ``#dbase=no``.
    port : int, optional
        Its CORBA port (kept across restarts); a free one when omitted.
    """

    def __init__(self, instance: str, devices: Mapping[str, str], database: TangoDatabase | None = None,
                 port: int | None = None) -> None:
        super().__init__("ctlshell-tangods-")
        self.instance = instance
        self.devices = dict(devices)
        self.database = database
        self.port = port or free_port()
        self._registered = False
        self._file: str | None = None  # the -file= database when there is no database server

    @property
    def server(self) -> str:
        from ._tango_devices import SERVER

        return f"{SERVER}/{self.instance}"

    def address(self, device: str, member: str = "") -> str:
        """``tango://`` address of ``device`` (or of one of its attributes), by name when a
        database serves it, else as ``127.0.0.1:PORT/...#dbase=no``."""
        path = f"{device}/{member}" if member and "->" not in member else device + member
        if self.database is not None:
            return f"tango://{self.database.host}/{path}"
        return f"tango://127.0.0.1:{self.port}/{path}#dbase=no"

    def start(self, timeout: float = 30.0) -> TangoServer:
        args = ["-m", DEVICES_MODULE, self.instance, "-ORBendPoint", f"giop:tcp:127.0.0.1:{self.port}"]
        if self.database is not None:
            if not self._registered:  # once: a restart finds the devices there
                self.database.register(self.server, self.devices)
                self._registered = True
            env = tango_env(self.database.port)
        else:
            if self._file is None:
                self._file = self.log_path + ".db"
                with open(self._file, "w") as f:
                    for cls in sorted(set(self.devices.values())):
                        names = ", ".join(n for n, c in self.devices.items() if c == cls)
                        f.write(f"{self.server}/DEVICE/{cls}: {names}\n")
            args.append(f"-file={self._file}")
            env = tango_env(None)
        env["CTLSHELL_TANGO_CLASSES"] = ",".join(sorted(set(self.devices.values())))
        self._spawn(args, env, None, timeout)
        return self

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        super().close()
        if self._file:
            try:
                os.unlink(self._file)
            except OSError:
                pass

    def __enter__(self) -> TangoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Debian's ``tango-test`` package (TangoTest 9.3.4, the C++ reference device server).
TANGO_TEST_BINARY = "/usr/lib/tango/TangoTest"


def tango_test_binary() -> str | None:
    """The TangoTest executable (``$CTLSHELL_TANGOTEST`` or Debian's), or None when not installed."""
    path = os.environ.get("CTLSHELL_TANGOTEST") or TANGO_TEST_BINARY
    return path if os.access(path, os.X_OK) else shutil.which("TangoTest")


class TangoTestServer(ServerProcess):
    """Debian's C++ TangoTest device server, registered in a :class:`TangoDatabase`.

    It serves ``device`` (``sys/tg_test/1`` by default, TangoTest's usual name) as
    ``TangoTest/INSTANCE`` on ``127.0.0.1:port``; stopped by its own PID.

    Parameters
    ----------
    database : TangoDatabase
        TangoTest needs a database (it reads its device list and properties there).
    instance : str
        Server instance name.
    device : str
        The device name.
    port : int, optional
        Its CORBA port; a free one when omitted.
    properties : mapping, optional
        Device properties registered with the device.
    """

    def __init__(self, database: TangoDatabase, instance: str = "test", device: str = "sys/tg_test/1",
                 port: int | None = None, properties: Mapping[str, object] | None = None) -> None:
        super().__init__("ctlshell-tangotest-")
        self.database = database
        self.instance = instance
        self.device = device
        self.port = port or free_port()
        self.properties = dict(properties or {})
        self._registered = False

    @property
    def server(self) -> str:
        return f"TangoTest/{self.instance}"

    def address(self, member: str = "") -> str:
        """``tango://127.0.0.1:DBPORT/DEVICE[/attribute | ->Command]``."""
        sep = "" if not member or member.startswith("->") else "/"
        return f"tango://{self.database.host}/{self.device}{sep}{member}"

    def start(self, timeout: float = 30.0) -> TangoTestServer:
        binary = tango_test_binary()
        if binary is None:
            raise FileNotFoundError(f"TangoTest is not installed ({TANGO_TEST_BINARY}): apt-get install tango-test")
        if not self._registered:
            self.database.register(self.server, {self.device: "TangoTest"},
                                   {self.device: self.properties} if self.properties else None)
            self._registered = True
        # C++, not python: child_command's privilege drop without its interpreter
        cmd = child_command(binary, self.instance, "-ORBendPoint", f"giop:tcp:127.0.0.1:{self.port}")
        cmd.remove(sys.executable)
        offset = os.path.getsize(self.log_path)
        self.proc = subprocess.Popen(cmd, env=tango_env(self.database.port), stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"TangoTest exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if READY_TEXT in self.output()[offset:]:
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"TangoTest not ready within {timeout} s:\n{self.output()[-3000:]}")

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.start(timeout)

    def __enter__(self) -> TangoTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
