"""Clients that vanish at any moment leave the hosted CA server clean.

A ctlshell process hosts a flooded scalar, a flooded 1000-double waveform and a
writable PV. A hundred raw CA clients (caproto's sans-I/O protocol over plain
sockets) connect, subscribe, some write, some never read, and each disconnects at a
random moment: after a random delay, right after a put, with a reset instead of a
close. The server process must print nothing on stderr (no "Task exception was
never retrieved"), leave no task of a closed client on its loop, and still serve a
fresh client at the end.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import subprocess
import threading
import time
import traceback

import caproto as ca

import ctlshell
from ctlshell.testing import child_command, free_port, loopback_env

CLIENTS = 100
WORKERS = 10

SERVER = r"""
import gc, json, sys, threading, time
import numpy as np
import ctlshell
from ctlshell.api import session
P = sys.argv[1]
scalar = ctlshell.host(P + "S", 0.0)
wave = ctlshell.host(P + "W", np.zeros(1000))
ctlshell.host(P + "RW", 0.0, writable=True)
server = session().ca_server()
loop = session().runtime.loop
stop = threading.Event()
def flood():
    i, data = 0, np.zeros(1000)
    while not stop.is_set():
        i += 1
        data = data.copy(); data[0] = i
        scalar.value = float(i)
        wave.value = data
threading.Thread(target=flood, daemon=True).start()
print(json.dumps({"port": server.port}), flush=True)
sys.stdin.readline()  # the clients are done
stop.set()
time.sleep(1.0)  # let the server notice the last disconnects
gc.collect()  # "Task exception was never retrieved" is printed when a task is collected
def census():
    import asyncio
    circuits = len(server._ctx.circuits)
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    return circuits, sorted(getattr(t.get_coro(), "__qualname__", repr(t)) for t in tasks)
import concurrent.futures
fut = concurrent.futures.Future()
loop.call_soon_threadsafe(lambda: fut.set_result(census()))
circuits, tasks = fut.result(10)
print(json.dumps({"circuits": circuits, "tasks": tasks}), flush=True)
sys.stdin.readline()
gc.collect()
ctlshell.shutdown()
"""


class _RawClient:
    """One CA client speaking caproto's sans-I/O protocol over a blocking socket."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.circuit = ca.VirtualCircuit(ca.CLIENT, ("127.0.0.1", port), 0)
        self.send(ca.VersionRequest(priority=0, version=13), ca.HostNameRequest("test"),
                  ca.ClientNameRequest("test"))

    def send(self, *commands: object) -> None:
        self.sock.sendall(b"".join(self.circuit.send(*commands)))

    def pump(self) -> list[object]:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed")
        commands, _ = self.circuit.recv(data)
        for command in commands:
            self.circuit.process_command(command)
        return commands

    def connect(self, name: str) -> ca.ClientChannel:
        chan = ca.ClientChannel(name, self.circuit)
        self.send(chan.create())
        deadline = time.monotonic() + 10
        while chan.states[ca.CLIENT] is not ca.CONNECTED:
            assert time.monotonic() < deadline, f"{name} did not connect"
            self.pump()
        return chan

    def vanish(self, reset: bool) -> None:
        if reset:  # an RST, as from a killed process, instead of an orderly close
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def _one_client(port: int, prefix: str, rng: random.Random) -> str:
    client = _RawClient(port)
    try:
        chans = [client.connect(prefix + name) for name in ("S", "W", "RW")]
        for chan in chans[:2]:
            client.send(chan.subscribe(data_type=ca.ChannelType.TIME_DOUBLE))
        mode = rng.choice(["read", "idle", "put", "put-now"])
        until = time.monotonic() + rng.uniform(0.0, 0.4)
        while time.monotonic() < until:
            if mode == "read":
                client.pump()
            elif mode == "put":
                client.send(chans[2].write([rng.random()], notify=True))
                client.pump()
            else:
                time.sleep(0.01)  # never reads: the server's sends back up
        if mode == "put-now":
            client.send(chans[2].write([1.0], notify=True))  # gone before the answer
        client.vanish(reset=rng.random() < 0.5)
        return mode
    except BaseException:
        client.vanish(reset=True)
        raise


