"""Turtle in a real browser: a square drawn where it should be on the page's canvas, and a
program driven by keys that moves when a key is pressed (docs/graphics.md)."""

from __future__ import annotations

from urllib.parse import quote

from conftest import new_page
from ide_page import exit_line, set_program
from playwright.sync_api import Page, expect

SQUARE = """\
import turtle
t = turtle.Turtle()
t.pensize(5)
t.pencolor("blue")
for _ in range(4):
    t.forward(100)
    t.left(90)
t.hideturtle()
print("drawn")
"""

# The colour at a point of the program's canvas (turtle's coordinates: from the centre, y up).
PIXEL_AT = """([canvas, x, y]) => {
  const scale = window.devicePixelRatio || 1;
  const width = canvas.width / scale, height = canvas.height / scale;
  const data = canvas.getContext("2d").getImageData(
    Math.round((width / 2 + x) * scale), Math.round((height / 2 - y) * scale), 1, 1).data;
  return Array.from(data.slice(0, 3));
}"""


def pixel(page: Page, x: float, y: float) -> list[int]:
    return page.evaluate(PIXEL_AT, [page.locator("#turtle canvas").element_handle(), x, y])


def test_a_square_is_drawn_where_turtle_draws_it(page: Page) -> None:
    set_program(page, SQUARE)
    page.click("#run")
    expect(exit_line(page)).to_contain_text("exited with code 0", timeout=30_000)
    expect(page.locator("#turtle")).to_be_visible()
    assert page.locator("#turtle canvas").evaluate("c => [c.width, c.height]") == [
        640 * page.evaluate("window.devicePixelRatio"), 600 * page.evaluate("window.devicePixelRatio")]
    for x, y in [(50, 0), (100, 50), (50, 100), (0, 50)]:  # the middle of each side
        assert pixel(page, x, y) == [0, 0, 255], (x, y)
    assert pixel(page, 50, 50) == [255, 255, 255], "inside the square"
    assert pixel(page, 150, 50) == [255, 255, 255], "outside it"


KEYS = """\
import turtle
screen = turtle.Screen()
t = turtle.Turtle()
t.pensize(6)
t.color("red")
t.speed(0)

def up():
    t.forward(60)
    print("moved to", round(t.ycor()) if t.heading() == 90 else round(t.xcor()))

def turn():
    t.left(90)

def stop():
    print("bye")
    screen.bye()

screen.onkey(up, "Up")
screen.onkeypress(turn, "space")
screen.onkey(stop, "q")
screen.listen()
print("ready")
screen.mainloop()
print("the end")
"""


def test_a_key_driven_program_moves_when_a_key_is_pressed(page: Page) -> None:
    set_program(page, KEYS)
    page.click("#run")
    expect(page.locator("#console")).to_contain_text("ready", timeout=30_000)
    canvas = page.locator("#turtle canvas")
    expect(canvas).to_be_visible()
    canvas.click()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#console")).to_contain_text("moved to 60")
    page.wait_for_timeout(200)  # the next animation frame draws the line
    assert pixel(page, 30, 0) == [255, 0, 0], "the line it drew"
    page.keyboard.press(" ")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#console")).to_contain_text("moved to 60\nmoved to 60")
    page.wait_for_timeout(200)
    assert pixel(page, 60, 30) == [255, 0, 0], "turned left, then up the y axis"
    page.keyboard.press("q")
    expect(exit_line(page)).to_contain_text("exited with code 0")
    expect(page.locator("#console")).to_contain_text("bye\nthe end")
    assert pixel(page, 30, 0) == [255, 0, 0], "the drawing stays after the program ends"


def test_an_embed_draws_the_square_too(browser, app_url: str) -> None:
    page = new_page(browser)
    try:
        page.goto(f"{app_url}/embed?language=python&autorun=1&code={quote(SQUARE)}")
        expect(page.locator("#console")).to_contain_text("drawn", timeout=30_000)
        expect(page.locator("#turtle canvas")).to_be_visible()
        page.wait_for_timeout(200)  # the next animation frame draws the last of it
        for x, y in [(50, 0), (100, 50), (50, 100), (0, 50)]:
            assert pixel(page, x, y) == [0, 0, 255], (x, y)
        assert pixel(page, 50, 50) == [255, 255, 255]
    finally:
        page.close()
