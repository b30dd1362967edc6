"""Every change this server makes to its libraries' internals, in one place.

Each one leans on a private detail of python-socketio or eventlet;
tests/test_patches.py checks each detail, so an upgrade that moves it fails a test instead of
silently undoing the change. ``apply`` is called by the app factory and is idempotent;
``harden_eventlet`` by ``prepare_async_mode``, once eventlet is imported; ``guarded_protocol`` is
the HTTP protocol the eventlet server runs with (__main__.py).
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
        _gate_engineio_connections()


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


def _gate_engineio_connections() -> None:
    """python-socketio accepts every Engine.IO connection and waits for it to join a namespace for
    as long as it stays open. A server's ``transport_gate`` (codyskool/transports.py), when it has
    one, hears of each connection, each join and each close, and may refuse a connection."""
    server_class = socketio.Server
    eio_connect = server_class._handle_eio_connect
    connect = server_class._handle_connect
    eio_disconnect = server_class._handle_eio_disconnect
    leave = server_class._handle_disconnect

    def handle_eio_connect(self: Any, eio_sid: str, environ: dict[str, Any]) -> Any:
        gate = getattr(self, "transport_gate", None)
        if gate is not None and not gate.opened(eio_sid, environ):
            return False  # python-engineio answers 401 and forgets the connection
        return eio_connect(self, eio_sid, environ)

    def handle_connect(self: Any, eio_sid: str, namespace: str | None, data: Any) -> Any:
        gate = getattr(self, "transport_gate", None)
        if gate is not None and gate.was_refused(eio_sid):
            refusal = {"message": "too many connections from your address; close some tabs and try again"}
            self._send_packet(eio_sid, self.packet_class(sio_packet.CONNECT_ERROR, data=refusal,
                                                         namespace=namespace or "/"))
            return None
        result = connect(self, eio_sid, namespace, data)
        if gate is not None:
            if self.manager.sid_from_eio_sid(eio_sid, namespace or "/") is not None:
                gate.joined(eio_sid)
            elif (namespace or "/") == "/":  # refused by the app, which told it why
                gate.join_refused(eio_sid)
        return result

    def handle_disconnect(self: Any, eio_sid: str, namespace: str | None, reason: Any = None) -> Any:
        try:
            return leave(self, eio_sid, namespace, reason)
        finally:
            gate = getattr(self, "transport_gate", None)
            if gate is not None:
                gate.left(eio_sid)  # if the Engine.IO connection is closing too, closed() follows

    def handle_eio_disconnect(self: Any, eio_sid: str, reason: Any = None) -> Any:
        try:
            return eio_disconnect(self, eio_sid, reason)
        finally:
            gate = getattr(self, "transport_gate", None)
            if gate is not None:
                gate.closed(eio_sid)

    server_class._handle_eio_connect = handle_eio_connect
    server_class._handle_connect = handle_connect
    server_class._handle_eio_disconnect = handle_eio_disconnect
    server_class._handle_disconnect = handle_disconnect


# --- eventlet ------------------------------------------------------------------------------------


def harden_eventlet() -> None:
    """What eventlet's WebSocket server does that one client could use against all the others."""
    from eventlet import websocket

    websocket.RFC6455WebSocket._apply_mask = staticmethod(apply_mask)
    _refuse_legacy_websockets(websocket.WebSocketWSGI)
    _bound_assembled_messages(websocket.RFC6455WebSocket.Message, websocket.FailedConnectionError)


def apply_mask(data: bytes, mask: bytes, length: int | None = None, offset: int = 0) -> bytes:
    """eventlet unmasks incoming frames a byte at a time in Python (~1 s per MB, in the server's
    only thread): a client sending one big message would stall every other client."""
    length = len(data) if length is None else length
    key = bytes(mask[(offset + index) % 4] for index in range(4))
    stream = (key * (length // 4 + 1))[:length]
    masked = int.from_bytes(data[:length], "big") ^ int.from_bytes(stream, "big")
    return masked.to_bytes(length, "big")


def _refuse_legacy_websockets(wsgi_class: Any) -> None:
    """An upgrade without Sec-WebSocket-Version got the pre-RFC 6455 (hixie) protocol, whose
    buffer is unbounded and quadratic: such requests are answered 400."""
    original = wsgi_class.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.support_legacy_versions = False

    wsgi_class.__init__ = init


def _bound_assembled_messages(message_class: Any, failed: type[Exception]) -> None:
    """The frame size limit held per frame, not per message: continuation frames could assemble
    any size. A message over the limit closes the connection with 1009 (message too big)."""
    original = message_class.push

    def push(self: Any, data: bytes, final: bool = False) -> None:
        self.assembled = getattr(self, "assembled", 0) + len(data)
        if self.assembled > self.max_frame_length:
            raise failed(1009, f"message over the limit of {self.max_frame_length} bytes")
        original(self, data, final=final)

    message_class.push = push


def guarded_protocol(header_timeout_s: float, max_sockets_per_client: int) -> type:
    """eventlet's HTTP protocol, with a deadline for a request's line and headers (a client that
    trickles them holds one of the server's green threads for ever otherwise) and, when no proxy
    stands in front (``max_sockets_per_client`` > 0), a cap on one address's open sockets."""
    import eventlet
    from eventlet.wsgi import HttpProtocol

    from .admission import client_key, decrement  # a key per IPv4 address or IPv6 /64

    open_sockets: dict[str, int] = {}

    class GuardedProtocol(HttpProtocol):
        deadline: Any = None

        def handle(self) -> None:
            address = client_key(str(self.client_address[0])) if self.client_address else ""
            count = open_sockets.get(address, 0)
            if max_sockets_per_client and count >= max_sockets_per_client:
                self.close_connection = 1
                return  # closed at once: this address holds enough of the server
            open_sockets[address] = count + 1
            try:
                super().handle()
            finally:
                decrement(open_sockets, address)

        def _read_request_line(self) -> Any:
            self._cancel_deadline()
            self.deadline = eventlet.Timeout(header_timeout_s, TimeoutError("request headers too slow"))
            return super()._read_request_line()

        def parse_request(self) -> Any:
            try:
                return super().parse_request()
            finally:
                self._cancel_deadline()

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            finally:
                self._cancel_deadline()

        def _cancel_deadline(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

    GuardedProtocol.open_sockets = open_sockets
    return GuardedProtocol
