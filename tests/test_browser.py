"""The IDE page in a real browser (Debian's Chromium driven by Playwright) against a live server.

The server comes from the `live_server` fixture (tests/conftest.py), or from the URL in
CODYSKOOL_TEST_URL when set (to point these tests at a server you already run).

Skipped when /usr/bin/chromium is missing, unless CODYSKOOL_REQUIRE_BROWSER is set (CI sets it):
then a missing browser is a failure (the `browser` fixture in tests/conftest.py).
"""

from __future__ import annotations

import re

from ide_page import console, exit_line, focus_console_input, set_program
from playwright.sync_api import Page, expect


def test_page_shows_backend_and_languages(page: Page):
    badge = page.locator("#backend-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_text(re.compile(r"^Sandbox: (Docker|Docker \+ gVisor|local \(no Docker\))$"))
    languages = page.evaluate("JSON.parse(document.getElementById('languages').textContent)")
    ids = [lang["id"] for lang in languages]
    assert "python" in ids
    options = page.locator("#language option").evaluate_all("opts => opts.map(o => o.value)")
    assert options == ids
    # A first visit shows Python's input template.
    python = next(lang for lang in languages if lang["id"] == "python")
    expect(page.locator("#language")).to_have_value("python")
    assert page.evaluate("window.codyskool.getCode()") == python["templates"]["input"]
    expect(page.locator("#editor .cm-lineNumbers")).to_be_visible()


def test_input_prompt_round_trip(page: Page):
    set_program(page, 'name = input("Name: ")\nprint(f"Hello, {name}")\n')
    page.click("#run")

    expect(page.locator("#console .prompt-text")).to_have_text("Name: ")
    field = page.locator("#console input.console-input")
    expect(field).to_be_visible()
    expect(field).to_be_focused()
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Enter")

    expect(console(page)).to_contain_text("Hello, Ada Lovelace")
    expect(page.locator("#console .user-input")).to_contain_text("Ada Lovelace")
    expect(exit_line(page)).to_have_text(re.compile(r"— exited with code 0 in [\d.]+ m?s —"))
    expect(page.locator("#status")).not_to_have_text(re.compile("Running"))
    expect(page.locator("#stop")).to_be_disabled()
    # The prompt, the echoed line and the greeting come in that order.
    text = console(page).inner_text()
    assert text.index("Name: ") < text.index("Ada Lovelace") < text.index("Hello, Ada Lovelace")


def test_output_is_text_and_ansi_colours_render(page: Page):
    title = page.title()
    program = r"""import sys
print("<script>window.__pwned=1</script><b>bold</b>")
print("<img src=x onerror=window.__pwned=2>")
print("\x1b[31mred text\x1b[0m plain")
print("\x1b]0;evil title\x07\x1b[2J\x1b[Hafter-escapes")
print("oops on stderr", file=sys.stderr)
"""
    set_program(page, program)
    page.click("#run")
    expect(exit_line(page)).to_be_visible()

    expect(console(page)).to_contain_text("<script>window.__pwned=1</script><b>bold</b>")
    expect(console(page)).to_contain_text("<img src=x onerror=window.__pwned=2>")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert console(page).locator("b").count() == 0
    assert console(page).locator("script").count() == 0
    assert console(page).locator("img").count() == 0

    red = page.locator("#console .out-stdout", has_text="red text")
    expect(red).to_have_count(1)
    assert red.evaluate("el => el.style.color") != ""
    r, g, b = (
        int(v) for v in re.findall(r"\d+", red.evaluate("el => getComputedStyle(el).color"))[:3]
    )
    assert r > 120 and r > g + 60 and r > b + 60, (r, g, b)
    plain = page.locator("#console .out-stdout", has_text="plain").last
    assert plain.evaluate("el => el.style.color") == ""

    # Other escape sequences are dropped without acting.
    text = console(page).inner_text()
    assert "\x1b" not in text and "[31m" not in text and "evil title" not in text
    assert "after-escapes" in text
    assert page.title() == title

    stderr = page.locator("#console .out-stderr", has_text="oops on stderr")
    expect(stderr).to_have_count(1)
    colour = stderr.evaluate("el => getComputedStyle(el).color")
    assert colour != page.locator("#console .out-stdout").first.evaluate(
        "el => getComputedStyle(el).color"
    )


def test_ctrl_enter_runs(page: Page):
    set_program(page, 'print("ran by " + "shortcut")\n')
    page.click("#editor .cm-content")
    page.keyboard.press("Control+Enter")
    expect(console(page)).to_contain_text("ran by shortcut")
    expect(exit_line(page)).to_contain_text("exited with code 0")
    # The shortcut did not insert a line into the program.
    assert page.evaluate("window.codyskool.getCode()") == 'print("ran by " + "shortcut")\n'


def test_typing_in_the_editor(page: Page):
    page.click("#editor .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("print(6 * 7)")
    page.keyboard.press("Escape")  # close any completion popup
    assert page.evaluate("window.codyskool.getCode()") == "print(6 * 7)"
    page.click("#run")
    expect(exit_line(page)).to_contain_text("exited with code 0")
    expect(page.locator("#console .out-stdout")).to_have_text(re.compile(r"^42\s*$"))


def test_input_without_prompt_and_eof(page: Page):
    program = "import sys\ndata = sys.stdin.read()\nprint('words:', len(data.split()))\n"
    set_program(page, program)
    page.click("#run")
    focus_console_input(page)
    page.keyboard.type("one two")
    page.keyboard.press("Enter")
    page.keyboard.type("three")
    page.keyboard.press("Control+D")
    expect(console(page)).to_contain_text("words: 3")
    expect(exit_line(page)).to_contain_text("exited with code 0")


def test_stop_kills_the_program(page: Page):
    set_program(page, "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    page.click("#run")
    expect(console(page)).to_contain_text("started")
    expect(page.locator("#stop")).to_be_enabled()
    page.click("#stop")
    expect(exit_line(page)).to_contain_text("killed")
    expect(page.locator("#stop")).to_be_disabled()
    expect(page.locator("#console input.console-input")).to_be_hidden()


def test_language_and_code_survive_reload(page: Page):
    languages = page.evaluate("JSON.parse(document.getElementById('languages').textContent)")
    other = next((lang["id"] for lang in languages if lang["id"] != "python"), None)
    set_program(page, "print('kept')\n")
    if other:
        page.select_option("#language", other)
        assert page.evaluate("window.codyskool.getLanguage()") == other
    page.reload()
    expect(page.locator("#run")).to_be_enabled()
    if other:
        expect(page.locator("#language")).to_have_value(other)
        page.select_option("#language", "python")
    assert page.evaluate("window.codyskool.getCode()") == "print('kept')\n"


def test_diagnostics_are_listed_and_cleared(page: Page):
    set_program(page, "x = 1\nprint(y)\n")
    page.evaluate(
        "window.codyskool.markDiagnostics([{line: 2, column: 7, severity: 'error',"
        " message: \"NameError: name 'y' is not defined <b>x</b>\"}])"
    )
    items = page.locator("#diagnostics .diagnostic")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("NameError: name 'y' is not defined <b>x</b>")
    assert page.locator("#diagnostics b").count() == 0
    expect(page.locator("#editor .cm-lintRange-error")).to_have_count(1)
    items.first.click()
    assert page.evaluate("window.codyskool.getCursor()") == {"line": 2, "column": 7}
    page.keyboard.type("z")  # an edit clears them
    expect(page.locator("#diagnostics")).to_be_hidden()
    expect(page.locator("#editor .cm-lintRange-error")).to_have_count(0)


def test_phone_layout_stacks(browser, app_url):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(app_url + "/")
        expect(page.locator("#run")).to_be_enabled()
        editor = page.locator("#editor").bounding_box()
        output = page.locator("#console").bounding_box()
        assert editor and output
        assert output["y"] >= editor["y"] + editor["height"] - 1
        run = page.locator("#run").bounding_box()
        assert run and run["height"] >= 40
        expect(page.locator("#backend-badge")).to_be_visible()
    finally:
        context.close()


def test_presupplied_stdin_keeps_the_field_usable(page: Page):
    program = 'a = input("First: ")\nprint("got", a)\nb = input("Second: ")\nprint("got", b)\n'
    set_program(page, program)
    page.locator(".stdin-panel summary").click()
    page.fill("#stdin-text", "one")
    page.click("#run")
    expect(console(page)).to_contain_text("got one")
    focus_console_input(page)
    page.keyboard.type("two")
    page.keyboard.press("Enter")
    expect(console(page)).to_contain_text("got two")
    expect(exit_line(page)).to_contain_text("exited with code 0")


def test_run_again_replaces_the_running_program(page: Page):
    set_program(page, "import time\nprint('first run', flush=True)\ntime.sleep(60)\n")
    page.click("#run")
    expect(console(page)).to_contain_text("first run")
    set_program(page, "print('second run')\n")
    page.click("#run")
    expect(exit_line(page)).to_contain_text("exited with code 0")
    expect(exit_line(page)).to_have_count(1)
    text = console(page).inner_text()
    assert "second run" in text
    assert "first run" not in text and "killed" not in text


def test_runtime_error_is_underlined_in_the_editor(page: Page):
    set_program(page, "x = 1\nprint(undefined_name)\n")
    page.click("#run")
    expect(exit_line(page)).to_contain_text("exited with code 1")
    expect(page.locator("#console .out-stderr").first).to_contain_text("NameError")
    item = page.locator("#diagnostics .diagnostic").first
    expect(item).to_contain_text("Line 2")
    expect(page.locator("#editor .cm-lintRange-error")).to_have_count(1)
    page.evaluate("window.codyskool.setCode('print(1)\\n')")  # an edit clears them
    expect(page.locator("#diagnostics")).to_be_hidden()
    expect(page.locator("#editor .cm-lintRange-error")).to_have_count(0)
