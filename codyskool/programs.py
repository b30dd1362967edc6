"""What a program is, as a request names it, and its one validation.

A `run` event, ``POST /api/run``, ``POST /api/snippets`` and ``/embed?code=`` all carry a program
(a language, its code, optional stdin and arguments); ``read_program`` checks every one of them
the same way, with messages a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import Limits
from .errors import BadRequest, TooLarge
from .languages import Language

MAX_ARGS = 64
MAX_ARGS_BYTES = 4096


@dataclass(frozen=True)
class Program:
    language: Language
    code: str
    stdin: str = ""
    args: tuple[str, ...] = field(default_factory=tuple)


def utf8_size(text: str, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest(f"{what} is not valid UTF-8 text") from None


def require_mapping(payload: object, request: str,
                    fields: str = "'language' and 'code'") -> Mapping[str, Any]:
    """The payload of a request that must be a JSON object (None: an empty one)."""
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise BadRequest(f"'{request}' expects a JSON object with {fields}")
    return payload


def read_program(payload: object, languages: Mapping[str, Language], limits: Limits,
                 request: str = "run") -> Program:
    """The program a request names; raises BadRequest (TooLarge over a size limit).

    ``request`` names the request in messages ('run', 'share', 'embed').
    """
    payload = require_mapping(payload, request)
    language = read_language(payload.get("language"), languages, request)
    code = payload.get("code")
    if not isinstance(code, str):
        raise BadRequest(f"'{request}' needs 'code' (a string)")
    if len(code) > limits.code_limit_bytes or utf8_size(code, "the program") > limits.code_limit_bytes:
        raise TooLarge(f"the program is larger than the limit of {limits.code_limit_bytes // 1024} KiB")
    stdin = read_stdin(payload.get("stdin", ""), limits)
    args = read_args(payload.get("args", []))
    return Program(language=language, code=code, stdin=stdin, args=args)


def read_language(language_id: object, languages: Mapping[str, Language], request: str) -> Language:
    if not isinstance(language_id, str) or not language_id:
        raise BadRequest(f"'{request}' needs a 'language' (a string: an id from /api/languages)")
    language = languages.get(language_id)
    if language is None:
        raise BadRequest(f"unknown language {language_id[:40]!r}")
    return language


def read_stdin(stdin: object, limits: Limits) -> str:
    if stdin is None:
        return ""
    if not isinstance(stdin, str):
        raise BadRequest("'stdin' must be a string")
    if len(stdin) > limits.stdin_limit_bytes or utf8_size(stdin, "stdin") > limits.stdin_limit_bytes:
        raise TooLarge(f"stdin is larger than the limit of {limits.stdin_limit_bytes // 1024} KiB")
    return stdin


def read_args(args: object) -> tuple[str, ...]:
    if args is None:
        return ()
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise BadRequest("'args' must be a list of strings")
    if len(args) > MAX_ARGS or sum(utf8_size(arg, "an argument") for arg in args) > MAX_ARGS_BYTES:
        raise BadRequest(f"at most {MAX_ARGS} arguments of {MAX_ARGS_BYTES} bytes in all")
    if any("\0" in arg for arg in args):
        raise BadRequest("arguments cannot contain NUL characters")
    return tuple(args)
