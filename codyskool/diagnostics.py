"""Compiler messages and tracebacks turned into editor marks: {line, column, severity, message}.

Each language names its parser in languages.toml (`diagnostics = "gcc"`). A parser reads the
program's stderr (as the person sees it: the sandbox's own paths already removed) and knows only the
program's file name and text, nothing else about the language. It reports only places inside the
program: a message about a library's file is pinned to the program's line that led to it, or left
out. Lines and columns are 1-based; a column counts characters of the program's line, whatever unit
the tool uses (gcc counts bytes, Python re-indents the line it quotes).

The text parsed is the program's output, so an attacker's: it is bounded before any pattern sees
it (``bounded``: at most MAX_LINES lines of at most MAX_LINE_CHARS each), and every pattern is
written to match in time linear in its line (no two quantifiers that can take the same
characters), so parsing costs at most a few milliseconds of the server's only thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from .languages import Language

MAX_ITEMS = 50
MAX_MESSAGE_CHARS = 500
MAX_LINES = 2000  # compiler output worth marking is far shorter; a flood's tail is not parsed
MAX_LINE_CHARS = 1000  # longer lines are cut: no message of a compiler is that long
Diagnostic = dict[str, Any]
Parser = Callable[[str, str, Sequence[str]], list[Diagnostic]]


def item(line: str | int, column: str | int | None, severity: str, message: str) -> Diagnostic:
    return {
        "line": int(line),
        "column": int(column) if column not in (None, "") else None,
        "severity": "warning" if severity.startswith("warn") else "error",
        "message": message.strip(),
    }


def program_line(source: Sequence[str], number: int) -> str | None:
    return source[number - 1] if 1 <= number <= len(source) else None


def is_marker(text: str) -> bool:
    """A line of `^` and `~` marks that points into the quoted line above it."""
    stripped = text.strip()
    return bool(stripped) and set(stripped) <= {"^", "~"}


def indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def marker_column(lines: list[str], quote_index: int, source_line: str | None) -> int | None:
    """The column of the program's line that a marker under a quoted copy of it points at.

    `lines[quote_index]` is the tool's quote of the line and the next line its marker. Tools quote
    the line as it is (javac, node, ruby) or with its indentation replaced (python): the marker's
    offset into the quoted text carries over to the program's own line.
    """
    if not 0 <= quote_index < len(lines) - 1 or not is_marker(lines[quote_index + 1]):
        return None
    quote, marker = lines[quote_index], lines[quote_index + 1]
    offset = indent(marker) - indent(quote)
    if source_line is None or source_line.strip() != quote.strip():
        return indent(marker) + 1
    return max(1, indent(source_line) + offset + 1)


def byte_to_char_column(source_line: str | None, column: int) -> int:
    if source_line is None:
        return column
    return len(source_line.encode()[: column - 1].decode("utf-8", "ignore")) + 1


def strip_warning(message: str) -> tuple[str, str]:
    if message.startswith("warning: "):
        return "warning", message[len("warning: ") :]
    return "error", message


# --- the parsers ----------------------------------------------------------------------------


def parse_gcc(stderr: str, file: str, source: Sequence[str]) -> list[Diagnostic]:
    """gcc and g++ run with -fdiagnostics-column-unit=byte (see languages.toml).

    An error inside a library header (a template used with the wrong type) is pinned to the
    program's line gcc names as `required from here`.
    """
    message_line = re.compile(r"^([^:]+):(\d+):(\d+): (error|fatal error|warning): (.*)$")
    required_here = re.compile(rf"^{re.escape(file)}:(\d+):(\d+):\s+required from here$")
    found = []
    here: tuple[int, int] | None = None
    for text in stderr.splitlines():
        if match := required_here.match(text):
            here = int(match[1]), int(match[2])
            continue
        match = message_line.match(text)
        if not match:
            continue
        path, line, column, severity, message = match.groups()
        if path == file:
            line, column = int(line), int(column)
        elif here is not None:
            line, column = here
        else:
            continue
        here = None
        column = byte_to_char_column(program_line(source, line), column)
        found.append(item(line, column, severity, message))
    return found


def parse_javac(stderr: str, file: str, source: Sequence[str]) -> list[Diagnostic]:
    """javac's messages, and the stack traces of exceptions the program did not catch."""
    lines = stderr.splitlines()
    compile_message = re.compile(rf"^{re.escape(file)}:(\d+): (error|warning): (.*)$")
    symbol = re.compile(r"^\s+symbol:\s+(.*)$")
    frame = re.compile(r"^\s+at [^\s(]+\([^()]*\)$")  # (Main.java:3), (Native Method)...
    user_frame = re.compile(rf"^\s+at [^\s(]+\({re.escape(file)}:(\d+)\)$")
    found = []
    header = ""
    marked_header = None
    for index, text in enumerate(lines):
        if match := compile_message.match(text):
            line = int(match[1])
            message = match[3]
            for detail in lines[index + 3 : index + 5]:
                if detail_match := symbol.match(detail):
                    message = f"{message}: {detail_match[1]}"
            column = marker_column(lines, index + 1, program_line(source, line))
            found.append(item(line, column, match[2], message))
        elif frame.match(text) or text.strip().startswith("... "):
            # The first frame inside the program marks the exception (or cause) above the frames.
            if (match := user_frame.match(text)) and header and marked_header != header:
                marked_header = header
                message = re.sub(r'^Exception in thread "[^"]*" ', "", header)
                found.append(item(match[1], None, "error", message))
        elif text.strip():
            header = text.strip()
            marked_header = None
    return found


