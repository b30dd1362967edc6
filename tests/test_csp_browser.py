"""The Content-Security-Policy in a real browser (Debian's Chromium, Playwright), against a live
server with the Docker backend: the IDE, a share page and embeds load and run programs without a
single violation, and script that was not shipped as a file in static/build does not run.

Violations are caught twice: a `securitypolicyviolation` listener in every frame (an init script,
which the page's own policy does not govern) and Chromium's console messages about the policy.
The header values themselves are pinned down in process by tests/test_headers.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from conftest import new_page
from ide_page import set_program, static_site
from playwright.sync_api import Page, expect

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push({directive: event.effectiveDirective, blocked: event.blockedURI,
                     sample: event.sample, url: document.URL});
}, true);
"""


class Watched:
    """A page whose every frame reports CSP violations."""

    def __init__(self, browser: Any) -> None:
        self.errors: list[str] = []  # JavaScript errors
        self.console: list[str] = []  # Chromium's messages about the policy
        self.websockets: list[str] = []
        self.page: Page = new_page(browser, self.errors)
        self.page.context.add_init_script(WATCH)
        self.page.on("console", self._console)
        self.page.on("websocket", lambda socket: self.websockets.append(socket.url))

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    def violations(self) -> list[Any]:
        found: list[Any] = list(self.console)
        for frame in self.page.frames:
            try:
                found += frame.evaluate("window.__csp || []")
            except Exception as error:  # noqa: BLE001 - a frame that went away reports nothing
                found.append(f"could not read {frame.url}: {error}")
        return found

    def close(self) -> None:
        self.page.context.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    page = Watched(browser)
    yield page
    page.close()
    assert not page.errors, f"JavaScript errors: {page.errors}"


