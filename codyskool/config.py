"""Every setting and limit in one table: name, default, parser, and what it means.

Each option is read from the environment variable ``CODYSKOOL_<NAME>``; a value that does not
parse stops start-up with a message naming the variable. Limits are grouped in ``Limits``, the one
object the rest of the code asks for a bound.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

ENV_PREFIX = "CODYSKOOL_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def positive(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_positive(text: str) -> Any:
        value = parse(text)
        if value <= 0:
            raise ValueError(f"must be greater than zero, got {text!r}")
        return value

    return parse_positive


def non_negative(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_non_negative(text: str) -> Any:
        value = parse(text)
        if value < 0:
            raise ValueError(f"must be zero or more, got {text!r}")
        return value

    return parse_non_negative


def source_list(text: str) -> tuple[str, ...]:
    """A list of origins separated by spaces or commas: ``*``, ``'self'``, ``'none'``,
    ``scheme:`` or ``scheme://host[:port]`` (the host may start with ``*.``)."""
    items = tuple(item for item in re.split(r"[\s,]+", text.strip()) if item)
    for item in items:
        if not SOURCE_PATTERN.fullmatch(item):
            raise ValueError(f"not an origin: {item!r} (e.g. https://example.org, 'self' or *)")
    if "'none'" in items and len(items) > 1:
        raise ValueError("'none' cannot be combined with other sources")
    return items


SOURCE_PATTERN = re.compile(
    r"\*|'self'|'none'|[a-z][a-z0-9+.-]*:|[a-z][a-z0-9+.-]*://(\*\.)?[a-z0-9.-]+(:(\d{1,5}|\*))?",
    re.IGNORECASE,
)


BASE_URL_PATTERN = re.compile(
    r"https?://([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:(?P<port>\d{1,5}))?(/[A-Za-z0-9._~%/-]*)?"
)


def base_url(text: str) -> str:
    """The server's public address for the links it hands out: an http(s) origin with an optional
    path (no query, no fragment), without a trailing slash; empty for relative links."""
    text = text.strip()
    if not text:
        return ""
    found = BASE_URL_PATTERN.fullmatch(text)
    if not found or int(found.group("port") or 1) > 65535:
        raise ValueError(f"expected an http(s) address such as https://code.example.org, got {text!r}")
    return text.rstrip("/")


def one_of(*choices: str) -> Callable[[str], str]:
    def parse_choice(text: str) -> str:
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    return parse_choice


def parse_pool_sizes(text: str) -> dict[str, int]:
    """`python=2,python:graphics=1` -> {"python": 2, "python:graphics": 1}; `off`, `0` or
    empty -> {} (no pool)."""
    text = text.strip()
    if text.lower() in ("", "0", "off", "none"):
        return {}
    sizes = {}
    for part in text.split(","):
        language, sep, count = part.partition("=")
        if not sep or not language.strip() or not count.strip().isdigit():
            raise ValueError(f"expected pool=count pairs such as python=2, got {part!r}")
        if int(count):
            sizes[language.strip()] = int(count)
    return sizes


DEFAULT_SANDBOX_UIDS = 64  # 16 concurrent runs + the warm pool + sandboxes still being removed, twice over
LIMIT = "limit"  # a bound of one run: a field of Limits
ADMISSION = "admission"  # a bound of the whole server: a field of AdmissionSettings


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    group: str = ""

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name

    @property
    def field(self) -> str:
        """The option's name in the objects that carry its group (Limits, AdmissionSettings)."""
        return self.name.lower()


