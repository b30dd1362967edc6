"""Pictures from a Python program in the runner (sandbox/runner/graphics.py): display frames, in
order with the text around them, and picture files the program wrote, after it."""

from __future__ import annotations

import json
from pathlib import Path

from runner_host import job, run

from codyskool.sandbox.channel import wire

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
DISPLAY = "from _codyskool_runner.graphics import display\n"


def displays(result) -> list[tuple[dict, bytes]]:
    shown = []
    for kind, payload in result.frames:
        if kind == "display":
            line, _, data = payload.partition(b"\n")
            shown.append((json.loads(line), data))
    return shown


def test_a_picture_comes_between_the_text_printed_around_it(tmp_path: Path) -> None:
    code = DISPLAY + f"print('before')\ndisplay({PNG!r}, ident='figure-1')\nprint('after')\n"
    result = run(job(tmp_path, None, code))
    kinds = [kind for kind, _ in result.frames if kind in ("stdout", "display")]
    assert kinds == ["stdout", "display", "stdout"], result.frames
    assert displays(result) == [({"id": "figure-1"}, PNG)]
    assert result.exit["code"] == 0


def test_picture_files_the_program_wrote_are_shown_after_it(tmp_path: Path) -> None:
    code = (f"open('plot.png', 'wb').write({PNG!r})\nopen('notes.txt', 'w').write('x')\n"
            "import os\nos.mkdir('out')\nopen('out/b.svg', 'w').write('<svg/>')\nprint('done')\n")
    result = run(job(tmp_path, None, code))
    assert [(meta, data) for meta, data in displays(result)] == [
        ({"name": "plot.png"}, PNG), ({"name": "out/b.svg"}, b"<svg/>")]
    assert result.frames.index(("stdout", b"done\n")) < [kind for kind, _ in result.frames].index("display")


def test_a_picture_too_large_for_a_frame_is_only_its_size(tmp_path: Path) -> None:
    """Forged straight onto the control pipe: the runner passes on the size, drops the bytes, and
    goes on reading what comes after them."""
    size = wire.MAX_DISPLAY + 1
    code = DISPLAY + (
        "import os\nfrom _codyskool_runner.wire import FRAME_HEADER\n"
        f"os.write(3, FRAME_HEADER.pack(b'i', {size}))\n"
        f"chunk = b'x' * (1 << 20)\nleft = {size}\n"
        "while left:\n    left -= os.write(3, chunk[:left])\n"
        f"display({PNG!r})\nprint('still here')\n")
    result = run(job(tmp_path, None, code), timeout=30)
    assert displays(result) == [({"size": size}, b""), ({}, PNG)]
    assert result.text("stdout") == "still here\n" and result.exit["code"] == 0


def test_the_runner_makes_the_pictures_line_anew(tmp_path: Path) -> None:
    """What the program writes as a picture's JSON line is its word: only "id" and "name" pass,
    as strings; a "size" it claims (which would count against the limit) does not."""
    code = ("import os\nfrom _codyskool_runner.wire import FRAME_HEADER\n"
            "lines = (b'{\"size\": -99, \"id\": \"a\", \"x\": 1}', b'not json', b'[1]', b'{\"name\": 7}')\n"
            "for line in lines:\n"
            f"    payload = line + b'\\n' + {PNG!r}\n"
            "    os.write(3, FRAME_HEADER.pack(b'i', len(payload)) + payload)\n")
    result = run(job(tmp_path, None, code))
    assert displays(result) == [({"id": "a"}, PNG), ({}, PNG), ({}, PNG), ({}, PNG)]


def test_the_end_shows_the_programs_folder_even_after_it_left_it(tmp_path: Path) -> None:
    code = (f"import os\nopen('a.png', 'wb').write({PNG!r})\nos.mkdir('gone')\nos.chdir('gone')\n"
            "os.rmdir('../gone')\nprint('left')\n")  # its cwd no longer exists
    result = run(job(tmp_path, None, code))
    assert displays(result) == [({"name": "a.png"}, PNG)]
    assert result.text("stdout") == "left\n" and result.exit["code"] == 0, result.text("stderr")
