"""The pure parts of the interactive layer, without sockets or a shell: the name
index, completion candidates, verb parsing, value parsing and formatting."""

from __future__ import annotations

import time

import numpy as np
import pytest
from IPython.core.error import UsageError

from ctlshell.core import Metadata, Reading, Severity
from ctlshell.ipython import _verbs
from ctlshell.ipython._complete import candidates
from ctlshell.ipython._format import format_value, text_table
from ctlshell.ipython._names import NameIndex


@pytest.fixture
def names(tmp_path):
    index = NameIndex()
    pvs = tmp_path / "pvs.txt"
    pvs.write_text("BL:M1.RBV   # a bare name is ca://\npva://BL:DET:IMAGE\n\ntango://sys/tg_test/1/ampli\n")
    assert index.add_file(pvs) == 3
    index.add(["ca://BL:M1.VAL", "local://MY:PV"])
    index.add_source(lambda: ["ca://BL:M2.RBV"])
    index.add_source(lambda: 1 / 0)  # a broken source is skipped, never breaks Tab
    return index, pvs


def test_index_merges_sources_and_completes_by_prefix(names):
    index, _ = names
    assert index.names() == ["ca://BL:M1.RBV", "ca://BL:M1.VAL", "ca://BL:M2.RBV", "local://MY:PV",
                             "pva://BL:DET:IMAGE", "tango://sys/tg_test/1/ampli"]
    assert index.complete("BL:M1") == ["BL:M1.RBV", "BL:M1.VAL"]  # bare, as typed
    assert index.complete("ca://BL:M") == ["ca://BL:M1.RBV", "ca://BL:M1.VAL", "ca://BL:M2.RBV"]
    assert index.complete("pv") == ["pva://", "pva://BL:DET:IMAGE"]
    assert index.complete("tango://sys/tg") == ["tango://sys/tg_test/1/ampli"]
    assert index.complete("ca://", limit=2) == ["ca://BL:M1.RBV", "ca://BL:M1.VAL"]


def test_a_changed_pv_list_file_is_read_again(names):
    index, pvs = names
    pvs.write_text("ca://NEW:PV\n")
    import os

    os.utime(pvs, (1, 1))  # a different mtime, as an edit would give
    assert "ca://NEW:PV" in index.names() and "ca://BL:M1.RBV" not in index.names()


def test_candidates_follow_the_verb_grammar(names):
    index, _ = names
    assert candidates(["%pv"], "g", index) == ["get", "gateway"]
    assert candidates(["%pv"], "ge", index) == ["get"]
    assert candidates(["%pv"], "--d", index) == ["--debug"]
    assert candidates(["%pv", "--debug"], "mon", index) == ["monitor"]
    assert candidates(["%pv", "get"], "BL:M2", index) == ["BL:M2.RBV"]
    assert candidates(["%pv", "put", "BL:M1.VAL"], "1", index) == []
    assert candidates(["%pv", "monitor", "X"], "--b", index) == ["--background", "--buffer"]
    assert candidates(["%pv", "snapshot"], "", index) == ["save", "diff", "restore"]
    assert candidates(["%pv", "snapshot", "save"], "B", index) is None  # a file: the file matcher's
    assert candidates(["%pv", "snapshot", "save", "f.json"], "BL:M1.R", index) == ["BL:M1.RBV"]
    assert candidates(["%pv", "nosuchverb"], "B", index) is None


def test_verb_parsing_and_its_one_line_errors():
    args = _verbs.parse("monitor", "ca://A pva://B --rate 2 --buffer 100")
    assert args.addresses == ["ca://A", "pva://B"] and args.rate == 2.0 and args.buffer == 100
    assert _verbs.parse("host", "X=1 --limits 0 5 --writable").limits == [0.0, 5.0]
    with pytest.raises(UsageError, match=r"^%pv put: the following arguments are required: ADDR, VALUE$"):
        _verbs.parse("put", "")
    with pytest.raises(UsageError, match=r"^%pv get: argument --timeout: invalid positive number value: '-1'$"):
        _verbs.parse("get", "X --timeout -1")
    with pytest.raises(UsageError, match="unknown verb 'gte'"):
        _verbs.parse("gte", "X")
    with pytest.raises(UsageError, match="No closing quotation"):
        _verbs.parse("put", "X 'open")


