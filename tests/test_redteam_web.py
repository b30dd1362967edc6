"""The red team against the web side: the pages, the links the server hands out and the store of
shared programs. One test per attack (`attack`, counted in the tally line), each the defence named
in docs/security.md, "The web pages and shared programs".

Attacks that need a browser run against the live Docker server (`app_url`); the rest run in
process on the fake backend, each app with its own SQLite database in tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import new_page
from fakes import FakeBackend
from inprocess import make_app
from playwright.sync_api import expect
from sqlalchemy import text

from codyskool import db

# ---- scripts the server did not ship -----------------------------------------------------------


@pytest.mark.attack
def test_a_script_injected_into_a_page_does_not_run(browser: Any, app_url: str):
    """An injection that got past the templates' escaping (here: written into the IDE's HTML on
    its way to the browser) puts an inline script and an event handler into the page. The
    Content-Security-Policy (script-src 'self') refuses both; the page's own script still works."""
    errors: list[str] = []
    page = new_page(browser, errors)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    injection = ('<script>window.stolen = document.cookie || "yes"</script>'
                 '<img src="data:,x" onerror="window.stolen = \'handler\'">')  # fmt: skip

    def inject(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace("</main>", injection + "</main>", 1))

    try:
        page.route(app_url + "/", inject)
        page.goto(app_url + "/")
        expect(page.locator("#run")).to_be_enabled()
        assert page.evaluate("document.querySelector('main img[onerror]') !== null"), "not injected"
        page.wait_for_timeout(300)
        assert page.evaluate("window.stolen") is None
        refused = [text for text in console if "Content Security Policy" in text]
        assert len(refused) >= 2, console
    finally:
        page.context.close()
    assert not errors, errors


# ---- links from a forged Host header -------------------------------------------------------------

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


@pytest.mark.attack
def test_a_forged_host_header_is_in_no_link(tmp_path: Path, backend: FakeBackend):
    """A client shares a program through a request whose Host (and X-Forwarded-Host) names its own
    site. Were links built from it, the share link it is handed (and a cache's copy of the page or
    the JSON) would send readers to that site. No answer carries the name: links are relative
    (CODYSKOOL_BASE_URL empty) or under CODYSKOOL_BASE_URL, even behind a trusted proxy."""
    app = make_app(tmp_path, backend, TRUST_PROXY=1)
    db.upgrade(db.engine_of(app))
    client = app.test_client()
    created = client.post("/api/snippets", json={"language": "python", "code": "print(1)"}, headers=FORGED)
    assert created.status_code == 201
    snippet_id = created.get_json()["id"]
    paths = ["/", f"/s/{snippet_id}", f"/embed/{snippet_id}", "/embed?language=python", "/api/languages",
             f"/api/snippets/{snippet_id}", "/api/health", "/gallery?language=python", "/s/AAAAAAAAAAAA",
             "/nowhere"]  # fmt: skip
    for answer in [created, *(client.get(path, headers=FORGED) for path in paths)]:
        assert "evil.example" not in answer.get_data(as_text=True), answer.request.path
        assert "evil.example" not in str(answer.headers), answer.request.path


# ---- filling the store of shared programs --------------------------------------------------------


@pytest.mark.attack
def test_a_share_flood_from_many_addresses_stops_at_the_total_cap(tmp_path: Path, backend: FakeBackend):
    """The per-address share rate (CODYSKOOL_SHARES_PER_MINUTE_PER_IP) is no bound for a client
    with many addresses: at 30 programs of 64 KiB a minute each, a hundred addresses store 190 MB
    a minute. The store's total cap (CODYSKOOL_SNIPPETS_MAX_TOTAL_MB, 1 MiB here) is: shares past
    it are refused with 429 and a reason, the total never passes it, and reading goes on."""
    app = make_app(tmp_path, backend, TRUST_PROXY=1, SNIPPETS_MAX_TOTAL_MB=1)
    engine = db.engine_of(app)
    db.upgrade(engine)
    client = app.test_client()
    code = "#" * (64 << 10)
    answers = [
        client.post("/api/snippets", json={"language": "python", "code": code, "stdin": f"{n}"},
                    headers={"X-Forwarded-For": f"198.51.100.{n // 10 + 1}"})
        for n in range(40)
    ]  # fmt: skip
    statuses = [answer.status_code for answer in answers]
    assert 201 in statuses and statuses[statuses.index(429):] == [429] * statuses.count(429), statuses
    assert statuses.count(429) > 20, statuses
    assert "storage for shared programs is full" in answers[-1].get_json()["error"]
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT SUM(length(code) + length(stdin)) FROM snippets")).scalar()
    assert stored <= 1 << 20
    assert client.get(answers[0].get_json()["url"]).status_code == 200
