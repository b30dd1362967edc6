"""Each private detail of python-socketio and eventlet that codyskool/patches.py leans on.

When an upgrade moves one of them, a test here fails, instead of the change being silently lost.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

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


def test_socketio_connects_and_disconnects_through_the_gated_methods() -> None:
    patches.apply()
    for name, parameters in [("_handle_eio_connect", ["self", "eio_sid", "environ"]),
                             ("_handle_connect", ["self", "eio_sid", "namespace", "data"]),
                             ("_handle_eio_disconnect", ["self", "eio_sid", "reason"])]:
        method = getattr(socketio.Server, name)
        assert method.__module__ == patches.__name__, name
        original = inspect.getclosurevars(method).nonlocals
        upstream = next(value for value in original.values()
                        if callable(value) and value.__name__ == name)
        assert list(inspect.signature(upstream).parameters) == parameters, name
    assert "_handle_connect" in inspect.getsource(socketio.Server._handle_eio_message)


def test_the_eventlet_details_hold_in_a_process_of_their_own() -> None:
    checks = Path(__file__).with_name("eventlet_checks.py")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(checks)],
                          capture_output=True, text=True, timeout=120, cwd=checks.parent.parent)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "\n4 passed" in done.stdout, done.stdout[-500:]
