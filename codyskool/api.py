"""The JSON API, for callers that are not browsers. Refusals are CodySkoolErrors, which the app's
one error handler (app.py) answers with their status and message."""

from __future__ import annotations

import socket
import time
from typing import Any

from flask import Blueprint, jsonify, request

from .errors import BadRequest
from .protocol import ExitReason, ServerEvent, StdinRequest, without_run_id
from .service import get_service

bp = Blueprint("api", __name__, url_prefix="/api")
RESULT_MARGIN_S = 60
CLIENT_CHECK_S = 0.5


def client_gone(environ: dict[str, Any]) -> bool:
    """Whether the HTTP client hung up (eventlet's server only; elsewhere it cannot be told)."""
    wsgi_input = environ.get("eventlet.input")
    if wsgi_input is None:
        return False
    try:
        sock = wsgi_input.get_socket()
        raw = getattr(sock, "fd", sock)  # the real socket inside eventlet's
        return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # connected, nothing sent: still waiting for its answer
    except OSError:
        return True


@bp.get("/languages")
def languages() -> Any:
    return jsonify(languages=get_service().public_languages())


@bp.get("/health")
def health() -> Any:
    return jsonify(get_service().health())


@bp.post("/run")
def run_program() -> Any:
    """Run a program to the end with the given stdin and answer with all it wrote."""
    service = get_service()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest("expected a JSON object with 'language' and 'code'")
    streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
    displays: list[dict[str, Any]] = []  # a picture with the id of an earlier one replaces it there
    result: dict[str, Any] = {}

    def collect(event: str, data: dict[str, Any]) -> None:
        if event == ServerEvent.OUTPUT:
            streams[data["stream"]].append(data["data"])
        elif event == ServerEvent.DISPLAY:
            picture = without_run_id(data)
            ids = [shown.get("id") for shown in displays]
            if picture.get("id") is not None and picture["id"] in ids:
                displays[ids.index(picture["id"])] = picture
            else:
                displays.append(picture)
        elif event == ServerEvent.EXIT:
            result.update(without_run_id(data))

    run = service.start(payload, collect)
    run.send_stdin(StdinRequest(eof=True))
    limits = run.limits
    deadline = time.monotonic() + limits.wall_time_limit_s + limits.compile_time_limit_s + RESULT_MARGIN_S
    while not run.wait(CLIENT_CHECK_S):
        if client_gone(request.environ):  # nobody will read the answer: the run is stopped
            run.stop(ExitReason.KILLED)
        elif time.monotonic() > deadline:
            run.stop(ExitReason.TIMEOUT)
        else:
            continue
        run.wait(RESULT_MARGIN_S)
        break
    return jsonify(stdout="".join(streams["stdout"]), stderr="".join(streams["stderr"]), displays=displays,
                   exit=result)
