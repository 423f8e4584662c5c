"""The docs' proxy example runs as written (against a hosted daemon, on loopback)."""

from __future__ import annotations

from ..readme import run_example


def test_readme_proxy_example_runs() -> None:
    out = run_example("docs/guide/proxies.md", "# Driving devices")
    assert out[0] == "DimensionalityError"
    assert out[1] == "250.0 mm True None"
    assert "read-only" in out[2]
    assert out[3] == "True True"  # State.ON, derived from ACTIVE
    assert out[4] == "Timestamp 1000 True"  # the device's trainId stamps every value
    assert out[5] == "0.25 ['frac', 'sec', 'tid', 'units'] ['position', 'counter']"
    assert out[6] == "[1, 2, 3] None"  # a Queue saw every change, in order
    assert out[7] == "homed" and out[8].startswith("0.0")
