"""The links the server hands out: under CODYSKOOL_BASE_URL or relative, never from the Host
header a client sends (the attack: tests/test_redteam_web.py). In process, on the fake backend,
with SQLite in tmp_path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fakes import FakeBackend
from flask import Flask
from inprocess import make_app

from codyskool import db
from codyskool.config import ConfigError, load_config

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


def migrated(tmp_path: Path, backend: FakeBackend, **config) -> Flask:
    app = make_app(tmp_path, backend, **config)
    db.upgrade(db.engine_of(app))
    return app


def page_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', html, re.S)
    assert found, html[:500]
    return json.loads(found.group(1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ""),
        ("https://code.example.org", "https://code.example.org"),
        ("https://code.example.org/", "https://code.example.org"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://school.example/code/python/", "https://school.example/code/python"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_base_url_values(value: str, expected: str) -> None:
    assert load_config({"CODYSKOOL_BASE_URL": value})["BASE_URL"] == expected


@pytest.mark.parametrize("value", [
    "code.example.org", "ftp://code.example.org", "https://", "https://code.example.org?x=1",
    "https://code.example.org/#top", "https://user@code.example.org", "https://code.example.org:99999",
    "javascript:alert(1)", "https://code.example.org/a b", "https://a.example\"><script>",
])  # fmt: skip
def test_a_base_url_that_is_not_an_address_stops_start_up(value: str) -> None:
    with pytest.raises(ConfigError, match="CODYSKOOL_BASE_URL"):
        load_config({"CODYSKOOL_BASE_URL": value})


def test_links_are_relative_by_default(tmp_path: Path, backend: FakeBackend) -> None:
    client = migrated(tmp_path, backend).test_client()
    created = client.post("/api/snippets", json={"language": "python", "code": "print(1)"})
    snippet_id = created.get_json()["id"]
    assert created.get_json()["url"] == f"/s/{snippet_id}"
    assert created.headers["Location"] == f"/s/{snippet_id}"
    assert client.get(f"/api/snippets/{snippet_id}").get_json()["url"] == f"/s/{snippet_id}"
    embed = page_config(client.get(f"/embed/{snippet_id}").get_data(as_text=True))
    assert embed["open_url"] == f"/s/{snippet_id}"


def test_links_are_under_the_base_url(tmp_path: Path, backend: FakeBackend) -> None:
    base = "https://school.example/code"
    client = migrated(tmp_path, backend, BASE_URL=base).test_client()
    created = client.post("/api/snippets", json={"language": "python", "code": "print(1)"}, headers=FORGED)
    snippet_id = created.get_json()["id"]
    assert created.get_json()["url"] == f"{base}/s/{snippet_id}"
    assert created.headers["Location"] == f"{base}/s/{snippet_id}"
    assert client.get(f"/api/snippets/{snippet_id}").get_json()["url"] == f"{base}/s/{snippet_id}"
    # Mounted under /code by a proxy that says so (SCRIPT_NAME): the prefix is not doubled.
    mounted = client.get(f"/api/snippets/{snippet_id}", base_url="http://localhost/code")
    assert mounted.request.script_root == "/code"
    assert mounted.get_json()["url"] == f"{base}/s/{snippet_id}"
    embed = page_config(client.get(f"/embed/{snippet_id}", headers=FORGED).get_data(as_text=True))
    assert embed["open_url"] == f"{base}/s/{snippet_id}"

