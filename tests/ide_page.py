"""What the browser tests do on the IDE page, in one place (the page itself: the `page` fixture)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


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
