"""tests/integration/leaks.py finds what a test leaves behind: a thread, a listening
socket, a socket in CLOSE_WAIT, a pending task; and not the session's own machinery."""

from __future__ import annotations

import socket
import threading
import time

from tests.integration import leaks


def no_tasks() -> None:
    return None


def test_a_thread_left_running_is_named() -> None:
    before = leaks.snapshot(no_tasks)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name="test-forgotten-thread", daemon=True)
    t.start()
    try:
        assert leaks.leaks(before, leaks.snapshot(no_tasks)) == ["threads left running: test-forgotten-thread"]
    finally:
        stop.set()
        t.join(10)
    assert leaks.wait_for_no_leaks(before, lambda: leaks.snapshot(no_tasks)) == []


def test_session_threads_are_not_leaks() -> None:
    before = leaks.snapshot(no_tasks)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name="ctlshell-tango_7", daemon=True)
    t.start()
    try:
        assert leaks.leaks(before, leaks.snapshot(no_tasks)) == []
    finally:
        stop.set()
        t.join(10)


def test_a_listener_and_a_half_closed_socket_are_named() -> None:
    before = leaks.snapshot(no_tasks)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    accepted, _ = server.accept()
    found = leaks.leaks(before, leaks.snapshot(no_tasks))
    assert found == [f"servers left listening in the test process: 127.0.0.1:{port}"]
    accepted.close()  # the peer goes; the client never closes: CLOSE_WAIT
    server.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = leaks.leaks(before, leaks.snapshot(no_tasks))
        if found:
            break
        time.sleep(0.05)
    assert len(found) == 1 and found[0].startswith("sockets never closed after their peer went (CLOSE_WAIT): "
                                                   f"127.0.0.1:{client.getsockname()[1]}->127.0.0.1:{port}"), found
    client.close()
    assert leaks.leaks(before, leaks.snapshot(no_tasks)) == []


def test_tasks_are_counted_by_name_and_session_tasks_skipped() -> None:
    before = leaks.snapshot(lambda: ["ctlshell-ca-server (_Context.run)", "Monitor.run_forever"])
    after = leaks.snapshot(lambda: ["ctlshell-ca-server (_Context.run)", "Monitor.run_forever",
                                    "Monitor.run_forever", "VirtualCircuit.command_queue_loop"])
    assert leaks.leaks(before, after) == ["runtime tasks left pending: Monitor.run_forever"]
