"""Which OCI runtime the Docker backend runs sandboxes under.

`auto` (the default) prefers gVisor's runsc, a user-space kernel between the program and the host,
wherever the engine has it registered and a sandbox of this image starts under it; a host without
it keeps the engine's default (runc). A runtime named outright must be registered, or the server
does not start: a host that asked for gVisor must not silently get less.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .base import SandboxFailed
from .engine import Engine, EngineError

log = logging.getLogger(__name__)

AUTO = "auto"
GVISOR_HOST_THREADS = 2048  # gVisor's Go runtime, its gofer, and its host stubs (ptrace): see host_pids_limit
GVISOR_MEMORY_HEADROOM_MB = 64  # gVisor's kernel and gofer (about 15 MiB idle): see host_memory_limit
GVISOR = "runsc"
DESCRIPTIONS = {GVISOR: "gVisor, a user-space kernel", "runc": "the host's kernel"}

# What a probe found, per image and runtime, for this process (None: it works): every server a
# test suite starts in one process would otherwise start one more container.
probes: dict[tuple[str, str], str | None] = {}


def choose_runtime(engine: Engine, wanted: str, image: str,
                   probe: Callable[[str], str | None]) -> str:
    """The runtime to run sandboxes under; `probe(runtime)` starts one sandbox under it and says
    what went wrong (None if nothing did)."""
    try:
        info = engine.info()
    except EngineError as error:
        raise SandboxFailed(f"Docker is not reachable: {error}") from None
    registered = sorted(info.get("Runtimes") or {})
    default = info.get("DefaultRuntime") or "runc"
    if wanted in ("", "default"):
        return default
    if wanted != AUTO:
        if wanted not in registered:
            raise SandboxFailed(f"CODYSKOOL_DOCKER_RUNTIME={wanted}, but the engine has only "
                                f"{', '.join(registered) or 'its default'}: run scripts/setup-docker.sh "
                                "or see docs/deployment.md")
        return wanted
    if GVISOR not in registered or default == GVISOR:
        return default
    key = (image, GVISOR)
    if key not in probes:
        probes[key] = probe(GVISOR)
    if probes[key] is None:
        return GVISOR
    log.warning("gVisor (runsc) is registered, but a sandbox does not start under it (%s): "
                "sandboxes run under %s", probes[key], default)
    return default


def is_gvisor(runtime: str | None) -> bool:
    return bool(runtime) and ("runsc" in runtime or "gvisor" in runtime)


def host_pids_limit(pids_limit: int, runtime: str) -> int:
    """The container's pids cgroup limit. Under gVisor it also counts the host threads of gVisor's
    own kernel (which dies when it cannot make one), so it gets room for them, and the program's
    processes are bounded inside by RLIMIT_NPROC instead, which gVisor's kernel keeps per sandbox."""
    return pids_limit + GVISOR_HOST_THREADS if is_gvisor(runtime) else pids_limit


def host_memory_limit(memory_limit_mb: int, runtime: str) -> int:
    """The container's memory cgroup limit, in bytes. Under gVisor it also charges gVisor's own
    kernel, which the host's OOM killer picks before the program and so ends the whole sandbox
    with no word from the runner (google/gvisor#2535). So it gets room for that kernel, and the
    program is bounded inside by RLIMIT_AS where its language allows: it then meets an ordinary
    out-of-memory error that the runner reports."""
    headroom = GVISOR_MEMORY_HEADROOM_MB if is_gvisor(runtime) else 0
    return (memory_limit_mb + headroom) << 20


def describe(runtime: str) -> str:
    return DESCRIPTIONS.get(runtime, runtime)