OPTIONS: tuple[Option, ...] = (
    # Serving
    Option("HOST", "127.0.0.1", str, "address the server listens on"),
    Option("PORT", 8000, int, "port the server listens on"),
    Option("ASYNC_MODE", "eventlet", one_of("eventlet", "threading"), "Flask-SocketIO async mode"),
    Option("MAX_SOCKETS", 1024, positive(int), "HTTP and WebSocket connections the server holds at once"),
    Option("MAX_SOCKETS_PER_IP", 128, non_negative(int), "connections one address may hold open (not "
           "applied behind a trusted proxy, which must limit them; 0 = no cap)"),
    Option("HEADER_TIMEOUT_S", 10.0, positive(float), "seconds a client has to send a request's headers"),
    Option("JOIN_TIMEOUT_S", 5.0, positive(float), "seconds a new Engine.IO connection has to join the "
           "Socket.IO namespace"),
    Option("SECRET_KEY", "", str, "Flask secret key (random per start when empty)"),
    Option("BACKEND", "auto", one_of("auto", "docker", "local"), "Docker if reachable (auto), docker, local"),
    Option("ALLOW_PUBLIC_LOCAL", False, parse_bool, "allow the local backend on a non-loopback address"),
    Option("LOG_LEVEL", "INFO", str, "logging level"),
    Option("BASE_URL", "", base_url, "public address for the links the server hands out, e.g. "
           "https://code.example.org (empty = relative links)"),
    # Docker backend
    Option("SANDBOX_IMAGE", "codyskool-sandbox:latest", str, "image built from sandbox/"),
    Option("DOCKER_RUNTIME", "auto", str, "Docker runtime for sandboxes: auto (runsc, gVisor, where the "
           "engine has it and a probe sandbox starts under it; else the engine's default), runc, runsc "
           "or another registered runtime"),
    Option("INSTANCE", "default", str, "label value that marks this server's containers"),
    Option("SANDBOX_CPUS", 1.0, positive(float), "CPUs one sandbox may use"),
    Option("POOL_SIZES", {"python": 2, "python:graphics": 1}, parse_pool_sizes,
           "warm containers per pool: a language, or a warm kind of one (python=2,c=1; off)"),
    Option("SANDBOX_UID_BASE", 10001, positive(int), "first host uid of the sandboxes; each live one (warm "
           "ones too) runs as a uid of its own, so that per-user kernel quotas are not shared"),
    Option("SANDBOX_UIDS", DEFAULT_SANDBOX_UIDS, positive(int), "uids from SANDBOX_UID_BASE on: sandboxes "
           "that may live at once (runs, warm pool, removals in progress); one more is refused. At least "
           "MAX_CONCURRENT_RUNS + the pool, or start-up stops"),
    # Local backend
    Option("LOCAL_PYTHON", "", str, "interpreter for the local backend (default /usr/bin/python3)"),
    Option("LOCAL_BWRAP", "auto", one_of("auto", "on", "off"), "wrap local runs in bubblewrap"),
    # Limits of one run (see Limits below; languages.toml may lower some per language)
    Option("CPU_TIME_LIMIT_S", 10.0, positive(float), "CPU seconds a program may use", LIMIT),
    Option("WALL_TIME_LIMIT_S", 30.0, positive(float), "wall-clock seconds, not counting prompt waits",
           LIMIT),
    Option("PROMPT_IDLE_LIMIT_S", 300.0, positive(float), "seconds a program may wait at a prompt", LIMIT),
    Option("LIFETIME_LIMIT_S", 600.0, positive(float), "seconds a run may last in all, prompts included",
           LIMIT),
    Option("MEMORY_LIMIT_MB", 256, positive(int), "memory of one sandbox, MiB", LIMIT),
    Option("PIDS_LIMIT", 64, positive(int), "processes and threads in one sandbox", LIMIT),
    Option("OPEN_FILES_LIMIT", 256, positive(int), "open files per process", LIMIT),
    Option("OUTPUT_LIMIT_BYTES", 1 << 20, positive(int), "output a run may write before it is stopped",
           LIMIT),
    Option("DISPLAY_LIMIT_BYTES", 8 << 20, positive(int), "pictures and turtle drawing a run may show "
           "before it is stopped", LIMIT),
    Option("CODE_LIMIT_BYTES", 64 << 10, positive(int), "size of a program's text", LIMIT),
    Option("STDIN_LIMIT_BYTES", 1 << 20, positive(int), "standard input a run may be given in all", LIMIT),
    Option("WORKDIR_LIMIT_MB", 32, positive(int), "size of the sandbox's writable work dir", LIMIT),
    Option("COMPILE_TIME_LIMIT_S", 20.0, positive(float), "CPU seconds a compile step may use", LIMIT),
    Option("MAX_LINE_BYTES", 64 << 10, positive(int), "size of one stdin message (a line typed at a prompt)",
           LIMIT),
    # Admission control (codyskool/admission.py, docs/security.md)
    Option("MAX_CONCURRENT_RUNS", 16, positive(int), "programs running at once; more wait in a queue",
           ADMISSION),
    Option("MAX_CONCURRENT_RUNS_PER_IP", 4, positive(int), "programs one client address may run at once",
           ADMISSION),
    Option("MAX_QUEUED_RUNS", 100, positive(int), "programs that may wait for a slot; more are refused",
           ADMISSION),
    Option("MAX_QUEUED_RUNS_PER_IP", 10, positive(int), "programs one client address may have waiting",
           ADMISSION),
    Option("RUNS_PER_MINUTE_PER_IP", 120, positive(int), "runs one client address may start per minute",
           ADMISSION),
    Option("RUNS_PER_MINUTE_PER_SESSION", 60, positive(int), "runs one connection may start per minute",
           ADMISSION),
    Option("MAX_CONNECTIONS_PER_IP", 50, positive(int), "Socket.IO connections from one client address",
           ADMISSION),
    Option("SHARES_PER_MINUTE_PER_IP", 30, positive(int), "programs one client address may share "
           "(store through POST /api/snippets) per minute", ADMISSION),
    Option("TRUST_PROXY", 0, non_negative(int), "reverse proxies in front whose X-Forwarded-For is trusted",
           ADMISSION),
    # Shared programs and embedding (docs/embed.md)
    Option("DATA_DIR", str(PROJECT_ROOT / "data"), str, "where the default SQLite database lives"),
    Option("DATABASE_URL", "", str, "SQLAlchemy URL of the snippet database (also read from DATABASE_URL; "
           "empty = SQLite file in DATA_DIR)"),
    Option("SNIPPETS_MAX_TOTAL_MB", 512, non_negative(int),
           "what all shared programs together may take, MiB; more shares are refused (0 = no cap)"),
    Option("SNIPPET_RETENTION_DAYS", 365, non_negative(int),
           "shared programs nobody opened for this many days are deleted (0 = kept for ever)"),
    Option("FRAME_ANCESTORS", ("*",), source_list, "pages that may frame /embed (CSP frame-ancestors)"),
    Option("IDE_FRAME_ANCESTORS", ("'self'",), source_list, "pages that may frame every other page"),
    Option("EMBED_ALLOWED_ORIGINS", ("*",), source_list, "origins whose pages may drive embeds"),
)

