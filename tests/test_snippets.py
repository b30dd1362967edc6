"""Shared programs: ids, the JSON API, the share and embed pages, and who may frame them.

The HTTP tests run against live servers (`python -m codyskool serve` in a subprocess, with the
local backend: nothing here runs a program) with their own SQLite database in a temporary data dir.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import requests
from conftest import LiveServer

from codyskool import snippets
from codyskool.config import ConfigError, load_config

CODE_LIMIT = 64 << 10
STDIN_LIMIT = 1 << 20


@pytest.fixture(scope="module")
def app_server():
    live = LiveServer("local", "eventlet", {"CODYSKOOL_SHARES_PER_MINUTE_PER_IP": "1000"})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def configured_server():
    live = LiveServer("local", "eventlet", {
        "CODYSKOOL_FRAME_ANCESTORS": "https://course.example, 'self'",
        "CODYSKOOL_IDE_FRAME_ANCESTORS": "'none'",
        "CODYSKOOL_CODE_LIMIT_BYTES": "2048",  # a program over it still fits in a URL
    })  # fmt: skip
    yield live
    live.stop()


def share(server: LiveServer, **payload) -> requests.Response:
    return requests.post(server.url + "/api/snippets", json=payload, timeout=10)


# ---- ids -----------------------------------------------------------------------------------------


def test_ids_are_long_random_and_url_safe():
    ids = [snippets.new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{12}", i) for i in ids)
    assert snippets.ID_BYTES * 8 >= 64
    # Every position uses the whole alphabet evenly: about 6 bits of entropy per character.
    chars = Counter("".join(ids))
    entropy = -sum(n / 12000 * math.log2(n / 12000) for n in chars.values())
    assert len(chars) == 64
    assert entropy > 5.9, entropy
    # Nothing sequential: ids made one after the other share no prefix and differ almost everywhere.
    assert len({i[:3] for i in ids}) > 950
    distances = [sum(a != b for a, b in zip(x, y, strict=True)) for x, y in itertools.pairwise(ids)]
    assert sum(distances) / len(distances) > 11
    assert ids != sorted(ids)


def test_ids_from_the_api_are_not_sequential(app_server: LiveServer):
    ids = []
    for n in range(30):
        response = share(app_server, language="python", code=f"print({n})\n")
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    assert len(set(ids)) == 30
    assert all(snippets.valid_id(i) for i in ids)
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    assert len({i[:2] for i in ids}) > 20


def test_valid_id_rejects_what_new_id_never_makes():
    for bad in ["", "short", "a" * 13, "a" * 11 + "/", "a" * 11 + "=", "a" * 11 + ".", "../../etc/pa"]:
        assert not snippets.valid_id(bad), bad


# ---- storing and loading -----------------------------------------------------------------------


def test_store_and_load_round_trip(app_server: LiveServer):
    code = 'name = input("Wer bist du? ")\nprint(f"Grüß dich, {name} 👋")\n\tprint("<b>&</b>")\n'
    response = share(app_server, language="python", code=code, stdin="Ada\n")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "url"}
    assert body["url"] == f"/s/{body['id']}"  # relative: CODYSKOOL_BASE_URL is not set
    assert response.headers["Location"] == body["url"]

    loaded = requests.get(f"{app_server.url}/api/snippets/{body['id']}", timeout=10)
    assert loaded.status_code == 200
    snippet = loaded.json()
    assert snippet["id"] == body["id"]
    assert (snippet["language"], snippet["code"], snippet["stdin"]) == ("python", code, "Ada\n")
    assert snippet["url"] == body["url"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", snippet["created_at"])

    # Without stdin, stdin is empty.
    other = share(app_server, language="bash", code="echo hi").json()
    assert requests.get(f"{app_server.url}/api/snippets/{other['id']}", timeout=10).json()["stdin"] == ""

    # The share page opens the program: it is in the page's config, escaped for a <script>.
    page = requests.get(app_server.url + body["url"], timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<b>&</b>" not in page.text
    assert page_config(page.text) == {
        "mode": "snippet",
        "program": {"id": body["id"], "language": "python", "code": code, "stdin": "Ada\n"},
    }
    assert "Shared Python 3 program" in page.text


def test_database_is_a_sqlite_file_made_by_alembic(app_server: LiveServer):
    share(app_server, language="python", code="print(1)\n")
    database = Path(app_server.data_dir) / "codyskool.db"
    assert database.is_file()
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"snippets", "alembic_version"} <= tables
        heads = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        count = connection.execute("SELECT count(*) FROM snippets").fetchone()[0]
    assert heads == [latest_revision()]
    assert count >= 1


def page_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', html, re.S)
    assert found, html[:2000]
    return json.loads(found.group(1))


def latest_revision() -> str:
    from alembic.script import ScriptDirectory

    from codyskool.db import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_match_the_table_definitions(tmp_path: Path):
    """What Alembic makes is what codyskool/snippets.py describes (else: a migration is missing)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from codyskool.db import create_db_engine, upgrade

    engine = create_db_engine(f"sqlite:///{tmp_path / 'new' / 'codyskool.db'}")
    upgrade(engine)
    upgrade(engine)  # a second start changes nothing
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), snippets.metadata) == []
    engine.dispose()


