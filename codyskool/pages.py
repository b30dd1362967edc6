"""The pages people open in a browser."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from .service import get_service

bp = Blueprint("pages", __name__)


def render_ide(page: dict[str, Any] | None = None, title: str | None = None) -> str:
    """The IDE; `page` tells its script what to open (a shared program), see static/src/page.js."""
    service = get_service()
    return render_template(
        "ide.html",
        languages=service.public_languages(),
        backend=service.backend.name,
        runtime=service.backend.runtime,
        limits=service.limits.public(),
        page=page or {"mode": "ide"},
        title=title,
    )


@bp.get("/")
def ide() -> str:
    return render_ide()
