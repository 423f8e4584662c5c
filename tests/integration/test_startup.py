"""Start-up and shutdown of the extension, each in a fresh process: ``import ctlshell``
and ``%load_ext ctlshell`` import no protocol or plotting library; ``%unload_ext``
removes ``%pv`` and stops the runtime and every thread of ctlshell."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from ctlshell.core._runtime import THREAD_NAME
from ctlshell.testing import free_port, loopback_env

HEAVY = ("caproto", "aioca", "epicscorelibs", "p4p", "pvxslibs", "tango", "PyTango", "matplotlib", "ipywidgets",
         "h5py", "ipykernel")

CODE = textwrap.dedent(f"""
    import json, sys, threading
    HEAVY = set({HEAVY!r})
    loaded = lambda: sorted({{m.split('.')[0] for m in sys.modules}} & HEAVY)
    import ctlshell
    after_import = loaded()
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    c = Config(); c.HistoryManager.hist_file = ':memory:'
    ip = InteractiveShell.instance(config=c)
    before_ext = loaded()
    ip.run_line_magic('load_ext', 'ctlshell')
    after_ext = loaded()
    ip.run_cell('%pv host STARTUP:X=1.0')
    ip.run_cell('m = %pv monitor STARTUP:X --background')
    running = sorted(t.name for t in threading.enumerate() if t.name.startswith('ctlshell'))
    ip.run_line_magic('unload_ext', 'ctlshell')
    left = sorted(t.name for t in threading.enumerate() if t.name.startswith('ctlshell'))
    print('@@' + json.dumps(dict(after_import=after_import, before_ext=before_ext, after_ext=after_ext,
        running=running, left=left, pv='pv' in ip.magics_manager.magics['line'],
        monitor_closed=ip.user_ns['m'].closed, session=ctlshell.api._session is None)))
""")


def test_import_and_load_ext_import_no_protocol_library_and_unload_stops_everything(tmp_path):
    port = free_port()
    env = loopback_env(ca_server_port=port, ca_search_ports=[port])
    env["IPYTHONDIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=60)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    r = json.loads(lines[-1][2:])
    assert r["after_import"] == [] and r["after_ext"] == r["before_ext"] == []
    assert any(name.startswith("ctlshell-deliver-") for name in r["running"]), r["running"]  # the shared pool
    assert THREAD_NAME in r["running"]
    assert r["left"] == [] and r["monitor_closed"] and r["session"] and not r["pv"]
