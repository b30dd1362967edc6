"""What a page may load and run, and who may frame it: the Content-Security-Policy of every
response, plus X-Frame-Options for browsers too old to know frame-ancestors.

* ``content_policy``: scripts, styles, connections and images only from the app's own origin, no
  inline script, no plugins, no ``<base>``; a response that rendered ``<style>`` elements (or
  hands their nonce to CodeMirror) allows those by its own nonce (``style_nonce``).
* ``frame_headers``: embeds may be framed by FRAME_ANCESTORS (any page by default), every other page
  only by IDE_FRAME_ANCESTORS (the app itself by default), through CSP frame-ancestors.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g, request

FRAMABLE_BLUEPRINTS = frozenset({"embed"})
NONCE_BYTES = 16

# The directives every response gets (frame-ancestors is added by frame_headers). Why each is so:
CONTENT_POLICY = (
    "default-src 'self'",
    # Only the bundles in static/build: no inline script, no event-handler attributes, no eval. The
    # pages' data blocks (<script type="application/json">) are never run, so CSP does not apply.
    "script-src 'self'",
    # The stylesheets in static/css, and the <style> elements of this response only: CodeMirror
    # (its style-mod) writes its theme into <style> elements, which get the nonce through
    # EditorView.cspNonce; the embed's height=N is one such element too. Style changes made from
    # script through the CSSOM (element.style.x = ...) are not inline styles and need nothing more.
    "style-src 'self'",  # + 'nonce-...' when the response used style_nonce()
    # fetch() and Socket.IO's polling and WebSocket transports. CSP3's 'self' matches ws: and wss:
    # on the page's own host and port, as Chromium, Firefox and Safari implement it; naming the
    # host here would mean taking it from the request's Host header.
    "connect-src 'self'",
    "img-src 'self' data:",  # data: for the empty favicon, and programs' pictures (docs/graphics.md)
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


def style_nonce() -> str:
    """The nonce of this response's <style> elements: made on first use, sent in style-src."""
    nonce = g.get("csp_style_nonce")
    if nonce is None:
        nonce = g.csp_style_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def content_policy(response: Response) -> Response:
    nonce = g.get("csp_style_nonce")
    directives = [
        f"{directive} 'nonce-{nonce}'" if nonce and directive.startswith("style-src ") else directive
        for directive in CONTENT_POLICY
    ]
    response.headers.setdefault("Content-Security-Policy", "; ".join(directives))
    return response


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
    # after_request functions run last registered first: content_policy writes the policy,
    # then frame_headers adds frame-ancestors to it.
    app.after_request(frame_headers)
    app.after_request(content_policy)
    app.jinja_env.globals["style_nonce"] = style_nonce
