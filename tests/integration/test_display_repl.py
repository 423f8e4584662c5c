"""Monitor output in a real terminal does not corrupt the prompt (issue 14, item 5).

``ctlshell --profile demo`` runs in a tmux pane of its own tmux server (its own
socket, stopped at the end); ``monitor(ADDR, print)`` prints from a thread while
the user types the next line. The screen tmux renders must show every update as a
whole line above the prompt, with units, and the prompt with what was typed intact
as the last line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ctlshell.testing import free_port, loopback_env

SCRIPT = str(Path(sys.executable).with_name("ctlshell"))
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (make tmux, or apt-get install -y tmux)")


class Pane:
    """One tmux server on a private socket, holding one pane."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"ctlshell-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "30",
                   " ".join(["env", *(f"{k}={v}" for k, v in env.items()), *command]))

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=True, timeout=20).stdout

    def screen(self) -> list[str]:
        return [line.rstrip() for line in self._tmux("capture-pane", "-p", "-t", "t").splitlines()]

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, pattern: str, timeout: float = 40) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if re.search(pattern, "\n".join(lines)):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on the screen: {lines}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20)


@pytest.fixture
def pane(tmp_path):
    port = free_port()
    env = {k: v for k, v in loopback_env(ca_server_port=port, ca_search_ports=[port]).items()
           if k.startswith("EPICS")}
    env.update(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", IPYTHONDIR=str(tmp_path / "ipython"),
               PATH=os.environ.get("PATH", ""))
    p = Pane([SCRIPT, "--profile", "demo", "--HistoryManager.hist_file=:memory:", "--colors=NoColor",
              "--TerminalInteractiveShell.autosuggestions_provider=None"], env)
    try:
        p.wait_for(r"In \[1\]:")
        yield p
    finally:
        p.close()


def test_monitor_prints_above_the_prompt_while_typing(pane):
    pane.send('sub = monitor("DEMO:RING:CURRENT", print)', "Enter")
    pane.wait_for(r"In \[2\]:")
    pane.send("x = 'typed while updates arrive'")
    time.sleep(2.0)  # the ring current updates at 10 Hz
    # prompt_toolkit erases the prompt, prints an update above it and draws it again: a
    # screen taken in between shows no prompt, so look at several; the typed line must
    # never be broken, and must be the last line once drawn again
    prompt = "In [2]: x = 'typed while updates arrive'"
    screens = []
    for _ in range(20):
        screens.append([ln for ln in pane.screen() if ln])
        time.sleep(0.05)
    assert any(s[-1] == prompt for s in screens), screens[-1][-3:]
    for s in screens:
        assert all(ln == prompt for ln in s if "typed while" in ln), s[-3:]
    lines = next(s for s in screens if s[-1] == prompt)
    updates = [ln for ln in lines if ln.startswith("ca://DEMO:RING:CURRENT")]
    assert len(updates) >= 5
    rx = re.compile(r"^ca://DEMO:RING:CURRENT = \d+\.\d\d mA @ \d\d:\d\d:\d\d\.\d{3}$")
    assert all(rx.match(ln) for ln in updates), updates  # whole lines, with units; nothing mixed in
    pane.send("C-u", "sub.close()", "Enter")
    pane.wait_for(r"In \[3\]:")
