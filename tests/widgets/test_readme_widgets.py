"""The docs' widgets example runs as written (the demo beamline hosted in-process)."""

from __future__ import annotations

import re

from ..readme import run_example


def test_readme_widgets_example_runs() -> None:
    out = run_example("docs/guide/widgets.md", "# Live widgets and plots")
    assert out[0] == "slider 4.0 500.0"
    assert out[1] == "True True"
    assert re.fullmatch(r"counts mm peak at 2\.[456] mm", out[2]), out[2]  # the demo's peak is at 2.5 mm
    assert "read-only" in out[3]
