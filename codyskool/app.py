"""The application factory: settings, the sandbox backend, the Socket.IO server, the blueprints.

``create_app`` only builds the app: nothing is started, swept, migrated or logged. What a serving
process does once, before it takes requests, is ``startup.start`` (called by ``python -m
codyskool serve`` and wsgi.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from . import patches, sockets  # noqa: F401 - sockets registers its handlers before any init_app
from .concurrency import Tasks
from .config import PROJECT_ROOT, Limits, load_config
from .errors import CodySkoolError, ConfigError
from .extensions import socketio
from .languages import load_languages, warm_preloads
from .sandbox import Backend, create_backend
from .service import init_app
from .transports import TransportGate

# Socket.IO drops messages over this size before our own checks could answer; keep it well above
# the code and stdin limits (plus room for a 10 MB program, which gets a clear error).
TRANSPORT_HEADROOM_BYTES = 16 << 20
# A JSON body may escape every character of the code and stdin (\u0000 is 6 bytes for 1).
JSON_ESCAPE_FACTOR = 6
JSON_OVERHEAD_BYTES = 4096


def create_app(test_config: Mapping[str, Any] | None = None, backend: Backend | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config())
    if test_config:
        app.config.update(test_config)
    limits = Limits.from_config(app.config)
    # Bodies over what a program can be are refused (413) before they are read.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = JSON_ESCAPE_FACTOR * (
            limits.code_limit_bytes + limits.stdin_limit_bytes) + JSON_OVERHEAD_BYTES
    patches.apply()
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        max_http_buffer_size=limits.code_limit_bytes + limits.stdin_limit_bytes + TRANSPORT_HEADROOM_BYTES,
        serializer=patches.TextOnlyPacket,
    )
    registry = load_languages()
    backend = backend or create_backend(app.config, limits, warm_preloads(registry.values()))
    languages = {key: lang for key, lang in registry.items() if backend.supports(lang)}
    pools = {*languages, *warm_preloads(languages.values())}
    unknown = set(app.config["POOL_SIZES"]) - pools
    if unknown:
        raise ConfigError(f"CODYSKOOL_POOL_SIZES names unknown pools: {', '.join(sorted(unknown))} "
                          f"(there are {', '.join(sorted(pools))})")
    service = init_app(app, backend, languages, Tasks(socketio))
    socketio.server.transport_gate = TransportGate(service, app.config["JOIN_TIMEOUT_S"],
                                                   close=socketio.server.eio.disconnect)

    from . import api, db, embed, gallery, headers, pages, share

    db.init_app(app)
    headers.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(share.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(gallery.bp)
    app.register_error_handler(CodySkoolError, refused)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, internal_error)
    return app


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def refused(error: CodySkoolError) -> Any:
    """The one mapping of the error taxonomy to HTTP: its status, its message."""
    if error.status >= 500:
        logging.getLogger(__name__).error("request failed: %s", error)
    if wants_json():
        return jsonify(error=str(error)), error.status
    page_error = HTTPException(description=str(error))
    page_error.code = error.status
    return render_template("error.html", error=page_error), error.status


def http_error(error: HTTPException) -> Any:
    if wants_json():
        return jsonify(error=error.description), error.code
    return render_template("error.html", error=error), error.code


def internal_error(error: Exception) -> Any:
    logging.getLogger(__name__).exception("request failed", exc_info=error)
    if wants_json():
        return jsonify(error="internal server error"), 500
    return render_template("error.html", error=None), 500
