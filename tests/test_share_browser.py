"""Sharing, embedding and the examples gallery in a real browser (Debian's Chromium, Playwright)
against a live server with the Docker backend (the `live_server` fixture, or CODYSKOOL_TEST_URL).

Pages that embed CodySkool are served by a second, plain HTTP server on another port: another
origin, as on a real site. Skipped like tests/test_browser.py when Chromium is missing, unless
CODYSKOOL_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import base64
import re
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
import requests
from conftest import ROOT, LiveServer, new_page, wait_until
from ide_page import set_program, static_site
from playwright.sync_api import Page, expect

from codyskool.gallery import load_index

GALLERY = ROOT / "examples" / "gallery"




@pytest.fixture(scope="module")
def other_origin(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A static web server on another port (so another origin) serving a copy of
    examples/embed.html and whatever pages a test writes into the returned directory."""
    root = tmp_path_factory.mktemp("site")
    shutil.copy(ROOT / "examples" / "embed.html", root / "embed.html")
    with static_site(root) as url:
        yield url, root


def code_of(target) -> str:
    return target.evaluate("window.codyskool.getCode()")


def type_into_editor(page: Page, text: str) -> None:
    page.click("#editor .cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


# ---- share links ---------------------------------------------------------------------------------


def test_share_button_link_opens_read_only_and_runs(page: Page, browser):
    program = 'name = input("Name? ")\nprint(f"Hello from a shared link, {name}!")\n'
    set_program(page, program)
    page.locator(".stdin-panel summary").click()
    page.fill("#stdin-text", "Grace")
    page.click("#share")
    link = page.locator("#share-link")
    expect(link).to_be_visible()
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{12}$"))
    url = link.input_value()
    snippet_id = url.rsplit("/", 1)[1]
    assert requests.get(url.replace(f"/s/{snippet_id}", f"/api/snippets/{snippet_id}"), timeout=10).json()[
        "code"] == program  # fmt: skip
    embed = page.locator("#share-embed").input_value()
    assert embed.startswith(f'<iframe src="{url.replace("/s/", "/embed/")}"')
    page.check("#embed-autorun")
    assert "/embed/" + snippet_id + "?autorun=1" in page.locator("#share-embed").input_value()
    # Sharing the same program again gives the same link.
    page.click(".dialog-actions button")
    page.click("#share")
    expect(link).to_have_value(url)

    # A fresh browser (no shared storage) opens the link: the program, read-only, with its stdin.
    errors: list[str] = []
    reader = new_page(browser, errors)
    try:
        reader.goto(url)
        expect(reader.locator("#run")).to_be_enabled()
        assert code_of(reader) == program
        expect(reader.locator("#shared-bar")).to_be_visible()
        expect(reader.locator("#language")).to_be_disabled()
        assert reader.locator("#stdin-text").input_value() == "Grace"
        type_into_editor(reader, "# edited")
        assert code_of(reader) == program  # read-only until edited
        expect(reader.locator("#shared-bar")).to_have_class(re.compile("attention"))

        reader.click("#run")
        expect(reader.locator("#console")).to_contain_text("Hello from a shared link, Grace!")
        expect(reader.locator("#console .exit-line")).to_contain_text("exited with code 0")

        # Edit a copy: editable, the address is the plain IDE, and the copy survives a reload.
        reader.click("#fork")
        expect(reader.locator("#shared-bar")).to_be_hidden()
        type_into_editor(reader, "# my copy\n")
        assert code_of(reader) == program + "# my copy\n"
        assert urlparse(reader.url).path == "/"  # no /s/<id> any more
        reader.reload()
        expect(reader.locator("#run")).to_be_enabled()
        assert code_of(reader) == program + "# my copy\n"
        assert not reader.evaluate("window.codyskool.isReadOnly()")
    finally:
        reader.context.close()
    assert not errors, errors


def fragment_data(text: str) -> str:
    packer = zlib.compressobj(wbits=-15)  # raw DEFLATE, as docs/embed.md says
    return base64.urlsafe_b64encode(packer.compress(text.encode()) + packer.flush()).rstrip(b"=").decode()


def read_fragment_data(data: str) -> str:
    return zlib.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)), wbits=-15).decode()


