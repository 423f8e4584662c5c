"""The ``ctlshell`` Jupyter kernel (the kernelspec ``make demo`` installs), driven by
jupyter_client as a notebook front-end would: rich HTML readings, and a monitor
table that keeps updating after its cell has finished."""

from __future__ import annotations

import queue
import subprocess
import sys
from pathlib import Path

import pytest

from ctlshell.testing import free_port, loopback_env

SCRIPT = Path(sys.executable).with_name("ctlshell")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    from jupyter_client.manager import KernelManager

    tmp_path = tmp_path_factory.mktemp("kernel")
    subprocess.run([str(SCRIPT), "kernelspec", "--prefix", str(tmp_path), "--profile", "demo"], check=True,
                   capture_output=True, timeout=60)
    port = free_port()
    env = loopback_env(ca_server_port=port, ca_search_ports=[port])
    env.update(JUPYTER_PATH=str(tmp_path / "share/jupyter"), IPYTHONDIR=str(tmp_path / "ipython"),
               JUPYTER_PLATFORM_DIRS="1", JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    from jupyter_client.kernelspec import KernelSpecManager

    km = KernelManager(kernel_name="ctlshell", kernel_spec_manager=KernelSpecManager(
        kernel_dirs=[str(tmp_path / "share/jupyter/kernels")]), connection_file=str(tmp_path / "kernel.json"))
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def execute(kc, code, timeout=30):
    """Run a cell; returns the iopub messages up to idle."""
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            out.append(msg)  # updates of an earlier cell's display
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


def test_kernel_shows_html_and_keeps_a_monitor_table_live(kernel):
    msgs = execute(kernel, "%pv get DEMO:SAMPLE:TEMP")
    result = next(m for m in msgs if m["msg_type"] == "execute_result")["content"]["data"]
    assert "295.00 K" in result["text/html"] and "<table" in result["text/html"]
    assert "295.00 K" in result["text/plain"]

    msgs = execute(kernel, "mon = %pv monitor DEMO:DET:COUNTS --rate 5")
    shown = next(m for m in msgs if m["msg_type"] == "display_data")
    display_id = shown["content"]["transient"]["display_id"]
    # the cell is done; the table keeps updating while the kernel waits for the next one
    updates = []
    while len(updates) < 3:
        try:
            msg = kernel.get_iopub_msg(timeout=10)
        except queue.Empty:
            break
        if msg["msg_type"] == "update_display_data" and msg["content"]["transient"]["display_id"] == display_id:
            updates.append(msg["content"]["data"]["text/html"])
    assert len(updates) == 3 and "DEMO:DET:COUNTS" in updates[-1] and "counts" in updates[-1]
    msgs = execute(kernel, "%pv unmonitor")
    assert next(m for m in msgs if m["msg_type"] == "execute_result")["content"]["data"]["text/plain"] == "1"


def test_kernel_plot_redraws_one_figure_while_collecting(kernel, tmp_path):
    png = tmp_path / "current.png"
    # ticks every 0.5 s; 4 s leaves room for several redraws when a loaded machine draws slowly
    msgs = execute(kernel, f"%pv plot DEMO:RING:CURRENT --duration 4 --output {png}")
    figures = [m for m in msgs if m["msg_type"] in ("display_data", "update_display_data")
               and "image/png" in m["content"]["data"]]
    assert figures[0]["msg_type"] == "display_data" and len(figures) >= 2
    assert {m["content"]["transient"]["display_id"] for m in figures} == {
        figures[0]["content"]["transient"]["display_id"]}  # one output, redrawn
    assert png.read_bytes()[:4] == b"\x89PNG"


def complete(kc, code):
    """What a notebook's Tab gets: the kernel's complete_reply applied to ``code``."""
    msg_id = kc.complete(code, len(code))
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    content = reply["content"]
    start, end = content["cursor_start"], content["cursor_end"]
    return [code[:start] + m + code[end:] for m in content["matches"] if code[:start] + m + code[end:] != code]


def test_kernel_completes_verb_strings_and_enum_choices_and_nothing_else(kernel):
    assert complete(kernel, 'x = get("DEMO:SHU') == ['x = get("DEMO:SHUTTER']
    assert complete(kernel, 'put("DEMO:SHUTTER", "') == ['put("DEMO:SHUTTER", "Open', 'put("DEMO:SHUTTER", "Closed']
    assert complete(kernel, "%pv put DEMO:SHUTTER C") == ["%pv put DEMO:SHUTTER Closed"]
    assert complete(kernel, "%pv get DEMO:NOPE:de") == []  # never delattr
    assert complete(kernel, 'get("tango://sys/nowhere/1/de') == []
