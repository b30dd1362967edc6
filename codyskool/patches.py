"""Every change this server makes to its libraries' internals, in one place.

Each one leans on a private detail of python-socketio or eventlet;
tests/test_patches.py checks each detail, so an upgrade that moves it fails a test instead of
silently undoing the change. ``apply`` is called by the app factory and is idempotent;
``speed_up_websocket_unmasking`` by ``prepare_async_mode``, once eventlet is imported.
"""

from __future__ import annotations

import contextvars
from typing import Any

import socketio
from socketio import packet as sio_packet
from socketio.packet import Packet

from .protocol import MALFORMED

CLIENT_PACKET_TYPES = (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT, sio_packet.ACK)
_ack_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar("ack_wanted", default=False)
_applied = False


def apply() -> None:
    global _applied
    if not _applied:
        _applied = True
        _tell_handlers_whether_an_ack_is_wanted()


# --- python-socketio -----------------------------------------------------------------------------


class TextOnlyPacket(Packet):
    """Socket.IO packets as this protocol uses them: JSON text, events with a name, one namespace.

    python-socketio drops a packet it cannot parse (and would buffer as many binary attachments as
    a packet announces). Such a packet becomes a MALFORMED event instead, which the event handlers
    answer with an `error`, so a hand-made client learns what was wrong.
    """

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        if encoded_packet is not None and len(encoded_packet) == 0:
            self._become_malformed("the message is empty")

    def decode(self, encoded_packet: Any) -> int:
        try:
            attachments = super().decode(encoded_packet)
            problem = self._problem(attachments)
        except (ValueError, TypeError, RecursionError) as error:
            problem = f"it does not parse ({str(error)[:80] or type(error).__name__})"
        if problem:
            self._become_malformed(problem)
            return 0
        return attachments

    def _problem(self, attachments: int) -> str | None:
        if attachments or self.packet_type in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
            return "binary attachments are not part of the protocol"
        if self.packet_type not in CLIENT_PACKET_TYPES:
            return f"a client cannot send packets of type {self.packet_type!r}"
        if self.packet_type == sio_packet.EVENT:
            if self.namespace not in (None, "/"):
                return f"unknown namespace {str(self.namespace)[:40]!r}; this server has only '/'"
            if not (isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
                return "an event is a JSON array whose first item is its name"
        return None

    def _become_malformed(self, problem: str) -> None:
        self.packet_type, self.namespace, self.data = sio_packet.EVENT, None, [MALFORMED, problem]
        self.attachment_count = 0


def ack_wanted() -> bool:
    """Whether the client that sent the event being handled asked for an acknowledgement.

    A refused request is reported once: in its acknowledgement when the client waits for one,
    else as an `error` event. python-socketio does not tell a handler, so the server's event
    dispatch is wrapped to say it.
    """
    return _ack_wanted.get()


def _tell_handlers_whether_an_ack_is_wanted() -> None:
    original = socketio.Server._handle_event_internal

    def handle_event_internal(self: Any, server: Any, sid: str, eio_sid: str, data: Any,
                              namespace: str, id: int | None) -> Any:
        token = _ack_wanted.set(id is not None)
        try:
            return original(self, server, sid, eio_sid, data, namespace, id)
        finally:
            _ack_wanted.reset(token)

    socketio.Server._handle_event_internal = handle_event_internal


# --- eventlet ------------------------------------------------------------------------------------


def speed_up_websocket_unmasking() -> None:
    """eventlet unmasks incoming WebSocket frames a byte at a time in Python (~1 s per MB, in the
    server's only thread): a client sending one big message would stall every other client."""
    from eventlet.websocket import RFC6455WebSocket

    RFC6455WebSocket._apply_mask = staticmethod(apply_mask)


def apply_mask(data: bytes, mask: bytes, length: int | None = None, offset: int = 0) -> bytes:
    length = len(data) if length is None else length
    key = bytes(mask[(offset + index) % 4] for index in range(4))
    stream = (key * (length // 4 + 1))[:length]
    masked = int.from_bytes(data[:length], "big") ^ int.from_bytes(stream, "big")
    return masked.to_bytes(length, "big")
