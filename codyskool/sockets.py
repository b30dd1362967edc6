"""Socket.IO event handlers: thin translations between the protocol and RunService.

A connection has at most one run; it is stopped when the client starts another, sends `kill`, or
goes away. Connections and runs are counted by admission control (codyskool/admission.py): a
connection over its address's cap is refused, a run over a rate limit gets an `error`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request
from socketio.exceptions import ConnectionRefusedError as ConnectionRefused

from . import protocol
from .admission import Refused
from .extensions import socketio
from .protocol import ProtocolError
from .runs import Run
from .service import get_service

log = logging.getLogger(__name__)

ONE_ARGUMENT = "'{}' takes one argument, a JSON object"
_runs: dict[str, Run] = {}
_runs_lock = threading.Lock()


def current_run(sid: str) -> Run | None:
    run = _runs.get(sid)
    return run if run is not None and run.state != "ended" else None


def refuse(message: str, run_id: str | None = None) -> None:
    socketio.emit(protocol.ERROR, protocol.error_payload(message, run_id), to=request.sid)


def emitter(sid: str):  # noqa: ANN201 - returns the Emit callback a Run uses
    def emit(event: str, payload: dict[str, Any]) -> None:
        socketio.emit(event, payload, to=sid)

    return emit


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    try:
        get_service().connect(request.sid)
    except Refused as error:
        raise ConnectionRefused(str(error)) from None


@socketio.on(protocol.RUN)
def on_run(payload: Any = None, *extra: Any) -> dict[str, Any]:
    sid = request.sid
    with _runs_lock:
        previous = current_run(sid)
        try:
            if extra:
                raise ProtocolError(ONE_ARGUMENT.format(protocol.RUN))
            run = get_service().start(payload, emitter(sid), replacing=previous, session=sid)
        except ProtocolError as error:
            refuse(str(error))
            return {"ok": False, "error": str(error)}
        _runs[sid] = run
    if previous is not None:
        previous.stop("killed")
    return {"ok": True, "run_id": run.id}


@socketio.on(protocol.STDIN)
def on_stdin(payload: Any = None, *extra: Any) -> None:
    run = current_run(request.sid)
    try:
        if extra:
            raise ProtocolError(ONE_ARGUMENT.format(protocol.STDIN))
        stdin = get_service().parse_stdin(payload)
        if run is None:
            raise ProtocolError("no program is running")
        run.send_stdin(stdin)
    except ProtocolError as error:
        refuse(str(error), run.id if run else None)


@socketio.on(protocol.KILL)
def on_kill(*_: Any) -> None:
    run = current_run(request.sid)
    if run is not None:
        run.stop("killed")


@socketio.on("disconnect")
def on_disconnect(*_: Any) -> None:
    if socketio.server.manager.is_connected(request.sid, request.namespace):
        # A client may send an event named "disconnect" and python-socketio hands it to this
        # handler; a real disconnect has already marked the connection as leaving.
        refuse("unknown event 'disconnect'")
        return
    with _runs_lock:
        run = _runs.pop(request.sid, None)
    if run is not None:
        run.stop("killed")
    get_service().disconnect(request.sid)


@socketio.on(protocol.MALFORMED)
def on_malformed(problem: Any = None, *_: Any) -> dict[str, Any]:
    message = f"malformed Socket.IO packet: {str(problem)[:200]}"
    refuse(message)
    return {"ok": False, "error": message}


@socketio.on_error_default
def on_error(error: Exception) -> None:
    log.exception("socket event failed", exc_info=error)
    refuse("The server could not handle that request.")


@socketio.on("*")
def on_unknown(event: str, *_: Any) -> None:
    refuse(f"unknown event {str(event)[:40]!r}")
