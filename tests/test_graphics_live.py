"""Pictures from real Python programs in real sandboxes: matplotlib, Pillow and picture files
(docs/graphics.md), through the live server's Socket.IO events and POST /api/run."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator

import pytest
import requests
from conftest import LiveServer, RunClient, brief, require_docker
from live import wait_until

from codyskool.languages import load_languages

pytestmark = pytest.mark.live

TWO_PLOTS = """\
import matplotlib.pyplot as plt
print("first")
plt.plot([1, 2, 3], [3, 1, 2])
plt.show()
print("second")
plt.bar(["a", "b"], [2, 5])
plt.show()
print("done")
"""


# numpy, matplotlib and pandas take 2-3 s of CPU time to import under gVisor, whose accounting
# includes what its kernel does for the program (page faults, file reads): more than the other
# live tests' 3 s, so these run with the server's default limits.
GRAPHICS_LIMITS = {"CODYSKOOL_CPU_TIME_LIMIT_S": "10", "CODYSKOOL_WALL_TIME_LIMIT_S": "30"}


@pytest.fixture(scope="module")
def graphics_server() -> Iterator[LiveServer]:
    require_docker()
    live = LiveServer("docker", "eventlet", extra_env=GRAPHICS_LIMITS)
    yield live
    live.stop()
    assert live.containers() == [], "containers left after the server stopped"


@pytest.fixture
def client(graphics_server: LiveServer) -> Iterator[RunClient]:
    run_client = RunClient(graphics_server.url)
    yield run_client
    run_client.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


def test_two_figures_arrive_as_pngs_between_the_lines_around_them(client: RunClient) -> None:
    result = client.run_to_exit(TWO_PLOTS)
    assert result.exit["reason"] == "exited" and result.exit["code"] == 0, brief(result.events)
    order = [payload["data"] if name == "output" else "<picture>"
             for name, payload in result.events if name in ("output", "display")]
    assert order == ["first\n", "<picture>", "second\n", "<picture>", "done\n"], order
    pictures = result.of("display")
    assert [picture["mime"] for picture in pictures] == ["image/png", "image/png"]
    assert [png_size(base64.b64decode(picture["data"])) for picture in pictures] == [(640, 480)] * 2
    assert pictures[0]["id"] != pictures[1]["id"], "a new figure after show() is a new picture"
    assert result.stderr == ""


def test_a_plot_runs_in_a_sandbox_that_imported_pyplot_before_its_job(graphics_server: LiveServer) -> None:
    """The warm pool's "python:graphics" kind (languages.toml): pyplot, numpy and turtle already
    imported, by root before the program's process left it, and matplotlib's caches usable by the
    program. A hello world gets a sandbox without them."""
    def graphics_idle() -> bool:
        return graphics_server.health()["pool"]["idle"].get("python:graphics") == 1

    def run(code: str) -> dict:
        assert wait_until(graphics_idle, timeout=60), graphics_server.health()["pool"]
        return requests.post(f"{graphics_server.url}/api/run", json={"language": "python", "code": code},
                             timeout=60).json()

    plot = run("import os, sys\nprint('matplotlib.pyplot' in sys.modules, 'turtle' in sys.modules)\n"
               "import matplotlib.pyplot as plt\nimport matplotlib\ncache = matplotlib.get_cachedir()\n"
               "open(os.path.join(cache, 'mine'), 'w').write('x')\n"
               "print(os.access(cache, os.W_OK), os.getuid() != 0)\n"
               "plt.plot([1, 2])\nplt.show()\n")
    assert plot["exit"]["reason"] == "exited" and plot["stderr"] == "", plot
    assert plot["stdout"] == "True True\nTrue True\n"
    assert [shown["mime"] for shown in plot["displays"]] == ["image/png"]
    hello = run("import sys\nprint('numpy' in sys.modules, 'turtle' in sys.modules)\n")
    assert hello["stdout"] == "False False\n", hello


def test_the_api_answers_with_the_pictures(graphics_server: LiveServer) -> None:
    code = TWO_PLOTS + "plt.plot([0, 1])\nplt.savefig('line.png')\n"  # left open, and saved
    body = requests.post(f"{graphics_server.url}/api/run", json={"language": "python", "code": code},
                         timeout=60).json()
    assert body["exit"]["reason"] == "exited", body
    assert body["stdout"] == "first\nsecond\ndone\n"
    assert [(shown["mime"], shown.get("name")) for shown in body["displays"]] == [
        ("image/png", None), ("image/png", None), ("image/png", None), ("image/png", "line.png")]
    for shown in body["displays"]:
        png_size(base64.b64decode(shown["data"]))


def test_pillow_show_and_written_pictures_of_each_kind(client: RunClient) -> None:
    code = """\
from PIL import Image
image = Image.new("RGB", (40, 20), "white")
for x in range(40):
    image.putpixel((x, 10), (255, 0, 0))
