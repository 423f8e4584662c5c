"""The pure parts of scans: peak statistics and the magics' value resolution."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError

from ctlshell.ipython._scans import resolve_value
from ctlshell.scans import Peaks, peak_stats


def test_a_gaussian_peak_gives_its_centre_width_and_extremes():
    x = np.linspace(0, 5, 51)
    sigma = 0.5
    y = 20 + 1000 * np.exp(-((x - 2.5) ** 2) / (2 * sigma**2))
    stats = peak_stats(x[::-1], y[::-1])  # order does not matter
    assert stats.cen == pytest.approx(2.5, abs=1e-3)
    assert stats.com == pytest.approx(2.5, abs=1e-3)
    assert stats.fwhm == pytest.approx(2.3548 * sigma, rel=0.02)
    assert stats.max == (pytest.approx(2.5), pytest.approx(1020))
    assert stats.min[1] == pytest.approx(20, abs=0.1)


def test_an_off_centre_peak_and_bad_input():
    x = [0, 1, 2, 3, 4]
    stats = peak_stats(x, [0, 10, 4, 0, 0])
    assert stats.max == (1.0, 10.0) and 0.5 < stats.cen < 1.8
    with pytest.raises(ValueError, match="two or more"):
        peak_stats([1], [2])
    with pytest.raises(ValueError):
        peak_stats([1, 2], [1, 2, 3])


def test_peaks_by_detector_name():
    peaks = Peaks()
    assert "no scan" in repr(peaks)
    with pytest.raises(KeyError, match="no cen for 'det'"):
        peaks.cen["det"]
    peaks.update("m", {"det": peak_stats([0, 1, 2], [0, 5, 0])})
    assert peaks.cen["det"] == pytest.approx(1.0) and peaks["det"].fwhm == pytest.approx(1.0)
    assert "det" in repr(peaks)


def test_values_are_numbers_or_names_never_code():
    ns = {"peaks": {"cen": {"d": 2.5}}, "x": 3, "calls": []}
    assert resolve_value("1.25", ns) == 1.25
    assert resolve_value("-4", ns) == -4.0
    assert resolve_value("x", ns) == 3.0
    assert resolve_value('peaks["cen"]["d"]', ns) == 2.5
    for bad in ("calls.append(1)", "x + 1", "__import__('os')", "x.__class__", "nope", "1 +", 'peaks["nope"]'):
        with pytest.raises(UsageError):
            resolve_value(bad, ns)
    assert ns["calls"] == []
