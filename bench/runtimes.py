"""Which Docker runtimes one benchmark run measures: every one the engine has registered whose
probe container works (runc, and runsc when gVisor is installed), or those that `--runtime` or
CODYSKOOL_BENCH_RUNTIMES name.

The servers the benchmark starts are told their runtime explicitly (CODYSKOOL_DOCKER_RUNTIME), so
nothing here depends on what a server would pick by default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bench.references import churn_config, churn_once
from codyskool.sandbox.engine import Engine, EngineError

ENV = "CODYSKOOL_BENCH_RUNTIMES"  # e.g. `runc` or `runc,runsc`; empty: every registered runtime
# Engines also list runc under its shims' names (the v1 and the v2 shim): the same runc
ALIASES = {"io.containerd.runc.v2": "runc", "io.containerd.runtime.v1.linux": "runc"}
ORDER = ("runc", "runsc")  # the baseline first, then gVisor, then any other in name order


@dataclass
class Choice:
    """The runtimes to measure, in order, and why the others are not measured."""

    measured: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def parse_names(values: list[str]) -> list[str]:
    """Runtime names from `--runtime` values (repeated or comma-separated), else from ENV."""
    values = values or [os.environ.get(ENV, "")]
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return list(dict.fromkeys(names))


def ordered(names: list[str]) -> list[str]:
    rank = {name: index for index, name in enumerate(ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(ORDER)), name))


def registered_runtimes(engine: Engine) -> list[str]:
    """The runtimes the engine has registered (/info), aliases of runc left out."""
    names = engine.info().get("Runtimes") or {"runc": {}}
    return ordered([name for name in names if name not in ALIASES])


def probe(runtime: str) -> str | None:
    """Run one sandbox container under runtime; None when it works, else why not."""
    engine = Engine(timeout=60)
    try:
        churn_once(engine, churn_config(runtime))
    except (EngineError, RuntimeError, OSError) as error:  # OSError: a timeout of the engine's socket
        return f"the probe container failed: {error}"[:500]
    finally:
        engine.close()
    return None


def choose(wanted: list[str]) -> Choice:
    """The runtimes to measure: those wanted (default: every registered one) that work."""
    engine = Engine(timeout=30)
    try:
        registered = registered_runtimes(engine)
    finally:
        engine.close()
    choice = Choice()
    for name in ordered(wanted) if wanted else registered:
        why = probe(name) if name in registered else "not registered with the Docker engine"
        if why is None:
            choice.measured.append(name)
        else:
            choice.skipped[name] = why
    return choice
