"""Issue 14 item 9: leaving ``make demo`` after a Ctrl-C in the session prints no
``make: *** [...] Interrupt``. The demo recipe is run as make runs it, with a stand-in
shell (a Python that survives a Ctrl-C and exits normally, as IPython does)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
SHELL_STANDIN = "import time\ntry:\n    time.sleep(20)\nexcept KeyboardInterrupt:\n    time.sleep(0.3)\nprint('left')\n"


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_ctrl_c_in_make_demo_is_not_reported_as_an_interrupt(tmp_path):
    recipe = re.search(r"^demo:.*\n(?:\t.*\n)*", MAKEFILE.read_text(), re.M).group(0)
    run_line = [line for line in recipe.splitlines() if "--profile demo" in line]
    assert run_line, recipe
    standin = tmp_path / "standin.py"
    standin.write_text(SHELL_STANDIN)
    loopback = re.search(r"^LOOPBACK :=(?:.*\\\n)*.*\n", MAKEFILE.read_text(), re.M).group(0)
    line = run_line[0].replace("$(BIN)/ctlshell --profile demo", f"{sys.executable} {standin}")
    (tmp_path / "Makefile").write_text(f"{loopback}\ndemo:\n{line}\n")
    proc = subprocess.Popen(["make", "-s", "-C", str(tmp_path), "demo"], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole group
    out, _ = proc.communicate(timeout=30)
    assert "left" in out, out  # the stand-in shell survived the Ctrl-C and left normally
    assert "Interrupt" not in out, out
