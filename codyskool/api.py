"""The JSON API, for callers that are not browsers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from . import protocol
from .admission import Refused
from .protocol import ProtocolError, StdinRequest
from .service import get_service

bp = Blueprint("api", __name__, url_prefix="/api")
RESULT_MARGIN_S = 60


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
        return jsonify(error="expected a JSON object with 'language' and 'code'"), 400
    streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
    result: dict[str, Any] = {}

    def collect(event: str, data: dict[str, Any]) -> None:
        if event == protocol.OUTPUT:
            streams[data["stream"]].append(data["data"])
        elif event == protocol.EXIT:
            result.update({key: value for key, value in data.items() if key != "run_id"})

    try:
        run = service.start(payload, collect)
    except Refused as error:  # the request was fine; the server is busy or the client too fast
        return jsonify(error=str(error)), 429
    except ProtocolError as error:
        return jsonify(error=str(error)), 400
    run.send_stdin(StdinRequest(eof=True))
    limits = service.limits
    if not run.wait(limits.wall_time_s + limits.compile_time_s + RESULT_MARGIN_S):
        run.stop("timeout")
        run.wait(RESULT_MARGIN_S)
    return jsonify(stdout="".join(streams["stdout"]), stderr="".join(streams["stderr"]), exit=result)
