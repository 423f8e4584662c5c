"""Acceptance 1 and 4 of the interactive layer: every ``%pv`` verb in a real IPython
``InteractiveShell``, against PVs hosted in this process and a caproto IOC subprocess;
usage help; bad input printing one line and changing nothing."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from IPython.utils.capture import capture_output

import ctlshell
from ctlshell.api import ChannelInfo
from ctlshell.core import Reading, Severity

from .conftest import caproto_example

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run(ip, cell):
    """Run a cell as a user would; returns (result, stdout, stderr) with colours stripped."""
    with capture_output() as cap:
        result = ip.run_cell(cell, store_history=False)
    return result, ANSI.sub("", cap.stdout), ANSI.sub("", cap.stderr)


def shown(ip, obj):
    """What the shell displays for ``obj``: (text, html)."""
    data, _ = ip.display_formatter.format(obj)
    return ANSI.sub("", data["text/plain"]), data.get("text/html", "")



def test_a_monitor_that_ends_shows_every_update_it_counted(ip, hosted, prefix):
    """An update that lands in the pause after the last redraw is shown before the
    summary that counts it (it was counted but never printed: '3 updates', 2 lines)."""
    pv = hosted("W", 0.0)
    line_of = f"ca://{prefix}W  "

    def shown_values() -> list[str]:
        return [line.split()[1] for line in cap.stdout.splitlines() if line.startswith(line_of)]

    def later() -> None:
        time.sleep(0.3)
        pv.value = 1.0
        # the next update goes out once the redraw that shows 1.0 did (rate 0.5: about
        # 2 s in), so it lands in the pause before the end (3 s): 1 s of margin for load
        deadline = time.monotonic() + 10
        while "1" not in shown_values() and time.monotonic() < deadline:
            time.sleep(0.01)
        pv.value = 2.0

    writer = threading.Thread(target=later, name="test-late-update")
    with capture_output() as cap:
        writer.start()
        mon = ip.run_line_magic("pv", f"monitor {prefix}W --duration 3 --rate 0.5")
    writer.join(30)
    printed = shown_values()
    assert mon.closed and mon.delivered >= 2
    assert len(printed) == mon.delivered, cap.stdout  # each value is new: one line per update
    assert float(printed[-1]) == mon.latest[f"ca://{prefix}W"].value == 2.0, cap.stdout
    assert f"monitor stopped: {mon.delivered} updates" in cap.stdout

def test_get_put_info_against_hosted_pvs(ip, prefix):
    run(ip, f"h = %pv host {prefix}T=295.0 --units K --precision 2 --limits 4 500 --warning-limits 20 400 --writable")
    assert ip.user_ns["h"].name == f"{prefix}T"

    res, out, err = run(ip, f"x = %pv get {prefix}T")
    assert res.success and not err
    x = ip.user_ns["x"]
    assert isinstance(x, Reading) and x.value == 295.0 and x.address == f"ca://{prefix}T"
    text, html = shown(ip, x)
    assert f"ca://{prefix}T" in text and "295.00 K" in text and "ok" in text
    assert "295.00 K" in html and "<table" in html

    res, out, err = run(ip, f"%pv put {prefix}T 450 --wait")
    assert res.success and out.strip() == f"ca://{prefix}T <- 450 (done)"
    r = ip.run_line_magic("pv", f"get {prefix}T")
    assert r.value == 450.0 and r.severity is Severity.MINOR
    text, html = shown(ip, r)
    assert "MINOR HIGH" in text and "color:#b58900" in html  # severity as colour

    both = ip.run_line_magic("pv", f"get {prefix}T ca://{prefix}T")
    assert [b.value for b in both] == [450.0, 450.0]
    text, html = shown(ip, both)
    assert text.splitlines()[0].split() == ["address", "value", "alarm", "time"] and len(text.splitlines()) == 3

    described = ip.run_line_magic("pv", f"info {prefix}T")
    assert isinstance(described, ChannelInfo)
    assert described.metadata.units == "K" and described.metadata.control_limits == (4.0, 500.0)
    assert described.server == "this process" and str(described.status.state) == "connected"
    text, _ = shown(ip, described)
    for label in ("units: K", "server: this process", "subscribers: 0", "dropped: 0", "state: connected"):
        assert label in re.sub(r" +", " ", text), text


def test_verbs_against_a_caproto_ioc(ip, ioc, prefix, tmp_path):
    ioc(*caproto_example("simple", prefix))
    a, b, c = (f"ca://{prefix}{n}" for n in "ABC")
    assert ip.run_line_magic("pv", f"get {b}").value == 2.0
    ip.run_line_magic("pv", f"put {b} 7.5 --wait")
    ip.run_line_magic("pv", f"put {c} [4, 5, 6] --wait")
    assert list(ip.run_line_magic("pv", f"get {c}").value) == [4, 5, 6]
    described = ip.run_line_magic("pv", f"info {a}")
    assert described.metadata.dtype in ("long", "int")
    assert re.fullmatch(r"(localhost|127\.0\.0\.1):\d+", described.server), described.server  # the IOC

    # monitor for a while: prints each update (stdout is not a terminal here), returns the monitor
    # while it runs, another thread puts 8.25 and then 7.5 again: the monitor in the
    # foreground prints both as they come (the IOC's value ends as the test found it)
    def putter() -> None:
        time.sleep(0.4)
        ctlshell.put(b, 8.25, wait=True)
        time.sleep(0.3)
        ctlshell.put(b, 7.5, wait=True)

    other = threading.Thread(target=putter, name="test-concurrent-put")
    with capture_output() as cap:
        other.start()
        mon = ip.run_line_magic("pv", f"monitor {b} --duration 3 --rate 20")
    other.join(30)
    assert mon.closed and mon.delivered >= 3 and mon.dropped == 0
    printed = [line.split()[1] for line in cap.stdout.splitlines() if line.startswith(f"{b}  ")]
    assert printed[:3] == ["7.5", "8.25", "7.5"], cap.stdout
    assert "monitor stopped: " in cap.stdout

    # snapshot: save, change, diff, restore
    snap = tmp_path / "snap.json"
    ip.run_line_magic("pv", f"snapshot save {snap} {a} {b}")
    assert json.loads(snap.read_text())["values"] == {a: 1, b: 7.5}
    ip.run_line_magic("pv", f"put {b} 1.25 --wait")
    assert ip.run_line_magic("pv", f"snapshot diff {snap}") == [(b, 7.5, 1.25)]
    assert ip.run_line_magic("pv", f"snapshot restore {snap} --dry-run") == [b]
    assert ip.run_line_magic("pv", f"get {b}").value == 1.25  # dry: nothing written
    assert ip.run_line_magic("pv", f"snapshot restore {snap}") == [b]
    assert ip.run_line_magic("pv", f"get {b}").value == 7.5
    assert ip.run_line_magic("pv", f"snapshot diff {snap}") == []

    rows = {s.address: s for s in ip.run_line_magic("pv", "status")}
    assert rows[b].state.name == "CONNECTED" and rows[b].last_update is not None
    text, html = shown(ip, ip.run_line_magic("pv", "status"))
    assert b in text and "connected" in text and "dropped" in text.splitlines()[0] and "<table" in html

    assert {a, b, c} <= set(ip.run_line_magic("pv", f"list {prefix}*"))


def test_background_monitor_unmonitor_and_status_drops(ip, prefix):
    h = ctlshell.host(f"{prefix}M", 0.0)
    mon = ip.run_line_magic("pv", f"monitor {prefix}M --background --buffer 5")
    try:
        for i in range(1, 6):
            h.value = float(i)
        deadline = time.monotonic() + 5
        while mon.latest.get(f"ca://{prefix}M") is None or mon.latest[f"ca://{prefix}M"].value != 5.0:
            assert time.monotonic() < deadline, mon.latest
            time.sleep(0.02)
        row = next(s for s in ip.run_line_magic("pv", "status") if s.address == f"ca://{prefix}M")
        assert row.users == 1 and row.updates >= 2
        text, html = shown(ip, mon.subscriptions[0])  # a core Subscription is displayed too
        assert "open" in text and "last 5" in text and "dropped" in text and "<table" in html
        text, _ = shown(ip, mon)
        assert "running" in text and re.search(rf"ca://{re.escape(prefix)}M +5 +ok", text), text
    finally:
        assert ip.run_line_magic("pv", f"unmonitor {prefix}M") == 1
    assert mon.closed
    assert ip.run_line_magic("pv", "unmonitor") == 0


def test_host_group_list_and_plot(ip, prefix, tmp_path):
    obj = ip.run_line_magic("pv", f"host --group ctlshell.examples.group:Chiller --prefix {prefix}CH:")
    try:
        assert ip.run_line_magic("pv", f"get {prefix}CH:FLOW").value == 1.0
        assert f"ca://{prefix}CH:FLOW" in ip.run_line_magic("pv", f"list {prefix}CH:*")
        png = tmp_path / "temp.png"
        with capture_output() as cap:
            path = ip.run_line_magic("pv", f"plot {prefix}CH:TEMP --duration 1 --output {png}")
        assert path == png and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"written to {png}" in cap.stdout
    finally:
        ctlshell.unhost(obj)


def test_usage_of_pv_and_of_a_verb(ip):
    res, out, err = run(ip, "%pv?")
    assert res.success
    text = ip.find_line_magic("pv").__doc__
    for verb in ("get", "put", "monitor", "unmonitor", "info", "status", "list", "host", "plot", "snapshot", "gateway"):
        assert f"%pv {verb}" in text
    res, out, err = run(ip, "%pv get?")
    assert res.success and "%pv get [--timeout TIMEOUT] ADDR [ADDR ...]" in out and "positional arguments" in out
    res, out, err = run(ip, "%pv put --help")
    assert "--wait" in out


def _hosted_state(prefix):
    return ctlshell.get(f"ca://{prefix}V").value, sorted(ctlshell.hosted())


@pytest.mark.parametrize("cell, message", [
    ("%pv get foo://{p}V", "AddressError: unknown scheme 'foo' in 'foo://{p}V'; known schemes: ca://, pva://, tango://, local://"),
    ("%pv put {p}V 'x y'", "ValidationError: ca://{p}V: 'x y' is not a number (double expected)"),
    ("%pv put {p}V 99", "ValidationError: ca://{p}V: 99.0 mm is outside the control limits [0.0, 10.0] mm"),
    ("%pv frobnicate {p}V", "UsageError: unknown verb 'frobnicate' for %pv; verbs: get, put, stop, monitor, unmonitor, info, "
     "status, list, host, plot, snapshot, gateway"),
    ("%pv put {p}V", "UsageError: %pv put: the following arguments are required: VALUE"),
    ("%pv get", "UsageError: %pv get: the following arguments are required: ADDR"),
    ("%pv monitor {p}V --rate fast", "UsageError: %pv monitor: argument --rate: invalid positive number value: 'fast'"),
    ("%pv host {p}W=50 --limits 0 10", "ValidationError: {p}W: 50 is outside the control limits [0.0, 10.0]"),
    ("%pv host {p}W", "UsageError: %pv host: expected NAME=VALUE (e.g. BL:TEMP=21.5) or --group MODULE:CLASS"),
    ("%pv plot {p}V --output /no/such/dir/v.png", "ValidationError: cannot write /no/such/dir/v.png: no directory "
     "'/no/such/dir'"),
    ("%pv snapshot save /no/such/dir/s.json {p}V", "ValidationError: cannot write /no/such/dir/s.json: no directory "
     "'/no/such/dir'"),
    ("%pv snapshot restore /no/such/s.json", "ValidationError: cannot read snapshot /no/such/s.json: No such file or "
     "directory"),
    ("%pv host --group ctlshell.examples.group:Nothing", "ValidationError: ctlshell.examples.group has no 'Nothing'"),
    ("%pv monitor {p}V --buffer 0", "UsageError: %pv monitor: --buffer must be between 1 and 1000000, not 0"),
    ("%pv", "UsageError: %pv needs a verb: get, put, stop, monitor, unmonitor, info, status, list, host, plot, snapshot, "
     "gateway (%pv? shows the usage)"),
])
def test_bad_input_prints_one_line_and_changes_nothing(ip, prefix, cell, message):
    ctlshell.host(f"{prefix}V", 2.0, units="mm", limits=(0, 10), writable=True)
    before = _hosted_state(prefix)
    res, out, err = run(ip, cell.format(p=prefix))
    assert not res.success
    assert err.strip().splitlines() == [message.format(p=prefix)], err
    assert "Traceback" not in out + err
    assert _hosted_state(prefix) == before


def test_debug_and_xmode_show_the_traceback(ip, prefix):
    ctlshell.host(f"{prefix}D", 1.0, limits=(0, 10), writable=True)
    res, out, err = run(ip, f"%pv --debug put {prefix}D 50")
    assert not res.success and "Traceback" in out + err and "ValidationError" in out + err
    run(ip, "%xmode Verbose")
    try:
        res, out, err = run(ip, f"%pv put {prefix}D 50")
        assert "Traceback" in out + err
    finally:
        run(ip, "%xmode Context")
    res, out, err = run(ip, f"%pv put {prefix}D 50")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert ctlshell.get(f"ca://{prefix}D").value == 1.0


def test_pv_gateway_start_list_read_through_and_stop(ip):
    """%pv gateway: a real p4p.gw in another process republishes a p4p server that
    ctlshell cannot reach itself; list shows it, stop ends it, bad options change nothing."""
    import uuid

    from ctlshell.testing import free_port

    from ..conftest import PVA_SEARCH
    from ._pva import P4pServer, next_pool_port

    avoid = [p for s in PVA_SEARCH for p in (s - 1, s)]
    prefix = f"M{uuid.uuid4().hex[:6]}:"
    upstream = P4pServer(prefix, free_port(avoid=avoid)).start()
    port = next_pool_port()  # a port ctlshell's client searches
    try:
        result, out, err = run(ip, f"gw = %pv gateway start --upstream 127.0.0.1:{upstream.port + 1} "
                                   f"--port {port} --broadcast-port {port + 1} --status-prefix {prefix}GW:")
        assert result.success, err
        assert f"serves 127.0.0.1 port {port}" in out and f"status PVs {prefix}GW:*" in out
        assert ip.user_ns["gw"].running
        assert ctlshell.get(f"pva://{prefix}TEMP", timeout=40).value == 21.5  # only through the gateway
        _, out, _ = run(ip, "%pv gateway")
        assert f"pid {ip.user_ns['gw'].pid}" in out
        result, _, err = run(ip, "%pv gateway start --port 70000")
        assert not result.success and "port number" in err
        assert len(ctlshell.api.gateways()) == 1
        _, out, _ = run(ip, f"n = %pv gateway stop --port {port}")
        assert ip.user_ns["n"] == 1 and not ip.user_ns["gw"].running and ctlshell.api.gateways() == []
    finally:
        ctlshell.api.stop_gateways(port)
        upstream.close()