def test_fragment_link_round_trip(page: Page, browser, app_url: str):
    program = "# Ünïcødé, tabs and <tags> & quotes: \"'`\n\tprint('→ ok')\n" + "x = 1  # padding\n" * 40
    set_program(page, program)
    page.click("#share")
    fragment_link = page.locator("#share-fragment")
    expect(fragment_link).to_be_visible()
    url = fragment_link.input_value()
    assert url.startswith(app_url + "/#lang=python&code=")
    # The format is the documented one: Python reads what the browser wrote.
    data = re.search(r"[#&]code=([A-Za-z0-9_-]+)", url).group(1)
    assert read_fragment_data(data) == program
    assert len(url) < len(program)  # compressed

    reader = new_page(browser)
    try:
        reader.goto(url)
        expect(reader.locator("#shared-bar")).to_be_visible()
        assert code_of(reader) == program
        assert reader.evaluate("window.codyskool.isReadOnly()")

        # And the browser reads what Python wrote, stdin and another language included.
        code = fragment_data('read -r x; echo "got $x"')
        link = f"{app_url}/#lang=bash&code={code}&stdin={fragment_data('42')}"
        reader.goto(link)
        expect(reader.locator("#language")).to_have_value("bash")
        reader.wait_for_function("window.codyskool.getCode() === 'read -r x; echo \"got $x\"'")
        assert reader.locator("#stdin-text").input_value() == "42"
        # The examples follow the program's language, though the language menu is locked.
        expect(reader.locator("#gallery .gallery-item").first).to_have_attribute("data-language", "bash")

        # A damaged link says so instead of failing silently.
        reader.goto(f"{app_url}/#lang=python&code=%%%not-base64")
        expect(reader.locator("#connection-banner")).to_contain_text("could not be read")
    finally:
        reader.context.close()


def test_encoding_functions_round_trip(page: Page):
    result = page.evaluate("""async () => {
        const code = "int main() { return 0; } // ∑ 🎉\\n".repeat(300);
        const program = {language: "cpp", code, stdin: "a\\nb"};
        const fragment = await window.codyskool.encodeProgram(program);
        const back = await window.codyskool.decodeProgram("#" + fragment);
        return {fragment, same: JSON.stringify(back) === JSON.stringify(program)};
    }""")
    assert result["same"]
    assert re.fullmatch(r"lang=cpp&code=[A-Za-z0-9_-]+&stdin=[A-Za-z0-9_-]+", result["fragment"])
    # Inflating past the code limit is refused (a link cannot be a decompression bomb).
    bomb = fragment_data("#" * ((64 << 10) + 1))
    message = page.evaluate(
        "async (f) => { try { await window.codyskool.decodeProgram(f); return 'decoded'; }"
        " catch (e) { return e.message; } }", f"#lang=python&code={bomb}",
    )  # fmt: skip
    assert "larger than" in message


# ---- files ---------------------------------------------------------------------------------------


def test_download_and_open_a_file(page: Page):
    set_program(page, "print('downloaded')\n")
    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename == "main.py"
    assert Path(download.path()).read_text() == "print('downloaded')\n"

    page.set_input_files("#upload-file", files=[
        {"name": "hello.sh", "mimeType": "text/plain", "buffer": b'echo "from a file"\n'}])  # fmt: skip
    expect(page.locator("#language")).to_have_value("bash")
    assert code_of(page) == 'echo "from a file"\n'
    with page.expect_download() as download_info:
        page.click("#download")
    assert download_info.value.suggested_filename == "main.sh"


# ---- the examples gallery ------------------------------------------------------------------------


def test_gallery_loads_an_example_with_one_click(page: Page):
    set_program(page, "")  # nothing to lose: no confirmation
    chips = page.locator("#gallery .gallery-item")
    python = [name for name, entry in load_index().items() if "python" in entry.get("languages", ["python"])]
    expect(chips).to_have_count(len(python))  # every language's five, and those that draw
    expect(chips.first).to_have_text("Hello, world")
    page.locator("#gallery .gallery-item", has_text="Loops").click()
    expected = (GALLERY / "python" / "loops.py").read_text()
    page.wait_for_function("(code) => window.codyskool.getCode() === code", arg=expected)
    page.click("#run")
    expect(page.locator("#console")).to_contain_text("1 + 2 + ... + 100 = 5050")
    # An example loaded and left as it was is nothing to lose: the next loads without asking
    # (Playwright would dismiss a confirmation, and the code would stay).
    page.locator("#gallery .gallery-item", has_text="Guess the number").click()
    expected = (GALLERY / "python" / "game.py").read_text()
    page.wait_for_function("(code) => window.codyskool.getCode() === code", arg=expected)

    # Another language: the list follows (htmx reloads it) and its programs load.
    page.select_option("#language", "java")
    expect(page.locator("#gallery .gallery-item").first).to_have_attribute("data-language", "java")
    set_program(page, "", "java")
    page.locator("#gallery .gallery-item", has_text="Functions").click()
    expected = (GALLERY / "java" / "functions.java").read_text()
    page.wait_for_function("(code) => window.codyskool.getCode() === code", arg=expected)

    # Replacing code of one's own asks first; declining keeps it.
    set_program(page, "class Mine {}\n", "java")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#gallery .gallery-item", has_text="Hello, world").click()
    page.wait_for_timeout(500)
    assert code_of(page) == "class Mine {}\n"


