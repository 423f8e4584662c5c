"""The hosted CA server drops the answer to a request whose channel the client cleared
meanwhile (host/_ca_circuit._answerable), against caproto's own circuit state machine.

Without it, caproto's ``send`` raises ``LocalProtocolError('Unknown Channel ioid')``
for that answer, which ends the circuit's command loop and printed a traceback when a
client exited during a read (the REPL's exit, a Ctrl-C'd move).
"""

from __future__ import annotations

import caproto as ca
import pytest

from ctlshell.host._ca_circuit import _answerable

SID, CID = 7, 1


@pytest.fixture
def circuit():
    """A server-side caproto circuit with one channel and two reads pending (ioids 41, 42)."""
    srv = ca.VirtualCircuit(our_role=ca.SERVER, address=("127.0.0.1", 5064), priority=0)
    srv.process_command(ca.VersionRequest(priority=0, version=13))
    srv.send(ca.VersionResponse(13))
    srv.process_command(ca.HostNameRequest("host"))
    srv.process_command(ca.ClientNameRequest("user"))
    srv.process_command(ca.CreateChanRequest("X", CID, 13))
    srv.send(ca.AccessRightsResponse(CID, 3), ca.CreateChanResponse(ca.ChannelType.DOUBLE, 1, CID, SID))
    for ioid in (41, 42):
        srv.process_command(ca.ReadNotifyRequest(ca.ChannelType.DOUBLE, 1, SID, ioid))
    srv.process_command(ca.WriteNotifyRequest([2.0], ca.ChannelType.DOUBLE, 1, SID, 43))
    return srv


def _read_answer(ioid: int) -> ca.ReadNotifyResponse:
    return ca.ReadNotifyResponse([1.0], ca.ChannelType.DOUBLE, 1, 1, ioid)


def test_answers_of_an_open_channel_all_go_out(circuit):
    answers = (_read_answer(41), ca.WriteNotifyResponse(ca.ChannelType.DOUBLE, 1, 1, 43))
    assert _answerable(circuit, answers) == answers
    circuit.send(*answers)  # caproto accepts them


def test_answers_after_the_client_cleared_the_channel_are_dropped(circuit):
    circuit.send(_read_answer(41))
    circuit.process_command(ca.ClearChannelRequest(SID, CID))
    circuit.send(ca.ClearChannelResponse(SID, CID))
    late = (_read_answer(42), ca.WriteNotifyResponse(ca.ChannelType.DOUBLE, 1, 1, 43))
    with pytest.raises(ca.LocalProtocolError, match="Unknown Channel ioid 42"):
        circuit.send(late[0])  # what caproto does with them: the reason for the filter
    assert _answerable(circuit, late) == ()
    other = ca.EchoResponse()
    assert _answerable(circuit, (other, *late)) == (other,)  # nothing else is touched
