"""The application factory: settings, the sandbox backend, the Socket.IO server, the blueprints."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .concurrency import Tasks
from .config import PROJECT_ROOT, ConfigError, Limits, load_config
from .extensions import socketio
from .languages import load_languages
from .memory import start_releasing_memory
from .protocol import TextOnlyPacket
from .sandbox import Backend, create_backend
from .service import RunService, init_app

# Socket.IO drops messages over this size before our own checks could answer; keep it well above
# the code and stdin limits (plus room for a 10 MB program, which gets a clear error).
TRANSPORT_HEADROOM_BYTES = 16 << 20
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def create_app(test_config: Mapping[str, Any] | None = None, backend: Backend | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config())
    if test_config:
        app.config.update(test_config)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format=LOG_FORMAT)
    limits = Limits.from_config(app.config)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        max_http_buffer_size=limits.code_bytes + limits.stdin_bytes + TRANSPORT_HEADROOM_BYTES,
        serializer=TextOnlyPacket,
    )
    backend = backend or create_backend(app.config, limits)
    removed = backend.remove_leftovers()
    if removed:
        app.logger.warning("removed %d sandboxes left over from an earlier server", removed)
    languages = {key: lang for key, lang in load_languages().items() if backend.supports(lang)}
    unknown = set(app.config["POOL_SIZES"]) - set(languages)
    if unknown:
        raise ConfigError(f"CODYSKOOL_POOL_SIZES names unknown languages: {', '.join(sorted(unknown))}")
    tasks = Tasks(socketio)
    backend.start_background(tasks)
    start_releasing_memory(tasks)
    init_app(app, RunService(backend, limits, languages, tasks))

    from . import api, db, embed, events, gallery, headers, pages, share  # noqa: F401 - events registers handlers

    db.init_app(app)
    headers.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(share.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(gallery.bp)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, internal_error)
    return app


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def http_error(error: HTTPException) -> Any:
    if wants_json():
        return jsonify(error=error.description), error.code
    return render_template("error.html", error=error), error.code


def internal_error(error: Exception) -> Any:
    logging.getLogger(__name__).exception("request failed", exc_info=error)
    if wants_json():
        return jsonify(error="internal server error"), 500
    return render_template("error.html", error=None), 500
