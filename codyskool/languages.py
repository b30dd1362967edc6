"""The language registry, read from ``languages.toml``: what each language is and how it runs."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

REGISTRY_FILE = Path(__file__).with_name("languages.toml")
RUNNER_DIR_MARK = "{runner_dir}/"  # expanded by the runner to the folder it lives in
# The limits a language may lower for its runs (the others bound the whole sandbox or the request).
PER_LANGUAGE_LIMITS = frozenset({
    "cpu_time_limit_s", "wall_time_limit_s", "prompt_idle_limit_s", "lifetime_limit_s",
    "compile_time_limit_s", "output_limit_bytes", "open_files_limit", "workdir_limit_mb",
})  # fmt: skip


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
    diagnostics: str = ""
    address_space: bool = True
    env: dict[str, str] = field(default_factory=dict)
    limits: Mapping[str, float] = field(default_factory=dict)  # lower than the server's, or ignored
    # Beyond the standard library: {"name", "module" (what a program imports), "version", "about"}
    libraries: tuple[Mapping[str, str], ...] = ()

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
            "libraries": [{key: library[key] for key in ("name", "version", "about")}
                          for library in self.libraries],
        }


def load_languages(path: Path = REGISTRY_FILE) -> dict[str, Language]:
    with path.open("rb") as handle:
        entries = tomllib.load(handle)
    languages = {}
    for language_id, entry in entries.items():
        for key in ("run", "compile"):
            if key in entry:
                entry[key] = tuple(entry[key])
        entry["limits"] = read_limits(language_id, entry.get("limits", {}))
        entry["libraries"] = read_libraries(language_id, entry.get("libraries", []))
        try:
            languages[language_id] = Language(id=language_id, **entry)
        except TypeError as error:
            raise ConfigError(f"{path.name}: [{language_id}]: {error}") from None
    return languages


def read_libraries(language_id: str, libraries: list[Any]) -> tuple[dict[str, str], ...]:
    """A language's `libraries`: tables of a name, a version and what it is for (and the module a
    program imports, when it is not the name)."""
    read = []
    for library in libraries:
        if not isinstance(library, dict) or not all(
                isinstance(library.get(key), str) and library[key] for key in ("name", "version", "about")):
            raise ConfigError(f"languages.toml: [{language_id}]: each of `libraries` needs a name, a "
                              "version and an about")
        read.append({**library, "module": library.get("module", library["name"])})
    return tuple(read)


def read_limits(language_id: str, limits: Mapping[str, Any]) -> dict[str, float]:
    """A language's [x.limits] table: names of Limits fields it may lower, with positive numbers."""
    for name, value in limits.items():
        if name not in PER_LANGUAGE_LIMITS:
            raise ConfigError(f"languages.toml: [{language_id}.limits]: {name!r} cannot be set per "
                              f"language (these can: {', '.join(sorted(PER_LANGUAGE_LIMITS))})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"languages.toml: [{language_id}.limits]: {name} must be a positive number")
    return dict(limits)
