"""The language registry, read from ``languages.toml``: what each language is and how it runs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGISTRY_FILE = Path(__file__).with_name("languages.toml")
RUNNER_DIR_MARK = "{runner_dir}/"  # expanded by the runner to the folder it lives in


@dataclass(frozen=True)
class Language:
    id: str
    name: str
    version: str
    file: str
    mode: str
    hello: str
    input: str
    run: tuple[str, ...] | None = None  # None: the runner runs it in-process (Python)
    compile: tuple[str, ...] | None = None
    runner: str = "exec"
    diagnostics: str = ""
    address_space: bool = True
    env: dict[str, str] = field(default_factory=dict)

    @property
    def compiled(self) -> bool:
        return self.compile is not None

    @property
    def tools(self) -> list[str]:
        """The programs this language needs on the machine that runs it."""
        commands = [self.compile, self.run] if self.run else [self.compile, ("python3",)]
        return [command[0] for command in commands if command]

    @property
    def runner_files(self) -> list[str]:
        """Files of the runner's folder that the commands use ({runner_dir}/lang/...)."""
        arguments = [*(self.compile or ()), *(self.run or ())]
        return [arg.split(RUNNER_DIR_MARK, 1)[1] for arg in arguments if RUNNER_DIR_MARK in arg]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "file": self.file,
            "mode": self.mode,
            "compiled": self.compiled,
            "templates": {"hello": self.hello, "input": self.input},
        }


def load_languages(path: Path = REGISTRY_FILE) -> dict[str, Language]:
    with path.open("rb") as handle:
        entries = tomllib.load(handle)
    languages = {}
    for language_id, entry in entries.items():
        for key in ("run", "compile"):
            if key in entry:
                entry[key] = tuple(entry[key])
        languages[language_id] = Language(id=language_id, **entry)
    return languages
