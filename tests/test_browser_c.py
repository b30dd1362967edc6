"""A C program in a real browser: a compile error marked in the editor, fixed, run, answered.

Debian's Chromium driven by Playwright against the `live_server` fixture (Docker backend).
Skipped when /usr/bin/chromium is missing, unless CODYSKOOL_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import re

from ide_page import focus_console_input
from playwright.sync_api import Page, expect

BROKEN = """#include <stdio.h>

int main(void) {
    char name[100];
    printf("What is your name? ")
    if (scanf("%99s", name) == 1) {
        printf("Hello, %s!\\n", name);
    }
    return 0;
}
"""
FIXED = BROKEN.replace('printf("What is your name? ")\n', 'printf("What is your name? ");\n')




def marked_lines(page: Page, severity: str) -> list[str]:
    """The text of each editor line that carries a lint mark (a range, or a point at its end)."""
    mark = page.locator(f".cm-lintRange-{severity}, .cm-lintPoint-{severity}")
    return [text.strip() for text in page.locator("#editor .cm-line").filter(has=mark).all_inner_texts()]


def test_c_compile_error_fix_and_answer_scanf(page: Page) -> None:
    page.select_option("#language", "c")
    expect(page.locator("#language")).to_have_value("c")
    assert page.evaluate("window.codyskool.getLanguage()") == "c"
    page.evaluate("code => window.codyskool.setCode(code)", BROKEN)

    page.click("#run")
    exit_line = page.locator("#console .exit-line")
    expect(exit_line).to_contain_text("compile error")
    expect(page.locator("#status")).to_contain_text("Compile error")
    expect(page.locator("#console .out-stderr").first).to_contain_text("main.c:5:34: error:")

    # gcc names the end of line 5, where the semicolon is missing (and, recovering from the error,
    # warns about line 4): the editor marks the line, the list under the editor names it, and
    # clicking the entry puts the cursor there.
    entries = page.locator("#diagnostics .diagnostic")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("Line 5:34")
    expect(entries.first).to_contain_text("error")
    expect(entries.first).to_contain_text("expected ‘;’ before ‘if’")  # noqa: RUF001 - gcc's quotes
    assert marked_lines(page, "error") == ['printf("What is your name? ")']
    assert marked_lines(page, "warning") == ["char name[100];"]
    entries.first.click()
    assert page.evaluate("window.codyskool.getCursor()") == {"line": 5, "column": 34}

    # The fix, typed where the cursor now is.
    page.keyboard.type(";")
    assert page.evaluate("window.codyskool.getCode()") == FIXED
    expect(page.locator("#diagnostics")).to_be_hidden()  # an edit clears the marks
    expect(page.locator("#editor [class*=cm-lint][class*=-error]")).to_have_count(0)

    page.click("#run")
    # The prompt is printed without a newline before scanf blocks: it shows while the program waits.
    expect(page.locator("#console .out-stdout").first).to_have_text("What is your name? ")
    expect(page.locator("#status")).to_contain_text("Running")
    expect(exit_line).to_have_count(0)
    focus_console_input(page)
    page.keyboard.type("Ada")
    page.keyboard.press("Enter")

    expect(page.locator("#console")).to_contain_text("Hello, Ada!")
    expect(exit_line).to_have_text(re.compile(r"— exited with code 0 in [\d.]+ m?s —"))
    text = page.locator("#console").inner_text()
    assert text.index("What is your name? ") < text.index("Ada") < text.index("Hello, Ada!")
    expect(page.locator("#diagnostics")).to_be_hidden()
