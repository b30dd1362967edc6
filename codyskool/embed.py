"""The embeddable editor: /embed/<id> and /embed?language=...&code=..., options in the query
string (docs/embed.md). The page's script (static/src/embed.js) speaks the postMessage API."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from .programs import read_program
from .service import get_service
from .share import load_or_404, snippet_url

bp = Blueprint("embed", __name__)

THEMES = ("light", "dark")
MIN_HEIGHT, MAX_HEIGHT = 120, 4000
FRAME_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
ORIGIN_PATTERN = re.compile(r"[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:\d{1,5})?|null")


def flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "on")


def options() -> dict[str, Any]:
    """The display options and the postMessage settings of this embed, from the query string."""
    args = request.args
    theme = args.get("theme", "")
    height = args.get("height", "")
    frame = args.get("frame", "")
    origin = args.get("origin", "")
    if frame and not FRAME_PATTERN.fullmatch(frame):
        abort(400, "frame= must be 1 to 64 letters, digits or _ . : -")
    if origin and not ORIGIN_PATTERN.fullmatch(origin):
        abort(400, "origin= must be an origin such as https://example.org (no path)")
    return {
        "theme": theme if theme in THEMES else "",
        "readonly": flag("readonly"),
        "autorun": flag("autorun"),
        "hide_editor": flag("hide_editor"),
        "height": min(max(int(height), MIN_HEIGHT), MAX_HEIGHT) if height.isdigit() else None,
        "frame": frame,
        "origin": origin,
        "allowed_origins": list(current_app.config["EMBED_ALLOWED_ORIGINS"]),
    }


def render_embed(program: dict[str, Any], open_url: str | None) -> str:
    service = get_service()
    language = service.languages[program["language"]]
    embed = options()
    return render_template(
        "embed.html",
        language=language.public(),
        languages=service.public_languages(),
        limits=service.limits.public(),
        embed=embed,
        page={"mode": "embed", "program": program, "embed": embed, "open_url": open_url},
    )


@bp.get("/embed/<snippet_id>")
def embed_snippet(snippet_id: str) -> str:
    snippet = load_or_404(snippet_id)
    if snippet.language not in get_service().languages:
        abort(404, f"This server cannot run {snippet.language} programs.")
    program = {key: getattr(snippet, key) for key in ("id", "language", "code", "stdin")}
    return render_embed(program, snippet_url(snippet.id))


@bp.get("/embed")
def embed_code() -> str:
    service = get_service()
    language = request.args.get("language", "python")
    if language not in service.languages:
        abort(400, f"Unknown language {language[:40]!r}: see /api/languages for the ids.")
    code = request.args.get("code")
    stdin = request.args.get("stdin", "")
    if code is None:
        # The program may be in the fragment (#code=...), which only the page's script sees.
        code = service.languages[language].hello
    read_program({"language": language, "code": code, "stdin": stdin}, service.languages, service.limits,
                 request="embed")
    return render_embed({"id": None, "language": language, "code": code, "stdin": stdin}, None)
