"""Shared programs: the JSON API (/api/snippets) and the page a share link opens (/s/<id>)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request, url_for

from . import snippets
from .db import get_engine
from .pages import render_ide
from .service import get_service

bp = Blueprint("share", __name__)

NOT_FOUND = "There is no shared program at this address. Check that the link was copied whole."


def snippet_url(snippet_id: str) -> str:
    return url_for("share.snippet_page", snippet_id=snippet_id, _external=True)


def load_or_404(snippet_id: str) -> snippets.Snippet:
    snippet = snippets.load(get_engine(), snippet_id)
    if snippet is None:
        abort(404, NOT_FOUND)
    return snippet


@bp.post("/api/snippets")
def create_snippet() -> Any:
    service = get_service()
    program = snippets.validate(request.get_json(silent=True), service.languages, service.limits)
    service.admission.record_share(service.client())  # only valid requests count
    snippet = snippets.create(get_engine(), program.language.id, program.code, program.stdin)
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
