"""The README's proxy example runs as written (against a hosted daemon, on loopback)."""

from __future__ import annotations

from ..readme import run_example


def test_readme_proxy_example_runs() -> None:
    out = run_example("### Driving devices: Karabo-style proxies")
    assert out[0] == "DimensionalityError"
    assert out[1] == "250.0 millimeter True None"
    assert "read-only" in out[2]
    assert out[3] == "1 dimensionless"
    assert out[4] == "homed" and out[5].startswith("0.0")
