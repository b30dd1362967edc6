"""The pages people open in a browser."""

from __future__ import annotations

from flask import Blueprint, render_template

from .service import get_service

bp = Blueprint("pages", __name__)


@bp.get("/")
def ide() -> str:
    service = get_service()
    return render_template(
        "ide.html",
        languages=service.public_languages(),
        backend=service.backend.name,
        limits=service.limits.public(),
    )
