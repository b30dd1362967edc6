"""The diagnostics parsers on real compiler and runtime output (no server, no Docker).

The cases are data: tests/diagnostics/<parser>.toml, one file per parser in
codyskool/diagnostics.py, each case a program, the stderr it produced in the sandbox image, and
the marks expected from it. The tests below the loader are the parsers' logic.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest

from codyskool import diagnostics
from codyskool.diagnostics import (
    MAX_ITEMS,
    MAX_MESSAGE_CHARS,
    PARSERS,
    marker_column,
    parse_diagnostics,
)
from codyskool.languages import load_languages

LANGUAGES = load_languages()
CASES_DIR = Path(__file__).resolve().parent / "diagnostics"


class Case(NamedTuple):
    name: str
    parser: str  # the file it is in
    language: str
    code: str
    stderr: str
    expected: list[tuple[int, int | None, str, str]]


CASE_KEYS = {"name", "language", "code", "stderr", "expected"}
MARK_KEYS = {"line", "column", "severity", "message"}  # a mark with no column leaves it out


def load_cases(folder: Path = CASES_DIR) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            marks = case["expected"]
            if set(case) != CASE_KEYS or any(not set(mark) <= MARK_KEYS for mark in marks):
                raise ValueError(f"{path.name}: case {case.get('name')!r} has keys other than {CASE_KEYS}")
            expected = [(m["line"], m.get("column"), m["severity"], m["message"]) for m in marks]
            name, language = case["name"], case["language"]
            cases.append(Case(name, path.stem, language, case["code"], case["stderr"], expected))
    return cases


CASES = load_cases()


def marks(language: str, stderr: str, code: str) -> list[tuple[int, int | None, str, str]]:
    found = parse_diagnostics(LANGUAGES[language], stderr, code)
    return [(d["line"], d["column"], d["severity"], d["message"]) for d in found]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_captured_output(case: Case) -> None:
    assert marks(case.language, case.stderr, case.code) == case.expected


def test_every_language_names_a_parser_and_every_parser_has_cases() -> None:
    for language in LANGUAGES.values():
        assert language.diagnostics in PARSERS, language.id
    covered = {LANGUAGES[case.language].diagnostics for case in CASES}
    assert covered == set(PARSERS)


def test_each_case_is_in_its_parser_s_file_under_a_name_of_its_own() -> None:
    for case in CASES:
        assert LANGUAGES[case.language].diagnostics == case.parser, (case.name, case.parser)
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names)


def test_no_sandbox_paths_in_messages() -> None:
    for case in CASES:
        for _, _, _, message in marks(case.language, case.stderr, case.code):
            assert "/work/" not in message and "/opt/codyskool" not in message, (case.name, message)


def test_columns_point_at_the_program_text() -> None:
    """Where a column is given, it is inside the program's line (1 past the end at most)."""
    for case in CASES:
        lines = case.code.split("\n")
        for line, column, _, _ in marks(case.language, case.stderr, case.code):
            if column is not None:
                assert 1 <= column <= len(lines[line - 1]) + 1, (case.name, line, column)


def test_marks_outside_the_program_are_dropped() -> None:
    stderr = "main.c:9:1: error: expected declaration or statement at end of input\n"
    assert marks("c", stderr, "int main(void) {\n") == []
    assert marks("c", stderr, "\n" * 8 + "x") == [
        (9, 1, "error", "expected declaration or statement at end of input")
    ]
    other_file = "helper.c:2:1: error: unknown type name 'x'\n"
    assert marks("c", other_file, "a\nb\n") == []


def test_no_stderr_no_marks() -> None:
    for language in LANGUAGES:
        assert parse_diagnostics(LANGUAGES[language], "", "print(1)") == []


def test_long_messages_are_cut_and_repeats_merged() -> None:
    message = "x" * (MAX_MESSAGE_CHARS * 3)
    stderr = f"main.c:1:1: error: {message}\n" * 3 + "main.c:1:1: error: other\n"
    found = marks("c", stderr, "int x\n")
    assert [(line, column, len(text)) for line, column, _, text in found] == [
        (1, 1, MAX_MESSAGE_CHARS),
        (1, 1, len("other")),
    ]
    many = "".join(f"main.c:{n}:1: error: e{n}\n" for n in range(1, 200))
    assert len(marks("c", many, "\n" * 300)) == MAX_ITEMS


@pytest.mark.parametrize(
    ("quote", "marker", "source_line", "column"),
    [
        ("    x = (", "        ^", "x = (", 5),  # python: its own 4-space indent, none in the program
        ("    return y]", "            ^", "        return y]", 17),  # python: re-indented
        ("\t\tint x = 1;", "\t\t    ^", "\t\tint x = 1;", 7),  # javac: tabs copied
        ("  x.nope", "   ^^^^^", "  x.nope", 4),  # quoted as it is
        ("something else", "  ^", "int y;", 3),  # not the program's line: the marker as it is
    ],
)
def test_marker_column(quote: str, marker: str, source_line: str, column: int) -> None:
    assert marker_column([quote, marker], 0, source_line) == column


def test_no_marker_no_column() -> None:
    assert marker_column(["    f()", "ValueError: x"], 0, "f()") is None
    assert marker_column(["    f()"], 0, "f()") is None


ADVERSARIAL = [
    "    at " + "(" * (1 << 20),  # javac's frame pattern was quadratic in the '(' of such a line
    "main.c:" * (1 << 17),  # many would-be "path:line:" prefixes
    "main.rb:1:in `" + "'" * (1 << 20),
    'File "main.py", line ' * (1 << 16),
]


@pytest.mark.parametrize("language", ["java", "c", "python", "javascript", "ruby", "bash"])
def test_parsers_see_only_bounded_text(language: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Program output is an attacker's text: whatever it is, a parser gets at most MAX_LINES lines
    of at most MAX_LINE_CHARS, so even a pattern that backtracked could cost only a bounded
    number of steps (and the patterns are written not to backtrack)."""
    seen: list[str] = []
    parser_name = LANGUAGES[language].diagnostics
    real = diagnostics.PARSERS[parser_name]

    def spy(stderr: str, file: str, source: list[str]) -> list:
        seen.append(stderr)
        return real(stderr, file, source)

    monkeypatch.setitem(diagnostics.PARSERS, parser_name, spy)
    flood = "\n".join(ADVERSARIAL + ["x"] * (diagnostics.MAX_LINES * 2))
    parse_diagnostics(LANGUAGES[language], flood, "x = 1\n")
    lines = seen[0].split("\n")
    assert len(lines) <= diagnostics.MAX_LINES
    assert max(map(len, lines)) <= diagnostics.MAX_LINE_CHARS