def test_hundred_clients_vanishing_mid_flood_and_mid_put_leave_no_error_and_no_task(prefix):
    port = free_port()
    env = loopback_env(ca_server_port=port, ca_search_ports=[port])
    env["CTLSHELL_SERVE_PVA"] = "no"
    proc = subprocess.Popen(child_command("-c", SERVER, prefix), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = json.loads(proc.stdout.readline())["port"]
        baseline = _RawClient(port)  # connected throughout: the server never stalls for it
        baseline.connect(prefix + "S")
        errors: list[BaseException] = []
        modes: list[str] = []

        def work(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(CLIENTS // WORKERS):
                try:
                    modes.append(_one_client(port, prefix, rng))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

        workers = [threading.Thread(target=work, args=(seed,)) for seed in range(WORKERS)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        assert not errors, f"{len(errors)} clients failed, first: {errors[0]!r}" + "".join(traceback.format_exception(errors[0]))
        assert len(modes) == CLIENTS and {"read", "idle", "put", "put-now"} <= set(modes)

        # a fresh client is served (the server survived)
        last = _RawClient(port)
        chan = last.connect(prefix + "S")
        last.send(chan.read(data_type=ca.ChannelType.DOUBLE))
        deadline = time.monotonic() + 10
        while not any(isinstance(c, ca.ReadNotifyResponse) for c in last.pump()):
            assert time.monotonic() < deadline, "no answer to a read"
        last.vanish(reset=False)
        baseline.vanish(reset=False)

        proc.stdin.write("done\n")
        proc.stdin.flush()
        census = json.loads(proc.stdout.readline())
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()  # our own child, by its handle
            proc.wait(10)
    assert census["circuits"] == 0, f"{census['circuits']} circuits still open: {census['tasks']}"
    # the context's own loops stay; a task of a circuit (its command and pacing loops,
    # a write or read in progress, its TCP handler) must not
    leftovers = [t for t in census["tasks"] if t.split(".")[0] in ("VirtualCircuit", "PacedCircuit")
                 or "tcp_handler" in t or "handle_write" in t]
    assert not leftovers, f"tasks of closed clients left on the loop: {leftovers}"
    assert stderr.strip() == "", f"the server printed on stderr:\n{stderr[-3000:]}"


def test_a_subscription_cancelled_mid_flood_gets_no_update_after_the_cancel(hosted, prefix):
    from ctlshell.api import session

    scalar, other = hosted("S", 0.0), hosted("O", 0.0)
    stop = threading.Event()

    def flood() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            scalar.value = float(i)
            other.value = float(i)
            time.sleep(0.0005)

    client = _RawClient(session().ca_server().port)
    flooder = threading.Thread(target=flood, daemon=True)
    try:
        chan, keep = client.connect(prefix + "S"), client.connect(prefix + "O")
        sub = chan.subscribe(data_type=ca.ChannelType.TIME_DOUBLE)
        kept = keep.subscribe(data_type=ca.ChannelType.TIME_DOUBLE)
        client.send(sub, kept)
        flooder.start()
        seen: dict[int, int] = {sub.subscriptionid: 0, kept.subscriptionid: 0}
        cancelled_at = None
        after_cancel = {sub.subscriptionid: 0, kept.subscriptionid: 0}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for command in client.pump():
                # caproto's client protocol reads the cancel's answer as an empty EventAdd
                if isinstance(command, ca.EventCancelResponse) or (
                        isinstance(command, ca.EventAddResponse) and command.data_count == 0):
                    cancelled_at = time.monotonic()
                elif isinstance(command, ca.EventAddResponse):
                    seen[command.subscriptionid] += 1
                    if cancelled_at:  # answered: updates sent before the cancel arrived don't count
                        after_cancel[command.subscriptionid] += 1
            if cancelled_at is None and seen[sub.subscriptionid] > 20:
                client.send(chan.unsubscribe(sub.subscriptionid))
                cancelled_at = 0.0  # sent; the response marks it
            if cancelled_at and after_cancel[kept.subscriptionid] > 50:
                break
        assert cancelled_at, "the cancel was answered"
        assert after_cancel[kept.subscriptionid] > 50, "the other subscription kept flowing"
    finally:
        stop.set()
        if flooder.is_alive():
            flooder.join(5)  # before the fixture removes the PVs it writes
        client.vanish(reset=False)
    assert after_cancel[sub.subscriptionid] == 0, "updates of a cancelled subscription were sent after its cancel"


def test_removing_a_flooded_pv_leaves_the_clients_other_subscriptions_flowing(hosted, prefix):
    """Updates of the removed PV still queued for the client must not end the client's
    update loop: its other monitors would fall silent while their channels stay
    connected (what a session's widgets saw after a test removed its PVs)."""
    from ctlshell.api import session

    import numpy as np

    doomed = ctlshell.host(prefix + "D", np.zeros(1000))
    other = hosted("O", 0.0)
    stop = threading.Event()

    def flood() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                doomed.value = np.full(1000, float(i))
            except Exception:  # noqa: BLE001 - removed: the flood goes on with the other PV
                pass
            other.value = float(i)
            time.sleep(0.0002)

    client = _RawClient(session().ca_server().port)
    flooder = threading.Thread(target=flood, daemon=True)
    try:
        gone, keep = client.connect(prefix + "D"), client.connect(prefix + "O")
        sub = gone.subscribe(data_type=ca.ChannelType.TIME_DOUBLE)
        kept = keep.subscribe(data_type=ca.ChannelType.TIME_DOUBLE)
        client.send(sub, kept)
        flooder.start()
        seen = {sub.subscriptionid: 0, kept.subscriptionid: 0}
        removed_at, after = None, 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and after <= 50:
            try:
                commands = client.pump()
            except TimeoutError:
                break  # nothing at all for 10 s
            for command in commands:
                if isinstance(command, ca.ServerDisconnResponse):
                    removed_at = time.monotonic()
                elif isinstance(command, ca.EventAddResponse) and command.data_count:
                    seen[command.subscriptionid] += 1
                    if removed_at is not None and command.subscriptionid == kept.subscriptionid:
                        after += 1
            if removed_at is None and seen[sub.subscriptionid] > 20 and doomed.hosted:
                time.sleep(1.0)  # the client reads nothing for a while: the server holds
                doomed.remove()  # the newest update of each subscription back, and removes
        assert removed_at is not None, "the removed PV's channel was disconnected"
        assert after > 50, f"the other subscription fell silent after the removal ({after} updates)"
    finally:
        stop.set()
        if flooder.is_alive():
            flooder.join(5)
        client.vanish(reset=False)
        if doomed.hosted:
            doomed.remove()
