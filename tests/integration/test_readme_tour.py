"""The short tour of README.md and the script of the guide's tour run as written, each in
a process of its own (they end with ``ctlshell.shutdown()``, as a script does), on loopback
ports of their own."""

from __future__ import annotations

import subprocess

from ctlshell.testing import child_command, free_port, loopback_env

from ..readme import example_code


def _run(code: str) -> list[str]:
    ca = free_port()
    pva = free_port(avoid=[ca, ca + 1])
    env = loopback_env(ca_server_port=ca, ca_search_ports=[ca], pva_server_port=pva, pva_search_ports=[pva + 1])
    env.update(EPICS_CA_REPEATER_PORT=str(ca + 1), EPICS_CAS_BEACON_PORT=str(ca + 1))
    try:
        proc = subprocess.run(child_command("-c", code), env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the example did not finish in 60 s; it printed {exc.stdout!r}, {exc.stderr!r}") from None
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_readme_short_tour_runs() -> None:
    out = _run(example_code("README.md", "## A short tour"))
    assert out[0] == "295.0 NO_ALARM"  # read back over CA, with its alarm
    assert "outside the control limits [4.0, 500.0] K" in out[1]  # the refused put
    assert out[2] == "[295.0, 300.0]"  # the monitor saw the first value, then the update
    assert len(out) == 3


def test_guide_tour_script_runs() -> None:
    out = _run(example_code("docs/guide/tour.md", "## In scripts and notebooks"))
    value, severity, age = out[0].split()
    assert (value, severity) == ("295.0", "NO_ALARM") and 0 <= float(age) < 30
    assert out[1] == "[295.0, 300.0]"