# ---- embedding -----------------------------------------------------------------------------------


def embed_frame(page: Page, frame_name: str):
    frame = page.frame_locator(f"#frame-{frame_name}")
    expect(frame.locator("#run")).to_be_enabled()
    handle = page.locator(f"#frame-{frame_name}").element_handle()
    return handle.content_frame()


def test_embed_page_drives_one_of_two_iframes(browser, app_url: str, other_origin):
    site, _ = other_origin
    errors: list[str] = []
    page = new_page(browser, errors)
    try:
        page.goto(f"{site}/embed.html?app={quote(app_url)}")
        log = page.locator("#log")
        expect(log).to_contain_text("[a] ready python")
        expect(log).to_contain_text("[b] ready python")
        frame_a, frame_b = embed_frame(page, "a"), embed_frame(page, "b")
        assert frame_a.url.startswith(app_url + "/embed?") and frame_b.url.startswith(app_url + "/embed?")
        assert code_of(frame_b) == "print('I am embed B')\n"

        page.click("#set-code")
        frame_a.wait_for_function("window.codyskool.getCode().startsWith(\"name = input('Your name? ')\")")
        page.click("#run")
        expect(log).to_contain_text('[a] prompt "Your name? "')
        page.fill("#input", "Ada")
        page.click("#send")
        expect(log).to_contain_text("[a] exit exited, code 0")
        expect(log).to_contain_text("[a] output stdout: ")
        output = "".join(re.findall(r'^\[a\] output stdout: (".*")$', log.inner_text(), re.M))
        assert "Hello, Ada! (3)" in output, log.inner_text()
        expect(log).to_contain_text("[a] exit exited, code 0")
        expect(page.frame_locator("#frame-a").locator("#console")).to_contain_text("Hello, Ada! (1)")

        # The other embed saw nothing of it.
        text = log.inner_text()
        assert not re.search(r"^\[b\] (output|prompt|exit|started|status)", text, re.M), text
        assert code_of(frame_b) == "print('I am embed B')\n"
        assert frame_b.evaluate("document.querySelector('#console').innerText").strip() == ""
        assert frame_b.evaluate("window.codyskool.state.runId") is None

        # Stop ends a running program.
        frame_a.evaluate("(c) => window.codyskool.setCode(c)",
                         'import time\nprint("tick", flush=True)\ntime.sleep(60)\n')  # fmt: skip
        page.click("#run")
        expect(log).to_contain_text('[a] output stdout: "tick\\n"')
        page.click("#stop")
        expect(log).to_contain_text("[a] exit killed")
    finally:
        page.context.close()
    assert not errors, errors


def test_embed_api_by_script(browser, app_url: str, other_origin):
    """Commands and events straight from a page script: get-code, errors, frame tags, stdin eof."""
    site, root = other_origin
    src = f"{app_url}/embed?language=python&frame=solo&origin={quote(site)}"
    (root / "script.html").write_text(f"""<!doctype html><meta charset="utf-8">
<iframe id="f" src="{src}" width="600" height="300"></iframe>
<script>
  window.events = [];
  window.addEventListener("message", (e) => {{ if (e.origin === "{app_url}") window.events.push(e.data); }});
  window.send = (m) => document.getElementById("f").contentWindow.postMessage(m, "{app_url}");
</script>""")
    page = new_page(browser)
    try:
        page.goto(f"{site}/script.html")
        page.wait_for_function("window.events.some(e => e.type === 'codyskool:ready')")
        events = lambda: page.evaluate("window.events")  # noqa: E731
        assert all(e["frame"] == "solo" for e in events())

        page.evaluate("(code) => send({type: 'codyskool:set-code', code})",
                      "import sys\nprint(len(sys.stdin.read()))\n")  # fmt: skip
        page.evaluate("send({type: 'codyskool:get-code'})")
        page.wait_for_function("window.events.some(e => e.type === 'codyskool:code')")
        code_event = next(e for e in events() if e["type"] == "codyskool:code")
        assert code_event == {"type": "codyskool:code", "frame": "solo", "language": "python",
                              "code": "import sys\nprint(len(sys.stdin.read()))\n"}  # fmt: skip

        page.evaluate("send({type: 'codyskool:run'})")
        page.wait_for_function("window.events.some(e => e.type === 'codyskool:started')")
        page.evaluate("send({type: 'codyskool:stdin', data: 'abc'})")
        page.evaluate("send({type: 'codyskool:stdin', eof: true})")
        page.wait_for_function("window.events.some(e => e.type === 'codyskool:exit')")
        output = "".join(e["data"] for e in events() if e["type"] == "codyskool:output")
        assert output == "3\n"
        started = next(e for e in events() if e["type"] == "codyskool:started")
        exit_event = next(e for e in events() if e["type"] == "codyskool:exit")
        assert exit_event["run_id"] == started["run_id"] and exit_event["code"] == 0

        # Refused commands answer with an error; commands for another frame are ignored.
        page.evaluate("send({type: 'codyskool:stdin', data: 'late'})")
        page.evaluate("send({type: 'codyskool:fly'})")
        page.evaluate("send({type: 'codyskool:set-code', code: 'print(1)', language: 'cobol'})")
        page.evaluate("send({type: 'codyskool:set-code', code: 'print(\"other\")', frame: 'someone-else'})")
        page.wait_for_function("window.events.filter(e => e.type === 'codyskool:error').length >= 3")
        errors = [(e["command"], e["message"]) for e in events() if e["type"] == "codyskool:error"]
        assert ("stdin", "no program is running") in errors
        assert ("fly", 'unknown command "codyskool:fly"') in errors
        assert ("set-code", 'unknown language "cobol"') in errors
        assert "other" not in code_of(page.locator("#f").element_handle().content_frame())
    finally:
        page.context.close()