def test_database_url_setting(tmp_path: Path):
    from codyskool.db import database_url

    config = {"DATABASE_URL": "", "DATA_DIR": str(tmp_path)}
    assert database_url(config, {}) == f"sqlite:///{tmp_path / 'codyskool.db'}"
    assert (
        database_url(config, {"DATABASE_URL": "postgres://u:p@db:5432/x"})
        == "postgresql+psycopg://u:p@db:5432/x"
    )
    assert database_url(config, {"DATABASE_URL": "postgresql://db/x"}) == "postgresql+psycopg://db/x"
    ours = {**config, "DATABASE_URL": "sqlite:////srv/s.db"}
    assert database_url(ours, {"DATABASE_URL": "postgresql://db/x"}) == "sqlite:////srv/s.db"


@pytest.mark.live
def test_snippets_survive_a_restart(tmp_path: Path):
    env = {"CODYSKOOL_DATA_DIR": str(tmp_path / "data")}  # made by the server
    first = LiveServer("local", "eventlet", env)
    try:
        created = share(first, language="bash", code="echo kept\n").json()
    finally:
        first.stop()
    second = LiveServer("local", "eventlet", env)  # migrates an up-to-date database: no change
    try:
        loaded = requests.get(f"{second.url}/api/snippets/{created['id']}", timeout=10)
        assert loaded.status_code == 200
        assert loaded.json()["code"] == "echo kept\n"
    finally:
        second.stop()


@pytest.mark.live
def test_sharing_is_rate_limited_per_client_address():
    live = LiveServer("local", "eventlet", {"CODYSKOOL_SHARES_PER_MINUTE_PER_IP": "3",
                                            "CODYSKOOL_TRUST_PROXY": "1"})
    try:
        def share_from(address: str, **payload) -> requests.Response:
            return requests.post(live.url + "/api/snippets", json=payload, timeout=10,
                                 headers={"X-Forwarded-For": address})

        answers = [share_from("198.51.100.7", language="python", code=f"print({n})") for n in range(4)]
        assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
        assert "too many shared programs" in answers[-1].json()["error"]
        bad = share_from("198.51.100.7", language="cobol", code="x")
        assert bad.status_code == 400, "a bad request is still answered as one"
        assert share_from("198.51.100.8", language="python", code="print(1)").status_code == 201
        first = answers[0].json()["id"]
        assert requests.get(f"{live.url}/api/snippets/{first}", timeout=10).ok, "reading is not limited"
    finally:
        live.stop()


def test_snippets_cannot_be_changed(app_server: LiveServer):
    created = share(app_server, language="python", code="print('original')\n").json()
    url = f"{app_server.url}/api/snippets/{created['id']}"
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = requests.request(method, url, json={"language": "python", "code": "print(2)"}, timeout=10)
        assert response.status_code == 405, (method, response.status_code)
    assert requests.get(url, timeout=10).json()["code"] == "print('original')\n"


# ---- refused snippets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"code": "print(1)"}, "language"),
        ({"language": "cobol", "code": "x"}, "unknown language"),
        ({"language": 3, "code": "x"}, "language"),
        ({"language": "python"}, "code"),
        ({"language": "python", "code": ["print(1)"]}, "code"),
        ({"language": "python", "code": "   \n"}, "empty"),
        ({"language": "python", "code": "print(1)", "stdin": 5}, "stdin"),
        ({"language": "python", "code": "print(1)\0"}, "NUL"),
    ],
)
def test_bad_snippets_are_refused(app_server: LiveServer, payload, message):
    response = share(app_server, **payload)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_not_json_is_refused(app_server: LiveServer):
    for body, headers in [("language=python", {}), ("[1, 2]", {"Content-Type": "application/json"}),
                          ("{oops", {"Content-Type": "application/json"})]:  # fmt: skip
        response = requests.post(app_server.url + "/api/snippets", data=body, headers=headers, timeout=10)
        assert response.status_code == 400
        assert "JSON object" in response.json()["error"]