@pytest.fixture(scope="module")
def other_site(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A plain static web server on another port: the site that embeds CodySkool."""
    root = tmp_path_factory.mktemp("csp-site")
    with static_site(root) as url:
        yield url, root


def share(app_url: str, code: str) -> str:
    answer = requests.post(app_url + "/api/snippets", json={"language": "python", "code": code}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def codemirror_is_styled(target: Any) -> bool:
    """CodeMirror's own stylesheet (a <style> element with the nonce) applies: .cm-editor is flex."""
    return target.evaluate("getComputedStyle(document.querySelector('.cm-editor')).display") == "flex"


def test_the_ide_runs_a_program_with_no_violation(watched: Watched, app_url: str):
    page = watched.page
    page.goto(app_url + "/")
    expect(page.locator("#run")).to_be_enabled()
    expect(page.locator("#gallery .gallery-item").first).to_be_visible()  # htmx under the policy
    assert codemirror_is_styled(page)
    set_program(page, 'print("csp says hi")\n')
    page.click("#run")
    expect(page.locator("#console")).to_contain_text("csp says hi")
    expect(page.locator("#console .exit-line")).to_be_visible()
    # Socket.IO upgraded to a WebSocket: connect-src 'self' allows ws: on the page's host.
    socket_io = app_url.replace("http://", "ws://") + "/socket.io/"
    assert any(url.startswith(socket_io) for url in watched.websockets), watched.websockets
    # Sharing fetches /api/snippets (connect-src) and shows the link.
    page.click("#share")
    expect(page.locator("#share-link")).to_have_value(re.compile(rf"^{re.escape(app_url)}/s/[A-Za-z0-9_-]{{12}}$"))
    assert watched.violations() == []


def test_a_share_page_runs_its_program_with_no_violation(watched: Watched, app_url: str):
    snippet = share(app_url, 'print("shared under csp")\n')
    page = watched.page
    page.goto(f"{app_url}/s/{snippet}")
    expect(page.locator("#shared-bar")).to_be_visible()
    expect(page.locator("#run")).to_be_enabled()
    assert codemirror_is_styled(page)
    page.click("#run")
    expect(page.locator("#console")).to_contain_text("shared under csp")
    assert watched.violations() == []


def test_an_embed_on_another_site_runs_with_no_violation(watched: Watched, app_url: str, other_site):
    site, root = other_site
    snippet = share(app_url, 'print("embedded under csp")\n')
    (root / "embeds.html").write_text(f"""<!doctype html><meta charset="utf-8">
<iframe id="stored" src="{app_url}/embed/{snippet}?autorun=1&height=240" width="600" height="300"></iframe>
<iframe id="by-code" src="{app_url}/embed?language=python&code={quote('print(6 * 7)')}&autorun=1&theme=dark"
        width="600" height="300"></iframe>""")
    page = watched.page
    page.goto(f"{site}/embeds.html")
    stored = page.frame_locator("#stored")
    expect(stored.locator("#console")).to_contain_text("embedded under csp")
    expect(page.frame_locator("#by-code").locator("#console")).to_contain_text("42")
    frame = page.locator("#stored").element_handle().content_frame()
    assert codemirror_is_styled(frame)
    # height=240 is a <style> element with the response's nonce.
    assert frame.evaluate("document.querySelector('main.embed').getBoundingClientRect().height") == 240
    assert watched.violations() == []


def test_an_embed_in_a_sandboxed_frame_loads_with_no_violation(watched: Watched, app_url: str, other_site):
    """A sandboxed parent (or frame) gives the embed an opaque origin; 'self' still means the
    server's own origin, so its script and styles load. (Whether its Socket.IO connection is let in
    is a question for CORS, not for this policy.)"""
    site, root = other_site
    (root / "sandboxed.html").write_text(f"""<!doctype html><meta charset="utf-8">
<iframe id="embed" sandbox="allow-scripts" src="{app_url}/embed?language=python&code=print(1)&height=200"
        width="600" height="300"></iframe>""")
    page = watched.page
    page.goto(f"{site}/sandboxed.html")
    expect(page.frame_locator("#embed").locator(".cm-editor")).to_be_visible()
    frame = page.locator("#embed").element_handle().content_frame()
    assert frame.evaluate("origin") == "null"
    assert codemirror_is_styled(frame)
    assert frame.evaluate("document.querySelector('main.embed').getBoundingClientRect().height") == 200
    assert [v for v in watched.violations() if "connect-src" in str(v) or "script" in str(v)
            or "style" in str(v)] == []  # fmt: skip


def test_script_the_page_did_not_ship_does_not_run(watched: Watched, app_url: str):
    page = watched.page
    page.goto(app_url + "/")
    expect(page.locator("#run")).to_be_enabled()
    ran = page.evaluate("""async () => {
        window.ran = [];
        const inline = document.createElement("script");
        inline.textContent = "window.ran.push('inline')";
        document.body.append(inline);
        const handler = document.createElement("img");
        handler.setAttribute("onerror", "window.ran.push('handler')");
        handler.src = "data:,broken";
        document.body.append(handler);
        const remote = document.createElement("script");
        remote.src = "data:text/javascript,window.ran.push('data-url')";
        document.body.append(remote);
        // Later, in a task of the page's own: code Playwright evaluates may use eval itself.
        await new Promise((resolve) => setTimeout(() => {
          try { eval("window.ran.push('eval')"); } catch (error) { window.ran.push(`refused ${error.name}`); }
          resolve();
        }, 0));
        setTimeout("window.ran.push('timer string')", 0);
        await new Promise((resolve) => setTimeout(resolve, 500));
        return window.ran;
    }""")
    assert ran == ["refused EvalError"]
    directives = {v["directive"] for v in watched.violations() if isinstance(v, dict)}
    assert {"script-src-elem", "script-src-attr", "script-src"} <= directives, watched.violations()
    # The page itself carries on.
    set_program(page, 'print("still fine")\n')
    page.click("#run")
    expect(page.locator("#console")).to_contain_text("still fine")
