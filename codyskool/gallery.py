"""The examples gallery: starter programs read from examples/gallery/, listed on the IDE page.

Each program is ``examples/gallery/<language>/<name>.<ext>`` (the extension of the language's
file name); ``examples/gallery/index.toml`` gives each name its title, summary and place in the
list. The IDE page loads the list as an htmx partial and a program as JSON.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePath
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request

from .config import PROJECT_ROOT
from .languages import Language
from .service import get_service

GALLERY_DIR = PROJECT_ROOT / "examples" / "gallery"
INDEX_FILE = "index.toml"

bp = Blueprint("gallery", __name__)


@dataclass(frozen=True)
class Example:
    language: str
    name: str
    title: str
    summary: str
    path: Path

    def public(self, with_code: bool = False) -> dict[str, Any]:
        data = {"language": self.language, "name": self.name, "title": self.title, "summary": self.summary}
        if with_code:
            data["code"] = self.path.read_text(encoding="utf-8")
        return data


def extension(language: Language) -> str:
    return PurePath(language.file).suffix


@cache
def load_index(directory: Path = GALLERY_DIR) -> dict[str, dict[str, str]]:
    with (directory / INDEX_FILE).open("rb") as handle:
        return tomllib.load(handle)


def examples_for(language: Language, directory: Path = GALLERY_DIR) -> list[Example]:
    """The language's examples in the order of the index: those of every language, and those whose
    `languages` name it; names without a file are skipped."""
    found = []
    for name, entry in load_index(directory).items():
        if language.id not in entry.get("languages", [language.id]):
            continue
        path = directory / language.id / f"{name}{extension(language)}"
        if path.is_file():
            found.append(Example(language.id, name, entry["title"], entry.get("summary", ""), path))
    return found


def find(language_id: str, name: str) -> Example | None:
    language = get_service().languages.get(language_id)
    if language is None:
        return None
    return next((example for example in examples_for(language) if example.name == name), None)


@bp.get("/gallery")
def gallery_partial() -> str:
    """The examples of one language (?language=), as an HTML fragment for htmx."""
    languages = get_service().languages
    language = languages.get(request.args.get("language", "")) or next(iter(languages.values()), None)
    examples = examples_for(language) if language else []
    return render_template("gallery.html", language=language, examples=examples)


@bp.get("/api/examples")
def list_examples() -> Any:
    languages = get_service().languages.values()
    return jsonify(examples=[example.public() for lang in languages for example in examples_for(lang)])


@bp.get("/api/examples/<language_id>/<name>")
def get_example(language_id: str, name: str) -> Any:
    example = find(language_id, name)
    if example is None:
        abort(404, f"no example {name!r} for {language_id!r}")
    return jsonify(example.public(with_code=True))
