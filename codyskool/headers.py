"""Who may frame which page: embeds by FRAME_ANCESTORS (any page by default), every other page
only by IDE_FRAME_ANCESTORS (the app itself by default), through CSP frame-ancestors, plus
X-Frame-Options for browsers too old to know it."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

FRAMABLE_BLUEPRINTS = frozenset({"embed"})


def frame_headers(response: Response) -> Response:
    config = current_app.config
    embed = request.blueprint in FRAMABLE_BLUEPRINTS
    sources = config["FRAME_ANCESTORS"] if embed else config["IDE_FRAME_ANCESTORS"]
    policy = "frame-ancestors " + " ".join(sources)
    existing = response.headers.get("Content-Security-Policy")
    if existing and "frame-ancestors" not in existing:
        policy = f"{existing.rstrip('; ')}; {policy}"
    if not existing or "frame-ancestors" not in existing:
        response.headers["Content-Security-Policy"] = policy
    if sources == ("'self'",):
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    elif sources == ("'none'",):
        response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def init_app(app: Flask) -> None:
    app.after_request(frame_headers)
