"""Socket.IO event handlers: thin translations between the protocol and RunService.

A connection has at most one run; it is stopped when the client starts another, sends `kill`, or
goes away (the service decides, codyskool/service.py). A refused request is reported once, by
``refuse``: in its acknowledgement when the client asked for one, else as an `error` event.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from socketio.exceptions import ConnectionRefusedError as ConnectionRefused

from . import protocol
from .errors import BadRequest, Busy, CodySkoolError
from .extensions import socketio
from .patches import ack_wanted
from .protocol import ClientEvent
from .service import get_service

log = logging.getLogger(__name__)

ONE_ARGUMENT = "'{}' takes one argument, a JSON object"


def send(message: protocol.Message, to: str) -> None:
    socketio.emit(*message, to=to)


def emitter(sid: str) -> protocol.Emit:
    def emit(event: str, payload: dict[str, Any]) -> None:
        socketio.emit(event, payload, to=sid)

    return emit


def refuse(error: CodySkoolError, run_id: str | None = None) -> dict[str, Any] | None:
    """Report a refused request once; the handler returns what this returns (its ack, if any)."""
    message = str(error)
    if ack_wanted():
        return protocol.ack_refused(message)
    send(protocol.error(message, run_id), to=request.sid)
    return None


def one_argument(event: str, extra: tuple[Any, ...]) -> None:
    if extra:
        raise BadRequest(ONE_ARGUMENT.format(event))


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    try:
        get_service().connect(request.sid)
    except Busy as error:
        raise ConnectionRefused(str(error)) from None


@socketio.on(ClientEvent.RUN)
def on_run(payload: Any = None, *extra: Any) -> dict[str, Any] | None:
    try:
        one_argument(ClientEvent.RUN, extra)
        run = get_service().run_for(request.sid, payload, emitter(request.sid))
    except CodySkoolError as error:
        return refuse(error)
    return protocol.ack_run(run.id)


@socketio.on(ClientEvent.STDIN)
def on_stdin(payload: Any = None, *extra: Any) -> dict[str, Any] | None:
    return to_current_run(ClientEvent.STDIN, payload, extra)


@socketio.on(ClientEvent.CANVAS)
def on_canvas(payload: Any = None, *extra: Any) -> dict[str, Any] | None:
    return to_current_run(ClientEvent.CANVAS, payload, extra)


def to_current_run(event: ClientEvent, payload: Any, extra: tuple[Any, ...]) -> dict[str, Any] | None:
    """Pass a request to the connection's run (stdin, or its canvas's clicks and keys); a refusal
    names the run."""
    service = get_service()
    deliver = service.send_stdin if event == ClientEvent.STDIN else service.send_canvas
    try:
        one_argument(event, extra)
        deliver(request.sid, payload)
    except CodySkoolError as error:
        run = service.current_run(request.sid)
        return refuse(error, run.id if run else None)
    return None


@socketio.on(ClientEvent.KILL)
def on_kill(*_: Any) -> None:
    get_service().kill(request.sid)


@socketio.on("disconnect")
def on_disconnect(*_: Any) -> Any:
    if socketio.server.manager.is_connected(request.sid, request.namespace):
        # A client may send an event named "disconnect" and python-socketio hands it to this
        # handler; a real disconnect has already marked the connection as leaving.
        return refuse(BadRequest("unknown event 'disconnect'"))
    get_service().disconnect(request.sid)
    return None


@socketio.on(protocol.MALFORMED)
def on_malformed(problem: Any = None, *_: Any) -> dict[str, Any]:
    message = f"malformed Socket.IO packet: {str(problem)[:200]}"
    send(protocol.error(message), to=request.sid)
    return protocol.ack_refused(message)


@socketio.on_error_default
def on_error(error: Exception) -> Any:
    log.exception("socket event failed", exc_info=error)
    return refuse(CodySkoolError("The server could not handle that request."))


@socketio.on("*")
def on_unknown(event: str, *_: Any) -> Any:
    return refuse(BadRequest(f"unknown event {str(event)[:40]!r}"))
