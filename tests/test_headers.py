"""The Content-Security-Policy and framing headers of every kind of response, in process.

The browser proves the policy works (tests/test_csp_browser.py); these pin down what it says.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from codyskool import db

# The directives every response carries, whatever the page.
FIXED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "connect-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{22})'")


def directives(header: str) -> dict[str, str]:
    parsed = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        assert name not in parsed, f"{name} twice in {header!r}"
        parsed[name] = value
    return parsed


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    db.upgrade(db.engine_of(app))
    return app.test_client()


def snippet_id(client: FlaskClient) -> str:
    answer = client.post("/api/snippets", json={"language": "python", "code": "print(1)\n"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def policy_of(client: FlaskClient, path: str, **kwargs) -> dict[str, str]:
    answer = client.get(path, **kwargs)
    policy = directives(answer.headers["Content-Security-Policy"])
    for name, value in FIXED.items():
        assert policy[name] == value, (path, name, policy)
    return policy


def test_every_response_restricts_scripts(client: FlaskClient) -> None:
    shared = snippet_id(client)
    paths = ["/", f"/s/{shared}", f"/embed/{shared}", "/embed?language=python", "/gallery?language=python",
             "/api/languages", f"/api/snippets/{shared}", "/s/AAAAAAAAAAAA", "/no-such-page",
             "/embed?language=cobol", "/static/css/base.css"]  # fmt: skip
    for path in paths:
        policy = policy_of(client, path)
        assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy), path
        assert policy["style-src"].startswith("'self'"), path


def test_frame_ancestors_are_unchanged(client: FlaskClient) -> None:
    shared = snippet_id(client)
    for path in ["/", f"/s/{shared}", "/gallery?language=python", "/api/languages", "/no-such-page"]:
        answer = client.get(path)
        assert directives(answer.headers["Content-Security-Policy"])["frame-ancestors"] == "'self'", path
        assert answer.headers["X-Frame-Options"] == "SAMEORIGIN", path
    for path in [f"/embed/{shared}", "/embed?language=python", "/embed?language=cobol"]:
        answer = client.get(path)
        assert directives(answer.headers["Content-Security-Policy"])["frame-ancestors"] == "*", path
        assert "X-Frame-Options" not in answer.headers, path


def test_frame_ancestors_follow_their_settings(tmp_path, backend) -> None:
    from inprocess import make_app

    app = make_app(tmp_path, backend, FRAME_ANCESTORS=("https://course.example", "'self'"),
                   IDE_FRAME_ANCESTORS=("'none'",))  # fmt: skip
    client = app.test_client()
    embed = client.get("/embed?language=python").headers
    assert directives(embed["Content-Security-Policy"])["frame-ancestors"] == "https://course.example 'self'"
    ide = client.get("/").headers
    assert directives(ide["Content-Security-Policy"])["frame-ancestors"] == "'none'"
    assert ide["X-Frame-Options"] == "DENY"


def test_pages_with_an_editor_allow_their_own_style_elements_by_nonce(client: FlaskClient) -> None:
    shared = snippet_id(client)
    for path in ["/", f"/s/{shared}", f"/embed/{shared}", "/embed?language=python&height=300"]:
        answer = client.get(path)
        style_src = directives(answer.headers["Content-Security-Policy"])["style-src"]
        found = NONCE.fullmatch(style_src.removeprefix("'self' "))
        assert found, (path, style_src)
        # The bundle's script element carries the nonce that CodeMirror gives its <style> elements.
        html = answer.get_data(as_text=True)
        assert re.search(rf'<script src="/static/build/\w+\.js" nonce="{found.group(1)}" defer>', html), path
    # A fresh nonce for every response.
    nonces = {NONCE.search(client.get("/").headers["Content-Security-Policy"]).group(1) for _ in range(5)}
    assert len(nonces) == 5
    # Pages without an editor allow no inline style at all.
    for path in ["/no-such-page", "/gallery?language=python", "/api/languages"]:
        assert policy_of(client, path)["style-src"] == "'self'", path


def test_pages_have_no_inline_script_or_style_attribute(client: FlaskClient) -> None:
    shared = snippet_id(client)
    paths = ["/", f"/s/{shared}", f"/embed/{shared}?height=300", "/embed?language=python", "/no-such-page"]
    for path in paths:
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'type="application/json"' in tag or " src=" in tag, (path, tag)
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), path
        for style in re.findall(r"<style\b[^>]*>", html):
            assert re.fullmatch(r'<style nonce="[A-Za-z0-9_-]{22}">', style), (path, style)


def test_the_embed_height_is_a_style_element_with_the_nonce(client: FlaskClient) -> None:
    answer = client.get("/embed?language=python&height=240")
    nonce = NONCE.search(answer.headers["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">main.embed {{ height: 240px; }}</style>' in answer.get_data(as_text=True)
    assert "<style" not in client.get("/embed?language=python").get_data(as_text=True)
