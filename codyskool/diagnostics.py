"""Compiler messages and tracebacks turned into editor marks: {line, column, severity, message}.

Each language names its parser in languages.toml (`diagnostics = "gcc"`); parsers only read the
program's stderr and know nothing else about the language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .languages import Language

MAX_ITEMS = 50
Diagnostic = dict[str, Any]


def item(line: str | int, column: str | int | None, severity: str, message: str) -> Diagnostic:
    return {
        "line": int(line),
        "column": int(column) if column not in (None, "") else None,
        "severity": "warning" if severity.startswith("warn") else "error",
        "message": message.strip(),
    }


def caret_column(lines: list[str], index: int) -> int | None:
    """1-based column of a `^` marker line following a quoted source line, if there is one."""
    for candidate in lines[index : index + 3]:
        stripped = candidate.strip()
        if stripped and set(stripped) <= {"^", "~"}:
            return len(candidate) - len(candidate.lstrip()) + 1
    return None


def parse_gcc(stderr: str, file: str) -> list[Diagnostic]:
    pattern = re.compile(rf"^{re.escape(file)}:(\d+):(\d+): (error|warning|fatal error): (.*)$", re.M)
    return [item(*match.groups()[:2], match[3], match[4]) for match in pattern.finditer(stderr)]


def parse_javac(stderr: str, file: str) -> list[Diagnostic]:
    lines = stderr.splitlines()
    found = []
    compile_error = re.compile(rf"^{re.escape(file)}:(\d+): (error|warning): (.*)$")
    stack_frame = re.compile(rf"^\s+at .*\({re.escape(file)}:(\d+)\)$")
    exception = ""
    for index, line in enumerate(lines):
        if match := compile_error.match(line):
            column = caret_column(lines, index + 2)
            found.append(item(match[1], column, match[2], match[3]))
        elif line.startswith("Exception in thread"):
            exception = line.split(" ", 4)[-1] if '"' in line else line
        elif (match := stack_frame.match(line)) and exception:
            found.append(item(match[1], None, "error", exception))
            exception = ""
    return found


def parse_python(stderr: str, file: str) -> list[Diagnostic]:
    lines = stderr.splitlines()
    frame = re.compile(rf'^\s*File "{re.escape(file)}", line (\d+)')
    last_line = column = None
    for index, line in enumerate(lines):
        if match := frame.match(line):
            last_line = match[1]
            column = caret_column(lines, index + 2)
    if last_line is None:
        return []
    message = next((line for line in reversed(lines) if line and not line.startswith(" ")), "error")
    return [item(last_line, column, "error", message)]


def parse_node(stderr: str, file: str) -> list[Diagnostic]:
    lines = stderr.splitlines()
    header = re.compile(rf"^{re.escape(file)}:(\d+)$")
    frame = re.compile(rf"\(?{re.escape(file)}:(\d+):(\d+)\)?$")
    message = next((line for line in lines if re.match(r"^\w*(Error|Exception)\b", line)), "error")
    for index, line in enumerate(lines):
        if match := header.match(line):
            return [item(match[1], caret_column(lines, index + 2), "error", message)]
    for line in lines:
        if match := frame.search(line.strip()):
            return [item(match[1], match[2], "error", message)]
    return []


def parse_ruby(stderr: str, file: str) -> list[Diagnostic]:
    pattern = re.compile(rf"^(?:-e:\d+:in .*?: )?{re.escape(file)}:(\d+):(?:in [^:]*: )?\s*(.*)$", re.M)
    found = []
    for match in pattern.finditer(stderr):
        if not match[2].startswith("from "):
            found.append(item(match[1], None, "error", match[2]))
    return found[:1] if found and "syntax error" not in found[0]["message"] else found


def parse_bash(stderr: str, file: str) -> list[Diagnostic]:
    pattern = re.compile(rf"^{re.escape(file)}: line (\d+): (.*)$", re.M)
    return [item(match[1], None, "error", match[2]) for match in pattern.finditer(stderr)]


PARSERS: dict[str, Callable[[str, str], list[Diagnostic]]] = {
    "gcc": parse_gcc,
    "javac": parse_javac,
    "python": parse_python,
    "node": parse_node,
    "ruby": parse_ruby,
    "bash": parse_bash,
}


def parse_diagnostics(language: Language, stderr: str, code: str) -> list[Diagnostic]:
    parser = PARSERS.get(language.diagnostics)
    if parser is None or not stderr:
        return []
    line_count = code.count("\n") + 1
    items = [found for found in parser(stderr, language.file) if 1 <= found["line"] <= line_count]
    unique = {(found["line"], found["column"], found["message"]): found for found in items}
    return list(unique.values())[:MAX_ITEMS]
