"""Real servers for the NeXus tests: a PostgreSQL cluster (Debian's binaries, a temp
data directory, 127.0.0.1 on a free port), a small Tango device server without
database, and SQLite files. Everything binds loopback and is stopped afterwards."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ctlshell.core import stop_process
from ctlshell.testing import free_port

THERMO = Path(__file__).with_name("nexus_thermo.py")


def _pg_bin() -> Path | None:
    for found in [shutil.which("initdb"), *sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)]:
        if found:
            return Path(found).parent
    return None


def postgres_cluster() -> Iterator[dict[str, str]]:
    """Start PostgreSQL on 127.0.0.1:PORT with a temp cluster; yields the DB source params.

    Raises
    ------
    FileNotFoundError
        No initdb/pg_ctl here (``apt-get install -y postgresql``).
    """
    bindir = _pg_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install -y postgresql")
    root = tempfile.mkdtemp(prefix="ctlshell-pg-")
    run_as: list[str] = []
    if os.getuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = str(free_port())
    data = os.path.join(root, "data")
    try:
        subprocess.run([*run_as, str(bindir / "initdb"), "-D", data, "-U", "ctlshell", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", data, "-l", os.path.join(root, "log"), "-w", "-t", "30",
                        "-o", f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
                              "-c fsync=off", "start"], check=True, capture_output=True, timeout=60)
        yield {"dbtype": "PGSQL", "hostname": "127.0.0.1", "port": port, "user": "ctlshell", "dbname": "postgres"}
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)
        shutil.rmtree(root, ignore_errors=True)


class ThermoServer:
    """``nexus_thermo.py``: a Tango device ``test/nexus/thermo`` without database."""

    def __init__(self) -> None:
        self.port = free_port()
        self.device = f"tango://127.0.0.1:{self.port}/test/nexus/thermo#dbase=no"
        self.proc = subprocess.Popen([sys.executable, str(THERMO), "thermo", "-nodb", "-dlist", "test/nexus/thermo",
                                      "-ORBendPoint", f"giop:tcp:127.0.0.1:{self.port}"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "Ready to accept request" in line:
                break
            if time.monotonic() > deadline:
                break
        if self.proc.poll() is not None:
            raise RuntimeError(f"thermo server exited: {self.proc.stdout.read()}")

    def stop(self) -> None:
        stop_process(self.proc)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class NXSDataWriterServer:
    """nxswriter's NXSDataWriter in a subprocess (``nexus_nxsdatawriter.py``), 127.0.0.1 only."""

    def __init__(self, threads: int | None = None) -> None:
        import tango

        self.port = free_port()
        self.device = f"tango://127.0.0.1:{self.port}/test/nxs/writer#dbase=no"
        args = [sys.executable, str(Path(__file__).with_name("nexus_nxsdatawriter.py")), str(self.port)]
        self.log = tempfile.TemporaryFile()  # a file, not a pipe: nobody has to drain what it prints
        self.proc = subprocess.Popen(args + ([str(threads)] if threads else []), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:  # it answers once server_run is going
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"NXSDataWriter exited: {self.log.read().decode(errors='replace')}")
            try:
                tango.DeviceProxy(self.device).ping()
                return
            except tango.DevFailed:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


def mariadb_server() -> Iterator[dict[str, str]]:
    """Start Debian's MariaDB on 127.0.0.1:PORT with a temp data directory (no grant
    tables: loopback only, thrown away afterwards); yields NXSDataWriter's MYSQL params.

    Raises
    ------
    FileNotFoundError
        No mariadbd / mariadb-install-db here (``apt-get install -y mariadb-server``).
    """
    daemon, install = shutil.which("mariadbd") or "/usr/sbin/mariadbd", shutil.which("mariadb-install-db")
    if not os.path.exists(daemon) or install is None:
        raise FileNotFoundError("MariaDB (mariadbd, mariadb-install-db) not found: apt-get install -y mariadb-server")
    root = tempfile.mkdtemp(prefix="ctlshell-mariadb-")
    data, sock, port = os.path.join(root, "data"), os.path.join(root, "sock"), free_port()
    user = ["--user=root"] if os.getuid() == 0 else []
    proc = None
    try:
        subprocess.run([install, f"--datadir={data}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", *user], check=True, capture_output=True, timeout=120)
        log = open(os.path.join(root, "log"), "wb")
        proc = subprocess.Popen([daemon, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
                                 "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-name-resolve",
                                 f"--pid-file={os.path.join(root, 'pid')}", *user], stdout=log, stderr=log)
        log.close()
        import socket

        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mariadbd did not start: {open(os.path.join(root, 'log')).read()[-2000:]}")
                time.sleep(0.2)
        yield {"dbtype": "MYSQL", "hostname": "127.0.0.1", "port": str(port), "user": "root", "dbname": "mysql"}
    finally:
        stop_process(proc, 30)
        shutil.rmtree(root, ignore_errors=True)