def test_size_limits(app_server: LiveServer):
    # Exactly at the limits: stored.
    at_limit = share(app_server, language="python", code="#" * CODE_LIMIT, stdin="x" * STDIN_LIMIT)
    assert at_limit.status_code == 201, at_limit.text
    stored = requests.get(app_server.url + "/api/snippets/" + at_limit.json()["id"], timeout=10).json()
    assert len(stored["code"]) == CODE_LIMIT and len(stored["stdin"]) == STDIN_LIMIT

    # One byte over, counted in UTF-8 bytes (é is two): refused with 413 and a clear message.
    for payload, what in [
        ({"code": "#" * (CODE_LIMIT + 1)}, "program"),
        ({"code": "é" * (CODE_LIMIT // 2) + "#"}, "program"),
        ({"code": "print(1)", "stdin": "x" * (STDIN_LIMIT + 1)}, "stdin"),
    ]:
        response = share(app_server, language="python", **payload)
        assert response.status_code == 413, response.text[:200]
        error = response.json()["error"]
        assert what in error and "limit" in error and "KiB" in error, error

    # A body far over any limit is cut off before it is read.
    huge = requests.post(
        app_server.url + "/api/snippets",
        data=b'{"language": "python", "code": "' + b"#" * (16 << 20) + b'"}',
        headers={"Content-Type": "application/json"}, timeout=30,
    )  # fmt: skip
    assert huge.status_code == 413
    assert "error" in huge.json()


# ---- missing snippets ----------------------------------------------------------------------------

MISSING_IDS = ["AAAAAAAAAAAA", "short", "a" * 40, "..%2F..%2Fetc%2Fpasswd", "%00", "Zm9v_-Zm9v_-"]


@pytest.mark.parametrize("snippet_id", MISSING_IDS)
def test_missing_snippet_is_a_json_404(app_server: LiveServer, snippet_id: str):
    response = requests.get(f"{app_server.url}/api/snippets/{snippet_id}", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    if snippets.valid_id(snippet_id):
        assert "no shared program" in error.lower()
    else:
        assert error


@pytest.mark.parametrize("path", [f"/s/{i}" for i in MISSING_IDS] + ["/embed/AAAAAAAAAAAA", "/s/"])
def test_missing_snippet_is_a_404_page(app_server: LiveServer, path: str):
    response = requests.get(app_server.url + path, headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>404</h1>" in response.text
    assert "Back to the editor" in response.text


# ---- the embed page ------------------------------------------------------------------------------


def test_embed_pages(app_server: LiveServer):
    created = share(app_server, language="python", code="print('embedded')\n").json()
    page = requests.get(f"{app_server.url}/embed/{created['id']}?theme=dark&readonly=1&height=200&frame=a",
                        timeout=10)  # fmt: skip
    assert page.status_code == 200
    config = page_config(page.text)
    assert config["mode"] == "embed"
    assert config["program"] == {"id": created["id"], "language": "python", "code": "print('embedded')\n",
                                 "stdin": ""}  # fmt: skip
    assert config["open_url"] == created["url"]
    options = config["embed"]
    assert (options["theme"], options["readonly"]) == ("dark", True)
    assert (options["height"], options["frame"]) == (200, "a")
    assert (options["autorun"], options["hide_editor"], options["origin"]) == (False, False, "")
    assert options["allowed_origins"] == ["*"]
    assert 'media="all"' in page.text  # the dark colours, whatever the system's preference
    assert "height: 200px" in page.text
    assert 'class="app-header"' not in page.text  # compact: no site header

    by_code = requests.get(app_server.url + "/embed", timeout=10, params={
        "language": "bash", "code": 'echo "q"', "stdin": "x", "autorun": "1", "hide_editor": "true",
        "theme": "light", "origin": "http://127.0.0.1:9000", "height": "5"})  # fmt: skip
    assert by_code.status_code == 200
    config = page_config(by_code.text)
    assert config["program"] == {"id": None, "language": "bash", "code": 'echo "q"', "stdin": "x"}
    assert config["open_url"] is None
    options = config["embed"]
    assert (options["autorun"], options["hide_editor"], options["theme"]) == (True, True, "light")
    assert (options["origin"], options["height"]) == ("http://127.0.0.1:9000", 120)
    assert 'media="not all"' in by_code.text


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"language": "cobol"}, 400),
        ({"language": "python", "origin": "https://a.example/path"}, 400),
        ({"language": "python", "frame": "<script>"}, 400),
    ],
)
def test_bad_embed_queries(app_server: LiveServer, query, status):
    response = requests.get(app_server.url + "/embed", params=query, timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert frame_ancestors(response) == "*"  # shown inside the frame


def test_embed_code_may_be_as_long_as_the_code_limit(app_server: LiveServer):
    program = "".join(f"print('line {n}: \u00e9 & %')\n" for n in range(2400))  # ~63 KiB, escaped 3x
    assert len(program.encode()) < CODE_LIMIT < 2 * len(program)
    response = requests.get(app_server.url + "/embed", params={"code": program}, timeout=10)
    assert response.status_code == 200
    assert "line 2399" in response.text


def test_embed_code_over_the_limit(configured_server: LiveServer):
    response = requests.get(configured_server.url + "/embed", params={"code": "#" * 2049}, timeout=10)
    assert response.status_code == 413
    assert "larger than the limit of 2 KiB" in response.text
    snippet = requests.post(configured_server.url + "/api/snippets", timeout=10,
                            json={"language": "python", "code": "#" * 2049})  # fmt: skip
    assert snippet.status_code == 413


# ---- who may frame what --------------------------------------------------------------------------


def frame_ancestors(response: requests.Response) -> str:
    """The frame-ancestors of a response's CSP (the rest of the policy: tests/test_headers.py)."""
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, _, value = directive.strip().partition(" ")
        if name == "frame-ancestors":
            return value
    raise AssertionError(f"no frame-ancestors in {response.headers['Content-Security-Policy']!r}")


def test_ide_and_share_pages_are_not_framable(app_server: LiveServer):
    created = share(app_server, language="python", code="print(1)\n").json()
    for path in ["/", f"/s/{created['id']}", "/s/AAAAAAAAAAAA", "/api/languages", "/gallery"]:
        response = requests.get(app_server.url + path, timeout=10)
        assert frame_ancestors(response) == "'self'", path
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path


def test_embed_pages_are_framable_by_default(app_server: LiveServer):
    created = share(app_server, language="python", code="print(1)\n").json()
    for path in [f"/embed/{created['id']}", "/embed?language=python&code=print(2)", "/embed"]:
        response = requests.get(app_server.url + path, timeout=10)
        assert response.status_code == 200, path
        assert frame_ancestors(response) == "*", path
        assert "X-Frame-Options" not in response.headers, path


def test_frame_ancestors_follow_the_settings(configured_server: LiveServer):
    embed = requests.get(configured_server.url + "/embed?language=python", timeout=10)
    assert frame_ancestors(embed) == "https://course.example 'self'"
    assert "X-Frame-Options" not in embed.headers
    ide = requests.get(configured_server.url + "/", timeout=10)
    assert frame_ancestors(ide) == "'none'"
    assert ide.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", ("*",)),
        ("https://a.example 'self'", ("https://a.example", "'self'")),
        ("https://a.example,http://localhost:8000", ("https://a.example", "http://localhost:8000")),
        ("https://*.school.example https:", ("https://*.school.example", "https:")),
    ],
)
def test_origin_lists_parse(value, expected):
    config = load_config({"CODYSKOOL_FRAME_ANCESTORS": value, "CODYSKOOL_EMBED_ALLOWED_ORIGINS": value})
    assert config["FRAME_ANCESTORS"] == expected
    assert config["EMBED_ALLOWED_ORIGINS"] == expected


@pytest.mark.parametrize("value", ["example.org", "https://a.example/path", "'none' *", "https://a b;c",
                                   "https://x.example; script-src *"])  # fmt: skip
def test_bad_origin_lists_stop_start_up(value):
    with pytest.raises(ConfigError, match="CODYSKOOL_FRAME_ANCESTORS"):
        load_config({"CODYSKOOL_FRAME_ANCESTORS": value})