image.show()
image.save("pixels.gif")
image.save("pixels.jpg")
open("drawing.svg", "w").write('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
                               '<script>alert(1)</script><rect width="8" height="8"/></svg>')
open("fake.png", "w").write("<html>not a picture</html>")
"""
    result = client.run_to_exit(code)
    pictures = result.of("display")
    shown = [(picture["mime"], picture.get("name")) for picture in pictures]
    assert shown[0] == ("image/png", None), brief(result.events)  # show(), then the files it wrote
    assert sorted(shown[1:]) == [("image/gif", "pixels.gif"), ("image/jpeg", "pixels.jpg"),
                                 ("image/svg+xml", "drawing.svg")], brief(result.events)
    assert png_size(base64.b64decode(pictures[0]["data"])) == (40, 20)
    svg = next(picture for picture in pictures if picture["mime"] == "image/svg+xml")
    assert "<script>" in svg["data"], "sent as it is: the page shows it as an inert <img>"
    assert "A picture was not shown: it is not a PNG, JPEG, GIF or SVG image." in result.stderr


def test_a_plot_animates_in_place(client: RunClient) -> None:
    code = """\
import matplotlib.pyplot as plt
for n in range(1, 4):
    plt.cla()
    plt.plot(range(n))
    plt.pause(0.3)
"""
    result = client.run_to_exit(code, timeout=30)
    pictures = result.of("display")
    assert result.exit["reason"] == "exited", brief(result.events)
    assert len(pictures) >= 2 and len({picture["id"] for picture in pictures}) == 1, brief(result.events)


def test_the_display_limit_stops_a_run(client: RunClient) -> None:
    noise = """\
import os
from PIL import Image
for _ in range(4):
    Image.frombytes("L", (1500, 1500), os.urandom(1500 * 1500)).show()  # 2.2 MB of PNG each
print("not reached")
"""
    result = client.run_to_exit(noise, timeout=30)
    assert result.exit["reason"] == "display_limit", brief(result.events)
    assert 1 <= len(result.of("display")) <= 3
    assert "more than the picture limit of 8 MiB" in result.stderr
    assert "not reached" not in result.stdout


def test_every_library_listed_imports_at_its_version(client: RunClient) -> None:
    libraries = load_languages()["python"].libraries
    code = "".join(f"import {module}\nprint({module}.__version__)\n"
                   for module in (library["module"] for library in libraries))
    result = client.run_to_exit(code)
    versions = result.stdout.split()
    assert len(versions) == len(libraries), brief(result.events)
    for library, version in zip(libraries, versions, strict=True):
        assert version.startswith(library["version"] + "."), (library, version)


def test_turtle_drawing_streams_while_the_program_runs(client: RunClient) -> None:
    code = """\
import time
import turtle
turtle.tracer(0)
turtle.forward(80)
turtle.update()
print("drawn", flush=True)
time.sleep(1)
turtle.left(90)
turtle.forward(80)
print("end")
"""
    result = client.run_to_exit(code)
    names = [name if name != "output" else payload["data"] for name, payload in result.events
             if name in ("turtle", "output")]
    assert result.exit["reason"] == "exited", brief(result.events)
    assert names.index("turtle") < names.index("drawn\n") < names.index("end\n"), names
    commands = [command for batch in result.of("turtle") for command in batch["commands"]]
    lines = [command for command in commands if command[0] == "line"]
    assert [round(value) for value in lines[-1][2]] == [0, 0, 80, 0, 80, -80], "drawn to the end"


def test_a_turtle_click_handler_answers_a_click(client: RunClient) -> None:
    code = """\
import turtle
screen = turtle.Screen()
def clicked(x, y):
    print("clicked", x, y)
    screen.bye()
screen.onscreenclick(clicked)
print("ready", flush=True)
screen.mainloop()
print("closed")
"""
    run_id = client.start(code)
    client.wait_for("output", run_id)
    client.send("canvas", {"type": "click", "x": 3, "y": 4})
    exit_payload, events = client.wait_for("exit", run_id)
    output = "".join(payload["data"] for name, payload in events if name == "output")
    assert output == "clicked 3.0 -4.0\nclosed\n", brief(events)
    assert exit_payload["reason"] == "exited" and exit_payload["code"] == 0


def test_a_turtle_that_draws_without_end_is_stopped_at_the_display_limit(client: RunClient) -> None:
    code = """\
import turtle
turtle.tracer(0)
while True:
    turtle.forward(1)
    turtle.left(7)
    turtle.update()
"""
    result = client.run_to_exit(code, timeout=60)
    assert result.exit["reason"] == "display_limit", brief(result.events)
    assert "more than the picture limit of 8 MiB" in result.stderr
    sent = sum(len(json.dumps(batch["commands"], separators=(",", ":"))) for batch in result.of("turtle"))
    assert 7 << 20 < sent < 9 << 20, sent
