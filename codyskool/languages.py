"""The language registry, read from ``languages.toml``: what each language is and how it runs."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
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


# `import a.b as c, d` and `from a.b import c`, anywhere in a line's indentation: the top-level
# names are what a warm kind is chosen by (a false match costs nothing but a preloaded sandbox).
IMPORT_STATEMENT = re.compile(r"^[ \t]*(?:from[ \t]+(\w+)|import[ \t]+([\w., \t]+))", re.MULTILINE)


def imported_modules(source: str) -> set[str]:
    """The top-level modules a Python source imports, as far as a look at its lines can tell."""
    found = set()
    for match in IMPORT_STATEMENT.finditer(source):
        if match[1]:
            found.add(match[1])
        else:
            found.update(part.split()[0].split(".")[0] for part in match[2].split(",") if part.split())
    return found


@dataclass(frozen=True)
class WarmKind:
    """A language's warm sandbox with modules imported before its job ([<id>.warm.<name>])."""

    id: str  # "<language>:<name>", its pool's name in CODYSKOOL_POOL_SIZES
    preload: tuple[str, ...]
    for_imports: frozenset[str]
    read_at_import: frozenset[str] = frozenset()

    def suits(self, files: Mapping[str, str]) -> bool:
        """Whether a program of these files imports what this kind preloads, and has no file of
        its own that the preload would have hidden from it."""
        if any(self.hidden(name) for name in files):
            return False
        return any(imported_modules(text) & self.for_imports for name, text in files.items()
                   if name.endswith(".py"))

    def hidden(self, file_name: str) -> bool:
        top = file_name.split("/")[0]
        return top in self.read_at_import or top.removesuffix(".py") in {
            module.split(".")[0] for module in self.preload}


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
    warm: tuple[WarmKind, ...] = ()

    def warm_pools(self, files: Mapping[str, str]) -> tuple[str, ...]:
        """The pools a run of these files may take a warm sandbox from, best first."""
        return (*(kind.id for kind in self.warm if kind.suits(files)), self.id)

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
        entry["warm"] = read_warm_kinds(language_id, entry.get("warm", {}))
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


def read_warm_kinds(language_id: str, kinds: Mapping[str, Any]) -> tuple[WarmKind, ...]:
    """A language's [x.warm.<name>] tables: `preload`, `for_imports` and `read_at_import`, lists
    of names."""
    read = []
    for name, table in kinds.items():
        where = f"languages.toml: [{language_id}.warm.{name}]"
        if not isinstance(table, dict) or set(table) - {"preload", "for_imports", "read_at_import"}:
            raise ConfigError(f"{where}: has only `preload`, `for_imports` and `read_at_import`")
        lists = {key: table.get(key, []) for key in ("preload", "for_imports", "read_at_import")}
        if not all(isinstance(value, list) and all(isinstance(item, str) and item for item in value)
                   for value in lists.values()) or not lists["preload"] or not lists["for_imports"]:
            raise ConfigError(f"{where}: `preload` and `for_imports` are lists of module names")
        read.append(WarmKind(f"{language_id}:{name}", tuple(lists["preload"]),
                             frozenset(lists["for_imports"]), frozenset(lists["read_at_import"])))
    return tuple(read)


def warm_preloads(languages: Iterable[Language]) -> dict[str, tuple[str, ...]]:
    """What each warm kind's sandbox imports before its job, by pool name."""
    return {kind.id: kind.preload for language in languages for kind in language.warm}
