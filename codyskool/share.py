"""Shared programs: the JSON API (/api/snippets) and the page a share link opens (/s/<id>)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from . import snippets
from .db import get_engine
from .errors import BadRequest
from .pages import render_ide
from .service import get_service

bp = Blueprint("share", __name__)

NOT_FOUND = "There is no shared program at this address. Check that the link was copied whole."


def public_url(endpoint: str, **values: Any) -> str:
    """A link the server hands out: under CODYSKOOL_BASE_URL, else relative to the server's root;
    never built from the request's Host header, which the client chooses."""
    path = url_for(endpoint, **values)
    base = current_app.config["BASE_URL"]
    if not base:
        return path
    root = request.script_root  # the prefix a proxy mounted the app under: BASE_URL names it
    return base + (path[len(root):] if root and path.startswith(root + "/") else path)


def snippet_url(snippet_id: str) -> str:
    return public_url("share.snippet_page", snippet_id=snippet_id)


def load_or_404(snippet_id: str) -> snippets.Snippet:
    snippet = snippets.load(get_engine(), snippet_id)
    if snippet is None:
        abort(404, NOT_FOUND)
    return snippet


@bp.post("/api/snippets")
def create_snippet() -> Any:
    service = get_service()
    payload = request.get_json(silent=True)
    if payload is None:  # not JSON at all (read_program takes a missing body as an empty object)
        raise BadRequest("'share' expects a JSON object with 'language' and 'code'")
    program = snippets.validate(payload, service.languages, service.limits)
    service.admission.record_share(service.client())  # only valid requests count
    max_total_bytes = current_app.config["SNIPPETS_MAX_TOTAL_MB"] << 20
    snippet = snippets.create(get_engine(), program.language.id, program.code, program.stdin,
                              max_total_bytes=max_total_bytes)  # fmt: skip
    url = snippet_url(snippet.id)
    return jsonify(id=snippet.id, url=url), 201, {"Location": url}


@bp.get("/api/snippets/<snippet_id>")
def get_snippet(snippet_id: str) -> Any:
    snippet = load_or_404(snippet_id)
    return jsonify(**snippet.public(), url=snippet_url(snippet.id))


@bp.get("/s/<snippet_id>")
def snippet_page(snippet_id: str) -> str:
    snippet = load_or_404(snippet_id)
    languages = get_service().languages
    if snippet.language not in languages:
        abort(404, f"This server cannot run {snippet.language} programs.")
    name = languages[snippet.language].name
    program = {key: getattr(snippet, key) for key in ("id", "language", "code", "stdin")}
    return render_ide({"mode": "snippet", "program": program}, title=f"Shared {name} program")
