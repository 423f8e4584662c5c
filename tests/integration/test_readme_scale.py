"""The docs' many-address example runs as written (hosted PVs, on loopback)."""

from __future__ import annotations

from ..readme import run_example


def test_readme_many_addresses_example_runs() -> None:
    out = run_example("docs/guide/many-channels.md", "# Thousands of channels")
    assert out[0] == "100 ['ca://BL:MANY:NOBODY'] 7.0"
    assert out[1] == "['double', 'double']"
    assert out[2] == "100 42.0 True"
