"""What the browser tests do on the IDE page, in one place (the page itself: the `page` fixture)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Locator, Page, expect


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def static_site(root: Path) -> Iterator[str]:
    """A plain static web server for `root` on another port, so another origin: a site that
    embeds CodySkool. Yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def set_program(page: Page, code: str, language: str = "python") -> None:
    page.evaluate(
        "([language, code]) => {"
        " window.codyskool.setLanguage(language); window.codyskool.setCode(code); }",
        [language, code],
    )
    assert page.evaluate("window.codyskool.getCode()") == code


def console(page: Page) -> Locator:
    return page.locator("#console")


def exit_line(page: Page) -> Locator:
    return page.locator("#console .exit-line")


def focus_console_input(page: Page) -> Locator:
    """The console's input line, once it is shown and usable, clicked so that typing goes there."""
    field = page.locator("#console input.console-input")
    expect(field).to_be_visible()
    expect(field).to_be_enabled()
    field.click()
    return field