def parse_python(stderr: str, file: str, source: Sequence[str]) -> list[Diagnostic]:
    lines = stderr.splitlines()
    frame = re.compile(rf'^\s*File "{re.escape(file)}", line (\d+)')
    warning = re.compile(rf"^{re.escape(file)}:(\d+): (\w*Warning: .*)$")
    found = []
    last_line = column = None
    for index, text in enumerate(lines):
        if match := frame.match(text):
            last_line = int(match[1])
            column = marker_column(lines, index + 1, program_line(source, last_line))
        elif match := warning.match(text):
            found.append(item(match[1], None, "warning", match[2]))
    if last_line is not None:
        message = next((text for text in reversed(lines) if text and not text.startswith(" ")), "error")
        found.append(item(last_line, column, "error", message))
    return found


def parse_node(stderr: str, file: str, source: Sequence[str]) -> list[Diagnostic]:
    """Node prints `main.js:LINE`, the line, a marker, then the error (for syntax errors too).

    An error thrown inside Node (JSON.parse) has no such header: then the first frame of the
    program's file in the stack trace places it.
    """
    lines = stderr.splitlines()
    header = re.compile(rf"^{re.escape(file)}:(\d+)$")
    frame = re.compile(r"^\s+at ")
    user_frame = re.compile(rf"[( ]{re.escape(file)}:(\d+):(\d+)\)?$")
    frames = [index for index, text in enumerate(lines) if frame.match(text)]
    in_program = (user_frame.search(lines[index]) for index in frames)
    first_user_frame = next((match for match in in_program if match), None)
    for index, text in enumerate(lines):
        if match := header.match(text):
            line = int(match[1])
            column = marker_column(lines, index + 1, program_line(source, line))
            if column is None and first_user_frame and int(first_user_frame[1]) == line:
                column = int(first_user_frame[2])
            after = index + (3 if is_marker(lines[index + 2] if index + 2 < len(lines) else "") else 2)
            rest = (text.strip() for text in lines[after:] if text.strip() and not frame.match(text))
            return [item(line, column, "error", next(rest, "error"))]
    if first_user_frame is None:
        return []
    before = (text.strip() for text in reversed(lines[: frames[0]]) if text.strip())
    return [item(first_user_frame[1], first_user_frame[2], "error", next(before, "error"))]


def parse_ruby(stderr: str, file: str, source: Sequence[str]) -> list[Diagnostic]:
    lines = stderr.splitlines()
    compile_message = re.compile(rf"^{re.escape(file)}:(\d+): (?!in `)(.*)$")
    raised = re.compile(r"^([^:]+):(\d+):in `[^']*': (.*)$")
    backtrace = re.compile(rf"^\s+from {re.escape(file)}:(\d+):in ")
    found = []
    for index, text in enumerate(lines):
        if match := compile_message.match(text):
            line = int(match[1])
            severity, message = strip_warning(match[2])
            column = marker_column(lines, index + 1, program_line(source, line))
            found.append(item(line, column, severity, message))
        elif match := raised.match(text):
            path, line, message = match[1], int(match[2]), match[3]
            column = None
            if path == file:  # error_highlight: a blank line, the line, a marker
                column = marker_column(lines, index + 2, program_line(source, line))
            else:  # raised inside a library: the first frame of the program called it
                frames = (backtrace.match(rest) for rest in lines[index + 1 :])
                caller = next((frame for frame in frames if frame), None)
                if caller is None:
                    continue
                line = int(caller[1])
            found.append(item(line, column, "error", message))
            break  # one uncaught exception ends the program; what follows is its backtrace
    return found


def parse_bash(stderr: str, file: str, source: Sequence[str]) -> list[Diagnostic]:
    pattern = re.compile(rf"^{re.escape(file)}: line (\d+): (.*)$", re.M)
    found = []
    for match in pattern.finditer(stderr):
        severity, message = strip_warning(match[2])
        if re.fullmatch(r"`.*'", message):
            continue  # after a syntax error bash echoes the line itself
        found.append(item(match[1], None, severity, message))
    return found


PARSERS: dict[str, Parser] = {
    "gcc": parse_gcc,
    "javac": parse_javac,
    "python": parse_python,
    "node": parse_node,
    "ruby": parse_ruby,
    "bash": parse_bash,
}


def bounded(text: str) -> str:
    """The first MAX_LINES lines of the text, each cut at MAX_LINE_CHARS."""
    lines = text.split("\n", MAX_LINES)[:MAX_LINES]
    return "\n".join(line[:MAX_LINE_CHARS] for line in lines)


def parse_diagnostics(language: Language, stderr: str, code: str) -> list[Diagnostic]:
    """The editor marks for a run's stderr; never raises (they are a nicety, the run's exit is not)."""
    try:
        return _parse(language, stderr, code)
    except Exception:
        logging.getLogger(__name__).exception("diagnostics failed for %s", language.id)
        return []


def _parse(language: Language, stderr: str, code: str) -> list[Diagnostic]:
    parser = PARSERS.get(language.diagnostics)
    if parser is None or not stderr:
        return []
    stderr = bounded(stderr)
    source = code.split("\n")
    line_count = len(source)
    unique: dict[tuple[int, int | None, str], Diagnostic] = {}
    for found in parser(stderr, language.file, source):
        if not 1 <= found["line"] <= line_count:
            continue
        if len(found["message"]) > MAX_MESSAGE_CHARS:
            found["message"] = found["message"][: MAX_MESSAGE_CHARS - 1] + "…"
        unique.setdefault((found["line"], found["column"], found["message"]), found)
    return list(unique.values())[:MAX_ITEMS]
