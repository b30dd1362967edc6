"""Python's turtle in the runner, drawn for the page (sandbox/runner/turtle_screen.py): its
drawing commands, which the server's checks pass whole, and its event loop's clicks, keys, timers
and questions. On the host, with no Tk: the runner's stand-in for tkinter is what turtle imports."""

from __future__ import annotations

import json
from pathlib import Path

from runner_host import Runner, job, run

from codyskool.drawing import read_commands


def commands(result) -> list[list]:
    drawn = []
    for kind, payload in result.frames:
        if kind == "turtle":
            batch = json.loads(payload)
            assert read_commands(payload) == batch, "every command passes the server's checks"
            drawn += batch
    return drawn


def last(drawn: list[list], op: str) -> list:
    return [command for command in drawn if command[0] == op][-1]


def test_a_square_with_a_fill_and_text(tmp_path: Path) -> None:
    code = """\
import turtle
turtle.bgcolor("light yellow")
t = turtle.Turtle()
t.pencolor("#00f")
for _ in range(4):
    t.forward(100)
    t.left(90)
t.fillcolor("red")
t.begin_fill()
t.circle(10)
t.end_fill()
t.write("Hi", font=("Courier", 14, "italic"))
print("done")
"""
    result = run(job(tmp_path, None, code))
    assert result.text("stdout") == "done\n" and result.exit["code"] == 0, result.text("stderr")
    drawn = commands(result)
    assert ["size", 640, 600] in drawn and ["bg", "lightyellow"] in drawn
    square = next(command for command in drawn if command[0] == "line" and len(command[2]) == 10)
    assert [round(value) for value in square[2]] == [0, 0, 100, 0, 100, -100, 0, -100, 0, 0]
    assert square[3] == "#0000ff"
    fill = [command for command in drawn if command[0] == "poly" and command[3] == "red" and command[4] == ""]
    assert fill, "the circle's fill"
    assert last(drawn, "text")[3:6] == ["Hi", "sw", ["Courier", 14.0, "italic"]]


def test_a_bad_colour_and_tks_canvas_get_clear_messages(tmp_path: Path) -> None:
    code = """\
import turtle
try:
    turtle.pencolor("SeaGreen9")
except turtle.TurtleGraphicsError as error:
    print(error)
turtle.getcanvas().postscript(file="x.ps")
"""
    result = run(job(tmp_path, None, code))
    assert result.text("stdout") == "bad color string: SeaGreen9\n"
    message = "AttributeError: the turtle canvas here is the page's, not Tk's: it has no 'postscript'"
    assert message in result.text("stderr")


HANDLERS = """\
import turtle
screen = turtle.Screen()
t = turtle.Turtle()
def clicked(x, y):
    print("clicked", x, y)
def on_turtle(x, y):
    print("turtle clicked")
def key():
    print("key", 1 / 0 if t.xcor() > 5 else "Up")
    t.forward(10)
def tick():
    print("tick")
screen.onscreenclick(clicked)
t.onclick(on_turtle)
screen.onkey(key, "Up")
screen.onkeypress(screen.bye, "q")
screen.ontimer(tick, 50)
screen.listen()
print("ready", flush=True)
screen.mainloop()
print("after")
"""


def test_clicks_keys_and_timers_reach_their_handlers_until_bye(tmp_path: Path) -> None:
    runner = Runner(job(tmp_path, None, HANDLERS, canvas_events=True))
    assert runner.wait_for("stdout") == b"ready\n"
    assert runner.wait_for("prompt", timeout=5) == b'{"text": "", "canvas": true}', "waiting, not running"
    runner.event({"type": "click", "x": 10, "y": -20, "button": 1})  # canvas y grows downwards
    runner.event({"type": "click", "x": -5, "y": 1})  # on the turtle's arrow, just behind its tip
    runner.event({"type": "keyup", "key": "Up"})
    runner.event({"type": "keyup", "key": "Up"})  # its handler fails: printed, the loop goes on
    runner.event({"type": "keyup", "key": "Down"})  # no handler
    runner.event({"type": "keydown", "key": "q"})
    result = runner.finish()
    assert result.text("stdout") == (
        "ready\ntick\nclicked 10.0 20.0\nturtle clicked\nclicked -5.0 -1.0\nkey Up\nafter\n"), result.frames
    assert "ZeroDivisionError: division by zero" in result.text("stderr")
    assert result.exit["code"] == 0


def test_the_main_loop_ends_when_nothing_can_happen(tmp_path: Path) -> None:
    """No handler, or no page to send events (POST /api/run): mainloop() and done() return; the
    timers still run first."""
    code = HANDLERS.replace('screen.onkeypress(screen.bye, "q")\n', "")
    result = run(job(tmp_path, None, code, canvas_events=False))
    assert result.text("stdout") == "ready\ntick\nafter\n"
    result = run(job(tmp_path, None, "import turtle\nturtle.forward(5)\nturtle.done()\nprint('end')\n",
                     canvas_events=True))
    assert result.text("stdout") == "end\n"


PRELOAD = ("--preload", "turtle")