def test_embed_ignores_pages_it_does_not_allow(browser, other_origin):
    """With CODYSKOOL_EMBED_ALLOWED_ORIGINS naming another site, the example page can neither
    drive its embeds nor hear from them."""
    site, _ = other_origin
    live = LiveServer("local", "eventlet", {"CODYSKOOL_EMBED_ALLOWED_ORIGINS": "https://course.example"})
    page = new_page(browser)
    try:
        page.goto(f"{site}/embed.html?app={quote(live.url)}")
        frame_a = embed_frame(page, "a")
        page.click("#set-code")
        page.click("#run")
        page.wait_for_timeout(1500)
        assert code_of(frame_a) == "print('I am embed A')\n"
        assert frame_a.evaluate("window.codyskool.state.runId") is None
        assert page.locator("#log").inner_text().strip() == ""  # not even "ready"
    finally:
        page.context.close()
        live.stop()


def test_only_embed_pages_can_be_framed(browser, app_url: str, other_origin):
    site, root = other_origin
    (root / "frames.html").write_text(f"""<!doctype html><meta charset="utf-8">
<iframe id="embed" src="{app_url}/embed?language=python&code=print(1)"></iframe>
<iframe id="ide" src="{app_url}/"></iframe>""")
    page = new_page(browser)
    try:
        page.goto(f"{site}/frames.html")
        expect(page.frame_locator("#embed").locator("#run")).to_be_visible()
        # Chromium replaces a page that refuses to be framed with its error page.
        ide = page.locator("#ide").element_handle()
        assert wait_until(lambda: (ide.content_frame().url or "").startswith("chrome-error://")), (
            ide.content_frame().url
        )
    finally:
        page.context.close()


def test_embed_options(browser, app_url: str):
    program = 'print("autorun says hi")\n'
    snippet = requests.post(app_url + "/api/snippets", json={"language": "python", "code": program},
                            timeout=10)  # fmt: skip
    snippet_id = snippet.json()["id"]
    page = new_page(browser, color_scheme="light")
    try:
        page.set_viewport_size({"width": 320, "height": 480})
        page.goto(f"{app_url}/embed/{snippet_id}?autorun=1&readonly=1&theme=dark&height=240")
        expect(page.locator("#console")).to_contain_text("autorun says hi")
        assert page.evaluate("window.codyskool.isReadOnly()")
        type_into_editor(page, "# nope")
        assert code_of(page) == program
        background = page.evaluate("getComputedStyle(document.querySelector('#console')).backgroundColor")
        # Dark, though the system's preference is light.
        assert sum(int(v) for v in re.findall(r"\d+", background)[:3]) < 150, background
        assert page.locator("main.embed").bounding_box()["height"] == pytest.approx(240, abs=1)
        # The whole bar fits a narrow frame.
        for selector in ["#run", "#stop", "#open-link"]:
            box = page.locator(selector).bounding_box()
            assert box and box["x"] + box["width"] <= 320, selector
        assert page.locator("#open-link").evaluate("link => link.href") == f"{app_url}/s/{snippet_id}"

        page.goto(f"{app_url}/embed?language=python&hide_editor=1#code={fragment_data('print(6 * 7)')}")
        page.wait_for_function("window.codyskool.getCode() === 'print(6 * 7)'")
        expect(page.locator("#editor")).to_be_hidden()
        page.click("#run")
        expect(page.locator("#console")).to_contain_text("42")
    finally:
        page.context.close()
