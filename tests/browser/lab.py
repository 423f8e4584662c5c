"""A throw-away JupyterLab on 127.0.0.1 and the Playwright steps that drive it in
Debian's headless Chromium (no browser download): the recipe of
``shared/recipes/jupyter`` with ctlshell's kernel environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from ctlshell.core import stop_process

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
JS_KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""
#: what JupyterLab shows instead of a widget that did not render
WIDGET_FAILURES = ("Loading widget", "Error displaying widget")


class LabServer:
    """``jupyter-lab`` on a port the OS picks, token auth, kernels with ``env``."""

    def __init__(self, root: Path, env: dict[str, str], log: Path) -> None:
        self.root, self.env, self.log = root, env, log
        self.token = uuid.uuid4().hex
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> LabServer:
        cfg = Path(self.env["JUPYTER_CONFIG_DIR"]) / "labconfig"
        cfg.mkdir(parents=True, exist_ok=True)  # no "Jupyter news?" toast over the notebook
        (cfg / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
        cmd = [str(Path(sys.executable).with_name("jupyter-lab")), "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False"]
        self._logfh = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._logfh, stderr=subprocess.STDOUT, cwd=self.root,
                                     env=self.env, start_new_session=True)
        info = Path(self.env["JUPYTER_RUNTIME_DIR"]) / f"jpserver-{self.proc.pid}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited {self.proc.returncode}:\n{self.log.read_text()}")
            if info.exists():
                try:
                    self.url = json.loads(info.read_text())["url"].rstrip("/")
                    self.api("GET", "/api/status")
                    return self
                except (ValueError, OSError, KeyError):
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"jupyter lab not up in {timeout} s:\n{self.log.read_text()}")

    def api(self, method: str, path: str) -> object:
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            data = r.read()
            return json.loads(data) if data else {}

    def lab_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True,
                              text=True).stdout.split()
        # SIGTERM: the server shuts its kernels down; its group is killed if it hangs
        stop_process(self.proc, timeout, group=True)
        for pid in kids:  # kernels live in process groups of their own: by PID only
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._logfh.close()


def output_with_text(page, text: str):  # type: ignore[no-untyped-def]
    """An OUTPUT containing ``text`` (get_by_text would also match the cell's source)."""
    return page.locator(".jp-OutputArea-output", has_text=text)


def run_cell(page, index: int) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("""(i) => { const nb = window.jupyterapp.shell.currentWidget.content;
                      nb.activeCellIndex = i; return window.jupyterapp.commands.execute('notebook:run-cell'); }""",
                  index)


def assert_widgets_rendered(page, fallbacks: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """No placeholder, no error and no text/plain repr where a widget should be."""
    outs = page.locator(".jp-OutputArea-output").all_inner_texts()
    bad = [o for o in outs if any(t in o for t in WIDGET_FAILURES + fallbacks)]
    assert not bad, bad