def test_a_sandbox_that_preloaded_turtle_runs_a_game_as_if_the_program_imported_it(tmp_path: Path) -> None:
    """A warm sandbox for graphics (languages.toml, [python.warm.graphics]) imported turtle before
    the job said whether a page can send events: its clicks and keys still reach the handlers."""
    code = "import sys\nprint('preloaded' if 'turtle' in sys.modules else 'fresh')\n" + HANDLERS
    runner = Runner(job(tmp_path, None, code, canvas_events=True), runner_args=PRELOAD)
    assert runner.wait_for("stdout", timeout=10) == b"preloaded\n"
    runner.wait_for("prompt", timeout=5)
    runner.event({"type": "click", "x": 10, "y": -20, "button": 1})
    runner.event({"type": "keyup", "key": "Up"})
    runner.event({"type": "keydown", "key": "q"})
    result = runner.finish()
    assert result.text("stdout") == "preloaded\nready\ntick\nclicked 10.0 20.0\nkey Up\nafter\n", \
        result.frames
    assert "turtle" in [kind for kind, _ in result.frames], "it draws for the page"
    plain = run(job(tmp_path, None, "import sys\nprint('turtle' in sys.modules)\n"))
    assert plain.text("stdout") == "False\n", "a sandbox that was not told to preload has not"


def test_a_preloaded_turtle_without_a_page_is_shown_as_a_picture(tmp_path: Path) -> None:
    code = "import turtle\nturtle.forward(50)\n"
    result = run(job(tmp_path, None, code, canvas_events=False), runner_args=PRELOAD)
    assert [json.loads(payload.partition(b"\n")[0]) for kind, payload in result.frames
            if kind == "display"] == [{"name": "turtle.svg"}]
    page = run(job(tmp_path, None, code, canvas_events=True), runner_args=PRELOAD)
    assert "display" not in page.kinds() and "turtle" in page.kinds()


def test_a_module_that_cannot_be_preloaded_is_left_for_the_program_to_import(tmp_path: Path) -> None:
    code = "import no_such_module\n"
    result = run(job(tmp_path, None, code), runner_args=("--preload", "no_such_module,turtle"))
    assert "ModuleNotFoundError: No module named 'no_such_module'" in result.text("stderr")
    assert result.exit["code"] == 1


def test_textinput_and_numinput_ask_at_a_prompt(tmp_path: Path) -> None:
    code = """\
import turtle
name = turtle.textinput("Hello", "Your name?")
sides = turtle.numinput("Shape", "How many sides?", 4, minval=3, maxval=12)
print(name, sides, turtle.textinput("More", "Again?"))
"""
    result = run(job(tmp_path, None, code), stdin=b"Ada\n99\nfive\n\n")
    assert result.text("stdout") == (
        "Your name? How many sides? [4] The number must be from 3 to 12.\n"
        "How many sides? [4] Please type a number.\nHow many sides? [4] Again? Ada 4 None\n")


def test_with_no_page_the_drawing_is_shown_as_a_picture(tmp_path: Path) -> None:
    """POST /api/run has no canvas: the drawing as the program left it comes as an SVG."""
    code = ('import turtle\nturtle.bgcolor("black")\nturtle.color("gold")\nturtle.forward(50)\n'
            'turtle.write("<b>")\n')
    result = run(job(tmp_path, None, code, canvas_events=False))
    (picture,) = [payload for kind, payload in result.frames if kind == "display"]
    meta, _, svg = picture.partition(b"\n")
    assert json.loads(meta) == {"name": "turtle.svg"}
    assert svg.startswith(b'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="600"')
    assert b'fill="black"' in svg
    assert b'<polyline points="0.00,0.00 50.00,0.00" fill="none" stroke="gold"' in svg
    assert b"&lt;b&gt;</text>" in svg, "the program's text is escaped"
    page = run(job(tmp_path, None, code, canvas_events=True))
    assert "display" not in page.kinds(), "a page has the drawing itself"


GIF = bytes.fromhex("47494638396102000300800000000000ffffff21f90400000000002c00000000020003000002028c5d003b")


def test_picture_shapes_backgrounds_and_world_coordinates(tmp_path: Path) -> None:
    (tmp_path / "bug.gif").write_bytes(GIF)
    code = """\
import turtle
screen = turtle.Screen()
screen.setup(400, 300)
screen.register_shape("bug.gif")
screen.bgpic("bug.gif")
t = turtle.Turtle()
t.shape("bug.gif")
screen.setworldcoordinates(0, 0, 10, 10)
t.goto(5, 5)
print(t.pos(), screen.window_width(), screen.window_height())
"""
    result = run(job(tmp_path, None, code))
    assert result.text("stderr") == ""
    assert result.text("stdout") == "(5.00,5.00) 400 300\n"
    drawn = commands(result)
    pictures = {command[1]: command[2:] for command in drawn if command[0] == "picture"}
    assert all(mime == "image/gif" for mime, _ in pictures.values())
    assert last(drawn, "bgpic")[1] in pictures
    image = last(drawn, "image")
    assert image[3] in pictures, "the turtle is drawn as the picture"
    # world 0..10 is the canvas's 0..380 by -280..0 (the window less Tk's margin), viewed at its centre
    assert last(drawn, "view") == ["view", 190.0, -140.0]
    assert [round(value) for value in image[2]] == [190, -140], "world (5, 5) is the centre"


def test_drawing_too_large_for_a_frame_is_left_out_and_the_rest_goes_on(tmp_path: Path) -> None:
    """A turtle frame over the control pipe's bound is dropped as it comes; prompts, pictures and
    drawing after it still pass."""
    code = """\
import os
from _codyskool_runner.wire import FRAME_HEADER, MAX_PROMPT
os.write(3, FRAME_HEADER.pack(b"t", MAX_PROMPT + 10))
chunk = b"[" * 65536
left = MAX_PROMPT + 10
while left:
    left -= os.write(3, chunk[:left])
import turtle
turtle.forward(10)
print(input("still asking? "))
"""
    result = run(job(tmp_path, None, code), stdin=b"yes\n")
    assert result.text("stdout") == "still asking? yes\n", result.text("stderr")
    assert any(command[0] == "line" for command in commands(result))