def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults overridden by the environment; raises ConfigError on a bad value."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for option in OPTIONS:
        raw = environ.get(option.env)
        if raw is None:
            config[option.name] = option.default
            continue
        try:
            config[option.name] = option.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{option.env}: {error}") from None
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = secrets.token_hex(32)
    check_uids_suffice(config)
    return config


def check_uids_suffice(config: Mapping[str, Any]) -> None:
    """Every sandbox holds a uid of its own until it is removed (sandbox/uids.py): with fewer than
    the runs admitted at once plus the warm pool, a run let in at full load would be refused."""
    needed = config["MAX_CONCURRENT_RUNS"] + sum(config["POOL_SIZES"].values())
    if config["SANDBOX_UIDS"] < needed:
        raise ConfigError(
            f"CODYSKOOL_SANDBOX_UIDS ({config['SANDBOX_UIDS']}) is fewer than CODYSKOOL_MAX_CONCURRENT_RUNS "
            f"plus the warm pool ({needed}); set it to {2 * needed} or more, to leave room for "
            "sandboxes still being removed")


def defaults() -> dict[str, Any]:
    """Every setting at its default, as load_config gives them with an empty environment."""
    return load_config({})


def group_values(config: Mapping[str, Any], group: str) -> dict[str, Any]:
    """The settings of one group, under their field names (CPU_TIME_LIMIT_S -> cpu_time_limit_s)."""
    return {option.field: config[option.name] for option in OPTIONS if option.group == group}


@dataclass(frozen=True)
class Limits:
    """The bounds of one run. A request may never raise them; a language may only lower some.

    Each field is the option of the same name (``cpu_time_limit_s`` is CODYSKOOL_CPU_TIME_LIMIT_S),
    and the runner in the sandbox gets the limits it applies under the same names.
    """

    cpu_time_limit_s: float
    wall_time_limit_s: float
    prompt_idle_limit_s: float
    lifetime_limit_s: float
    memory_limit_mb: int
    pids_limit: int
    open_files_limit: int
    output_limit_bytes: int
    display_limit_bytes: int
    code_limit_bytes: int
    stdin_limit_bytes: int
    workdir_limit_mb: int
    compile_time_limit_s: float
    max_line_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(**group_values(config, LIMIT))

    @classmethod
    def defaults(cls) -> Limits:
        return cls.from_config(defaults())

    def lowered(self, overrides: Mapping[str, float]) -> Limits:
        """These limits with some lowered (a language's overrides); a higher value changes nothing."""
        return replace(self, **{name: min(getattr(self, name), value) for name, value in overrides.items()})

    def public(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}
