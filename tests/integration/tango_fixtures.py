"""Fixtures that start the embedded Tango database and the ctlshell test device
servers as subprocesses on 127.0.0.1, and an independent pytango client in
another process."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ctlshell.testing import TangoDatabase, TangoServer, TangoTestServer, child_command, tango_env, tango_test_binary

from ..conftest import TANGO_DB_PORT

CLIENT = Path(__file__).with_name("pytango_client.py")
#: the two ways a test reaches a device: by name through the database, or directly
MODES = ("db", "nodb")


@pytest.fixture(scope="session")
def tango_db() -> Iterator[TangoDatabase]:
    """The run's Tango database (SQLite) on the TANGO_HOST port chosen in tests/conftest.py."""
    db = TangoDatabase(TANGO_DB_PORT).start()
    yield db
    db.close()


#: device properties TangoTest is registered with (listed back by the database tests)
TANGOTEST_PROPERTIES = {"beamline": "BL-T", "gains": ["1", "2", "4"]}


@pytest.fixture(scope="session")
def tangotest(tango_db: TangoDatabase) -> Iterator[TangoTestServer]:
    """Debian's C++ TangoTest as ``sys/tg_test/1`` in the run's database (skipped when not installed)."""
    if tango_test_binary() is None:
        pytest.skip("TangoTest is not installed (make tango-test, or apt-get install tango-test)")
    server = TangoTestServer(tango_db, instance=f"t{uuid.uuid4().hex[:8]}", properties=TANGOTEST_PROPERTIES)
    server.start()
    yield server
    server.close()


def _devices(uid: str) -> dict[str, str]:
    return {f"test/ctl{uid}/dev": "CtlTestDevice", f"test/ctl{uid}/motor": "CtlMotor"}


@pytest.fixture(scope="module", params=MODES)
def tango_server(request: pytest.FixtureRequest) -> Iterator[TangoServer]:
    """A test device server (a CtlTestDevice and a CtlMotor with unique names), registered
    in the database ("db") or reached with #dbase=no ("nodb")."""
    uid = uuid.uuid4().hex[:8]
    db = request.getfixturevalue("tango_db") if request.param == "db" else None
    server = TangoServer(f"t{uid}", _devices(uid), database=db).start()
    server.uid = uid  # type: ignore[attr-defined]
    yield server
    server.close()


@pytest.fixture
def tango_servers(tango_db: TangoDatabase) -> Iterator[Callable[..., TangoServer]]:
    """Start servers of the test's own (to kill them, say); all are stopped after the test."""
    started: list[TangoServer] = []

    def start(mode: str = "db") -> TangoServer:
        uid = uuid.uuid4().hex[:8]
        server = TangoServer(f"t{uid}", _devices(uid), database=tango_db if mode == "db" else None)
        server.uid = uid  # type: ignore[attr-defined]
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.close()


def device(server: TangoServer, kind: str = "dev") -> str:
    return f"test/ctl{server.uid}/{kind}"  # type: ignore[attr-defined]


def pytango_client(server: TangoServer, *args: str, timeout: float = 60.0) -> Any:
    """Run the bare pytango client in another process on ``server``; returns its JSON answer."""
    url = server.address(device(server)).removeprefix("tango://")
    env = tango_env(server.database.port if server.database else None)
    proc = subprocess.run(child_command(str(CLIENT), url, *args), env=env, capture_output=True, text=True,
                          timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"pytango client failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(lines[-1][2:])
