"""Where the clients search when the user set nothing (core/_search.py), and where a
hosted CA server listens for broadcast searches (host/_ca_udp.py). No socket is opened
except the ones a server binds itself (on loopback)."""

from __future__ import annotations

import socket

import pytest

from ctlshell.core import apply_local_search, local_pva_search, local_search
from ctlshell.host._ca_udp import LOOPBACK_BROADCAST, broadcast_of, broadcast_socket


@pytest.mark.parametrize(("env", "added"), [
    ({}, {"EPICS_CA_ADDR_LIST": "127.255.255.255"}),
    ({"EPICS_CA_ADDR_LIST": "  "}, {"EPICS_CA_ADDR_LIST": "127.255.255.255"}),
    ({"EPICS_CA_AUTO_ADDR_LIST": "YES"}, {"EPICS_CA_ADDR_LIST": "127.255.255.255"}),
    ({"EPICS_CA_ADDR_LIST": "10.0.0.255"}, {}),  # the user's list wins
    ({"EPICS_CA_AUTO_ADDR_LIST": "no"}, {}),  # the user asked for an explicit list
])
def test_ca_searches_loopback_broadcast_only_when_the_user_set_no_list(env, added):
    assert local_search(env) == added


def test_apply_changes_only_what_was_unset():
    env = {"EPICS_CA_ADDR_LIST": "192.0.2.255", "OTHER": "x"}
    assert apply_local_search(env) == {}
    assert env == {"EPICS_CA_ADDR_LIST": "192.0.2.255", "OTHER": "x"}
    env = {"OTHER": "x"}
    assert apply_local_search(env) == {"EPICS_CA_ADDR_LIST": "127.255.255.255"}
    assert env["EPICS_CA_ADDR_LIST"] == "127.255.255.255"


@pytest.mark.parametrize(("env", "conf"), [
    ({}, {"EPICS_PVA_ADDR_LIST": "127.0.0.1"}),
    ({"EPICS_PVA_ADDR_LIST": "127.0.0.1:5076"}, {}),
    ({"EPICS_PVA_AUTO_ADDR_LIST": "NO"}, {}),
])
def test_pva_searches_this_host_only_when_the_user_set_no_list(env, conf):
    assert local_pva_search(env) == conf


@pytest.mark.parametrize(("interface", "broadcast"), [
    ("127.0.0.1", LOOPBACK_BROADCAST), ("127.0.0.2", LOOPBACK_BROADCAST),
    ("0.0.0.0", None),  # the wildcard receives broadcasts already
    ("localhost", None), ("not an address", None),
    ("198.51.100.7", None),  # no interface of this machine has it
])
def test_broadcast_address_of_an_interface(interface, broadcast):
    assert broadcast_of(interface) == broadcast


def test_two_servers_share_the_broadcast_address_and_a_datagram_reaches_both():
    a = broadcast_socket(LOOPBACK_BROADCAST, 0)
    port = a.getsockname()[1]
    b = broadcast_socket(LOOPBACK_BROADCAST, port)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            client.sendto(b"search", (LOOPBACK_BROADCAST, port))
        for sock in (a, b):
            sock.settimeout(5)
            assert sock.recv(100) == b"search"
    finally:
        a.close()
        b.close()
