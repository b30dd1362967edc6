"""Each private detail of python-socketio and eventlet that codyskool/patches.py leans on.

When an upgrade moves one of them, a test here fails, instead of the change being silently lost.
"""

from __future__ import annotations

import inspect
import os
import warnings

import pytest
import socketio
from socketio import packet as sio_packet

from codyskool import patches
from codyskool.protocol import MALFORMED


def test_socketio_dispatches_events_through_the_wrapped_method() -> None:
    patches.apply()
    method = socketio.Server._handle_event_internal
    assert list(inspect.signature(method).parameters) == [
        "self", "server", "sid", "eio_sid", "data", "namespace", "id"]
    assert method.__qualname__.endswith("handle_event_internal") and method.__module__ == patches.__name__
    source = inspect.getsource(socketio.Server._handle_event)
    assert "_handle_event_internal" in source, "python-socketio no longer dispatches through it"


def test_ack_wanted_outside_an_event() -> None:
    assert patches.ack_wanted() is False


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        ("", "empty"),
        ('2["run", {oops', "does not parse"),
        ("2/other,[\"run\",{}]", "unknown namespace"),
        ("2[42]", "first item is its name"),
        ('51-["run",{"_placeholder":true,"num":0}]', "binary attachments"),
        ("4", "cannot send packets of type"),
    ],
)
def test_packets_the_protocol_cannot_use_become_malformed_events(encoded: str, problem: str) -> None:
    packet = patches.TextOnlyPacket(encoded_packet=encoded)
    assert packet.packet_type == sio_packet.EVENT and packet.attachment_count == 0
    assert packet.data[0] == MALFORMED and problem in packet.data[1]


def test_a_good_packet_passes_unchanged() -> None:
    packet = patches.TextOnlyPacket(encoded_packet='27["run",{"language":"python"}]')
    assert (packet.packet_type, packet.id) == (sio_packet.EVENT, 7)
    assert packet.data == ["run", {"language": "python"}]


def test_eventlet_unmasks_through_the_method_that_is_replaced() -> None:
    """(harden_eventlet replaces it; this checks the original it replaces still fits.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from eventlet.websocket import RFC6455WebSocket

    original = RFC6455WebSocket.__dict__["_apply_mask"]
    assert isinstance(original, staticmethod)
    assert list(inspect.signature(original.__func__).parameters) == ["data", "mask", "length", "offset"]
    for length, offset in ((0, 0), (1, 3), (13, 2), (4096, 1)):
        data, mask = os.urandom(length + 5), os.urandom(4)
        expected = original.__func__(data, mask, length=length, offset=offset)
        assert patches.apply_mask(data, mask, length=length, offset=offset) == bytes(expected)