@pytest.mark.parametrize("typed, value", [
    (["2.5"], 2.5), (["7"], 7), (["Open"], "Open"), (["[1,", "2,", "3]"], [1, 2, 3]), (["'a b'"], "a b"),
    (["__import__('os')"], "__import__('os')"),  # never evaluated: stays a string
])
def test_values_are_literals_or_strings(typed, value):
    assert _verbs.parse_value(typed) == value


def test_values_are_formatted_with_units_precision_and_choices():
    meta = Metadata(units="mm", precision=3)
    assert format_value(1.23456, meta) == "1.235 mm"
    assert format_value(7.5, Metadata(precision=0)) == "7.5"  # PREC 0 never hides a fraction
    assert format_value(7.0, Metadata(precision=0)) == "7"
    assert format_value(1, Metadata(dtype="enum", choices=("Open", "Closed"))) == "Closed"
    assert format_value(np.arange(10.0), Metadata(units="V", precision=1)) == \
        "[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, ... (10 items)] V"
    assert format_value(np.float32(0.5)) == "0.5"
    assert format_value("text") == "text"


def test_table_colours_rows_by_severity_only_when_asked():
    r = Reading("ca://X", 1.0, severity=Severity.MAJOR, status="HIHI")
    plain = text_table(["a", "b"], [["ca://X", "1"]], [r.severity])
    assert "\x1b[" not in plain and plain.splitlines()[1] == "ca://X  1"
    coloured = text_table(["a", "b"], [["ca://X", "1"]], [r.severity], color=True)
    assert coloured.splitlines()[1].startswith("\x1b[31;1m")


def test_a_lost_connection_is_shown_not_hidden(monkeypatch):
    from ctlshell.core import ChannelState, ChannelStatus
    from ctlshell.ipython import _views
    from ctlshell.ipython._views import StatusTable, reading_html, reading_text

    monkeypatch.setitem(_views.COLOR, "on", False)  # a shell loaded earlier may have turned colour on

    lost = Reading("ca://X", 1.5, timestamp=0.0, severity=Severity.DISCONNECTED, status="disconnected")
    assert "DISCONNECTED disconnected" in reading_text(lost)
    assert "color:#93a1a1" in reading_html(lost)  # greyed out
    table = StatusTable([ChannelStatus("ca://X", ChannelState.DISCONNECTED, 1, 7, 2, 0.0, 1.5,
                                       Severity.DISCONNECTED)])
    from IPython.lib.pretty import pretty

    head, line = pretty(table).splitlines()[:2]
    cells = dict(zip(_views._STATUS_HEAD, _views._status_row(table[0], time.time())))
    assert all(cells[k] in line for k in cells)
    assert (cells["state"], cells["users"], cells["updates"], cells["dropped"]) == ("disconnected", "1", "7", "2")
    assert cells["live"] == "no (disconnected)" and cells["taken"].startswith(time.strftime("%Y-%m-%d ", time.localtime(0)))
    assert "font-style:italic" in table._repr_html_()


def test_pv_plot_draws_counts_and_millimetres_on_their_own_axes_held_to_the_end():
    from collections import deque

    from ctlshell.ipython._plot import figure

    t = 1000.0
    series = {"ca://C": deque([Reading("ca://C", 10.0, t), Reading("ca://C", 900.0, t + 1)]),
              "ca://M": deque([Reading("ca://M", 2.5, t)])}
    fig = figure(series, {"ca://C": "counts", "ca://M": "mm"}, now=t + 5)
    labels = sorted(a.get_ylabel() for a in fig.axes)
    assert labels == ["counts", "mm"]
    mm_axis = next(a for a in fig.axes if a.get_ylabel() == "mm")
    (line,) = mm_axis.get_lines()
    assert list(line.get_xdata()) == [0.0, 5.0] and list(line.get_ydata()) == [2.5, 2.5]  # held to the end
