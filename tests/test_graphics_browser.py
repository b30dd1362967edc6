"""Pictures in a real browser: a plot in the IDE's console, drawn where it should be; an SVG
with a script shown inert; the same plot in an embed, posted to the embedding page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import new_page
from ide_page import exit_line, set_program, static_site
from playwright.sync_api import Page, expect

RED_PLOT = """\
import matplotlib.pyplot as plt
print("before")
figure = plt.figure(facecolor="red")
plt.show()
print("after")
"""

# The middle pixel of the console's picture, drawn onto a canvas: only a real, decoded image has one.
MIDDLE_PIXEL = """(img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  return Array.from(context.getImageData(img.naturalWidth / 2, img.naturalHeight / 2, 1, 1).data);
}"""


def test_a_plot_is_shown_in_the_console_between_its_lines(page: Page) -> None:
    set_program(page, RED_PLOT)
    page.click("#run")
    expect(exit_line(page)).to_contain_text("exited with code 0", timeout=30_000)
    picture = page.locator("#console .console-picture img")
    expect(picture).to_have_count(1)
    assert picture.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [640, 480]
    assert picture.evaluate(MIDDLE_PIXEL) == [255, 0, 0, 255]
    text = page.locator("#console .console-output").evaluate(
        "pre => Array.from(pre.children).map(node => node.classList.contains('console-picture') ? '<picture>'"
        " : node.textContent).join('')")
    assert text.startswith("before\n<picture>after\n"), text


def test_an_svg_with_a_script_is_an_inert_picture(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    set_program(page, "open('x.svg', 'w').write('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" "
                      "height=\"20\" onload=\"alert(1)\"><script>alert(2)</script>"
                      "<rect width=\"20\" height=\"20\" fill=\"blue\"/></svg>')\n")
    page.click("#run")
    picture = page.locator("#console .console-picture img")
    expect(picture).to_have_count(1, timeout=30_000)
    expect(page.locator("#console .console-picture-name")).to_have_text("x.svg")
    assert picture.evaluate("img => img.src.startsWith('data:image/svg+xml;base64,')")
    page.wait_for_function("img => img.complete && img.naturalWidth === 20", arg=picture.element_handle())
    assert picture.evaluate(MIDDLE_PIXEL) == [0, 0, 255, 255]
    assert page.locator("#console svg").count() == 0, "never inline markup"
    assert dialogs == []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("site")
    with static_site(root) as url:
        yield url, root


def test_an_embed_shows_the_plot_and_posts_it(browser, app_url: str, site: tuple[str, Path]) -> None:
    url, root = site
    src = f"{app_url}/embed?language=python&autorun=1&origin={quote(url)}&code={quote(RED_PLOT)}"
    (root / "plot.html").write_text(f"""<!doctype html><meta charset="utf-8">
<iframe id="f" src="{src}" width="700" height="700"></iframe>
<script>
  window.events = [];
  window.addEventListener("message", (e) => {{ if (e.origin === "{app_url}") window.events.push(e.data); }});
</script>""")
    page = new_page(browser)
    try:
        page.goto(f"{url}/plot.html")
        page.wait_for_function("window.events.some(e => e.type === 'codyskool:exit')", timeout=30_000)
        posted = page.evaluate("window.events.filter(e => e.type === 'codyskool:display')")
        assert [(event["mime"], event["data"][:8]) for event in posted] == [("image/png", "iVBORw0K")]
        embed = page.frame_locator("#f")
        expect(embed.locator("#console .console-picture img")).to_have_count(1)
        assert embed.locator("#console .console-picture img").evaluate(MIDDLE_PIXEL) == [255, 0, 0, 255]
    finally:
        page.close()


def test_the_libraries_panel_follows_the_language(page: Page) -> None:
    panel = page.locator("#libraries")
    expect(panel).to_be_visible()
    panel.locator("summary").click()
    expect(page.locator("#libraries-title")).to_have_text("Libraries for Python 3")
    expect(page.locator("#libraries-list li")).to_have_count(4)
    expect(page.locator("#libraries-list li").first).to_contain_text("numpy 1.24: arrays")
    page.select_option("#language", "c")
    expect(panel).to_be_hidden()
