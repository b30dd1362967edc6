"""One validation of a program for runs, shares and embeds; per-language limits that only lower."""

from __future__ import annotations

from pathlib import Path

import pytest

from codyskool.config import Limits
from codyskool.errors import BadRequest, ConfigError, TooLarge
from codyskool.jobs import build_job, run_limits
from codyskool.languages import load_languages
from codyskool.programs import read_program
from codyskool.snippets import validate

LANGUAGES = load_languages()
LIMITS = Limits.defaults()


def test_a_good_program() -> None:
    program = read_program({"language": "c", "code": "int main(){}", "stdin": "1 2", "args": ["-v"]},
                           LANGUAGES, LIMITS)
    assert (program.language.id, program.code, program.stdin, program.args) == ("c", "int main(){}", "1 2",
                                                                                ("-v",))


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        ("text", BadRequest, "'run' expects a JSON object"),
        ({"code": "x"}, BadRequest, "'run' needs a 'language'"),
        ({"language": "cobol", "code": "x"}, BadRequest, "unknown language 'cobol'"),
        ({"language": "python"}, BadRequest, "'run' needs 'code'"),
        ({"language": "python", "code": "x", "stdin": 5}, BadRequest, "'stdin' must be a string"),
        ({"language": "python", "code": "x", "args": [1]}, BadRequest, "'args' must be a list"),
        ({"language": "python", "code": "\ud800"}, BadRequest, "not valid UTF-8"),
        ({"language": "python", "code": "é" * (32 << 10) + "x"}, TooLarge, "larger than the limit of 64 KiB"),
        ({"language": "python", "code": "x", "stdin": "y" * ((1 << 20) + 1)}, TooLarge, "stdin is larger"),
    ],
)
def test_bad_programs_say_what_is_wrong(payload: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        read_program(payload, LANGUAGES, LIMITS)


def test_shares_also_refuse_what_cannot_be_stored() -> None:
    with pytest.raises(BadRequest, match="empty"):
        validate({"language": "python", "code": "  \n"}, LANGUAGES, LIMITS)
    with pytest.raises(BadRequest, match="NUL"):
        validate({"language": "python", "code": "x\0"}, LANGUAGES, LIMITS)
    with pytest.raises(BadRequest, match="'share' needs a 'language'"):
        validate({"code": "x"}, LANGUAGES, LIMITS)


def registry(tmp_path: Path, limits: str) -> Path:
    path = tmp_path / "languages.toml"
    path.write_text('[python]\nname = "Python 3"\nversion = "3.11"\nfile = "main.py"\nmode = "python"\n'
                    f'hello = "print(1)"\ninput = "input()"\n\n[python.limits]\n{limits}\n')
    return path


def test_a_language_may_lower_a_limit_but_not_raise_it(tmp_path: Path) -> None:
    python = load_languages(registry(tmp_path, "cpu_time_limit_s = 2\nwall_time_limit_s = 999"))["python"]
    program = read_program({"language": "python", "code": "x"}, {"python": python}, LIMITS)
    limits = run_limits(program, LIMITS)
    assert limits.cpu_time_limit_s == 2 and limits.wall_time_limit_s == LIMITS.wall_time_limit_s


@pytest.mark.parametrize(("limits", "message"), [("memory_limit_mb = 64", "cannot be set per language"),
                                                 ("cpu_time_limit_s = -1", "positive number"),
                                                 ('cpu_time_limit_s = "5"', "positive number")])
def test_a_bad_language_limit_stops_start_up(tmp_path: Path, limits: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_languages(registry(tmp_path, limits))


@pytest.mark.parametrize(("code", "pools"), [
    ("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n", ("python:graphics", "python")),
    ("import os, turtle as t\n", ("python:graphics", "python")),
    ("def main():\n    from pandas import DataFrame\n", ("python:graphics", "python")),
    ('print("Hello, world!")\n', ("python",)),
    ("import turtles\nimportnumpy = 1\n# uses numpy\n", ("python",)),
])
def test_a_program_that_imports_graphics_asks_for_a_sandbox_that_has_them(code: str, pools: tuple) -> None:
    """languages.toml's [python.warm.graphics]: a warm sandbox with numpy, pyplot and turtle
    imported before the job; a hello world never takes one (their memory would count for it)."""
    program = read_program({"language": "python", "code": code}, LANGUAGES, LIMITS)
    assert build_job(program, LIMITS).warm_pools == pools


def test_a_file_that_a_preload_would_hide_gets_a_plain_sandbox() -> None:
    (graphics,) = LANGUAGES["python"].warm
    assert graphics.suits({"main.py": "import turtle"})
    assert not graphics.suits({"main.py": "import turtle", "turtle.py": ""}), "its own turtle.py"
    assert not graphics.suits({"main.py": "import numpy", "numpy/__init__.py": ""})
    assert not graphics.suits({"main.py": "import matplotlib", "matplotlibrc": "lines.linewidth: 4"})
    assert LANGUAGES["c"].warm_pools({"main.c": "#include <turtle.h>"}) == ("c",)


@pytest.mark.parametrize(("table", "message"), [
    ('preload = "numpy"\nfor_imports = ["numpy"]', "lists of module names"),
    ('preload = ["numpy"]', "lists of module names"),
    ('preload = ["numpy"]\nfor_imports = ["numpy"]\nsize = 2', "has only"),
])
def test_a_bad_warm_kind_stops_start_up(tmp_path: Path, table: str, message: str) -> None:
    path = registry(tmp_path, "cpu_time_limit_s = 2")
    path.write_text(path.read_text() + f"\n[python.warm.graphics]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        load_languages(path)
