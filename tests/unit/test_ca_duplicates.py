"""Which of libca's "Identical process variable names" reports are one server of this
host seen twice (backends/ca/_duplicates.py). Only local addresses are resolved."""

from __future__ import annotations

import pytest

from ctlshell.backends.ca._duplicates import ECA_DBLCHNL, same_server


def report(a: str, b: str) -> str:
    return f'Channel: "X:Y", Connecting to: {a}, Ignored: {b}'


@pytest.mark.parametrize(("context", "same"), [
    (report("localhost:5064", "127.0.0.1:5064"), True),
    (report("127.0.0.1:5064", "127.0.0.1:5064"), True),
    (report("127.0.0.1:5064", "127.0.0.1:40123"), False),  # two servers of this host
    (report("127.0.0.1:5064", "198.51.100.7:5064"), False),  # another machine (TEST-NET-2, never bound here)
    ("something else entirely", False),
])
def test_one_server_seen_twice_is_told_from_two_servers(context, same):
    assert same_server(context) is same


def test_the_status_is_libcas_duplicate_name_warning():
    from epicscorelibs.ca import cadef

    assert cadef.ca_message(ECA_DBLCHNL) == "Identical process variable names on multiple servers"
