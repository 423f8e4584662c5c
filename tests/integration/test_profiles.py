"""Profile directories used for real (issue 21): ``ipython --profile-dir profiles/demo``,
the ``ctlshell`` REPL and the Jupyter kernel running a site's profile directory (its
``ipython_config.py`` applied, its startup files run in order, the directory only read),
and bad profiles refused in one line. Everything on loopback, in subprocesses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ctlshell.testing import free_port, loopback_env

from ..conftest import HOST_PORT

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]

SITE_CONFIG = """c = get_config()
c.InteractiveShell.ast_node_interactivity = "all"   # visible from inside: the config was applied
"""
PROBE = ("ip = get_ipython(); print('PROBE', ORDER, ip.ast_node_interactivity, "
         "'pv' in ip.magics_manager.magics['line'])")


def site_profile(where: Path) -> Path:
    """A site's profile: a config that changes a setting, startup files whose order shows."""
    d = where / "beamline7"
    (d / "startup").mkdir(parents=True)
    (d / "ipython_config.py").write_text(SITE_CONFIG)
    (d / "startup" / "10-first.py").write_text("ORDER = ['first']\n")
    (d / "startup" / "20-second.ipy").write_text("ORDER.append('second')\n")
    return d


def tree(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if "__pycache__" not in p.parts)


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def shell_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = loopback_env(ca_search_ports=[HOST_PORT])
    env.update(IPYTHONDIR=str(tmp_path / "ipython"), **extra)
    return env


def test_ipython_with_profile_dir_profiles_demo_hosts_the_demo_and_loads_the_extension(tmp_path):
    """The documented command, from the repository root, with the relative path."""
    demo = ROOT / "profiles" / "demo"
    before = {p.name for p in demo.iterdir()}
    port = free_port()
    env = loopback_env(ca_server_port=port, ca_search_ports=[port])
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    try:
        proc = run([str(BIN / "ipython"), "--profile-dir", "profiles/demo", "--HistoryManager.hist_file=:memory:",
                    "--colors=NoColor", "-c", "print('UNITS', info('DEMO:MOTOR').units)\n%pv get DEMO:SAMPLE:TEMP"],
                   env, cwd=ROOT)
    finally:
        for name in {p.name for p in demo.iterdir()} - before:  # IPython's log/, pid/, security/: ours to remove
            made = demo / name
            for sub in sorted(made.rglob("*"), reverse=True):
                sub.rmdir() if sub.is_dir() else sub.unlink()
            made.rmdir()
    assert proc.returncode == 0, proc.stderr
    assert "ca://DEMO:SAMPLE:TEMP  295.00 K  ok" in proc.stdout
    assert "UNITS mm" in proc.stdout


@pytest.mark.parametrize("how", ["CTLSHELL_PROFILE_PATH", "--profile-dir"])
def test_the_repl_runs_a_site_profile_directory_and_only_reads_it(tmp_path, hosted, prefix, how):
    d = site_profile(tmp_path / "site")
    hosted("TEMP", 21.5, units="degC")
    before = tree(d)
    if how == "--profile-dir":
        env, which = shell_env(tmp_path), ["--profile-dir", str(d)]
    else:
        env, which = shell_env(tmp_path, CTLSHELL_PROFILE_PATH=str(d.parent)), ["--profile", "beamline7"]
    proc = run([str(BIN / "ctlshell"), *which, "-c", f"%pv get ca://{prefix}TEMP\n{PROBE}"], env)
    assert proc.returncode == 0, proc.stderr
    assert f"ca://{prefix}TEMP  21.5 degC  ok" in proc.stdout
    # startup files in name order (.py and .ipy), the config applied, the extension loaded
    assert "PROBE ['first', 'second'] all True" in proc.stdout
    assert tree(d) == before, "ctlshell wrote into the profile directory"


def test_the_kernel_runs_a_site_profile_directory_with_a_startup_file_added_after_install(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    d = site_profile(tmp_path / "site")
    subprocess.run([str(BIN / "ctlshell"), "kernelspec", "--prefix", str(tmp_path), "--profile-dir", str(d),
                    "--name", "site"], check=True, capture_output=True, timeout=60)
    (d / "startup" / "30-later.py").write_text("ORDER.append('later')\n")  # read when the kernel starts
    env = shell_env(tmp_path, JUPYTER_PATH=str(tmp_path / "share/jupyter"), JUPYTER_PLATFORM_DIRS="1",
                    JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    km = KernelManager(kernel_name="site", kernel_spec_manager=KernelSpecManager(
        kernel_dirs=[str(tmp_path / "share/jupyter/kernels")]), connection_file=str(tmp_path / "kernel.json"))
    km.start_kernel(env=env)
    kc = km.client()
    out: list[dict] = []
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(PROBE, timeout=60, output_hook=out.append)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")
    assert "PROBE ['first', 'second', 'later'] all True" in text, text


def test_bad_profiles_are_refused_in_one_line_and_install_nothing(tmp_path):
    env = shell_env(tmp_path)
    (tmp_path / "empty").mkdir()
    for args, message in [
        (["--profile-dir", str(tmp_path / "missing")], f"ctlshell: profile directory '{tmp_path / 'missing'}' does "
                                                       "not exist"),
        (["--profile-dir", str(tmp_path / "empty")], f"ctlshell: '{tmp_path / 'empty'}' is not a profile directory: "
                                                     "it has neither ipython_config.py nor startup/"),
        (["--profile", "../demo"], "ctlshell: '../demo' is not a profile name (give a directory with --profile-dir)"),
    ]:
        proc = run([str(BIN / "ctlshell"), *args, "-c", "print('RAN')"], env)
        assert (proc.returncode, proc.stderr.strip(), proc.stdout) == (2, message, ""), args
    proc = run([str(BIN / "ctlshell"), "-c", "%ctlshell_profile nope"], env)
    assert proc.stderr.strip() == "ValidationError: no ctlshell profile 'nope'; profiles: default, demo"
    assert proc.returncode == 1 and proc.stdout == ""
    proc = run([str(BIN / "ctlshell"), "kernelspec", "--prefix", str(tmp_path / "prefix"), "--profile", "nope"], env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "ctlshell kernelspec: no ctlshell profile 'nope'; profiles: default, demo"
    assert not (tmp_path / "prefix").exists(), "a refused kernelspec installed something"
