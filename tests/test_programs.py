"""One validation of a program for runs, shares and embeds; per-language limits that only lower."""

from __future__ import annotations

from pathlib import Path

import pytest

from codyskool.config import Limits
from codyskool.errors import BadRequest, ConfigError, TooLarge
from codyskool.jobs import run_limits
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
