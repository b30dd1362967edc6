"""Sandbox backends behind one interface; ``create_backend`` picks one from the settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..config import Limits
from .base import Backend, Execution, Job, SandboxExit, SandboxFailed

__all__ = ["Backend", "Execution", "Job", "SandboxExit", "SandboxFailed", "create_backend"]

log = logging.getLogger(__name__)


def create_backend(config: Mapping[str, Any], limits: Limits,
                   preloads: Mapping[str, tuple[str, ...]] | None = None) -> Backend:
    """`preloads`: what the sandboxes of each warm kind import before their job
    (languages.warm_preloads)."""
    choice = config["BACKEND"]
    if choice in ("auto", "docker"):
        from .docker_backend import DockerBackend, docker_reachable
        from .uids import UidRange

        if choice == "docker" or docker_reachable():
            try:
                return DockerBackend(
                    limits,
                    image=config["SANDBOX_IMAGE"],
                    instance=config["INSTANCE"],
                    cpus=config["SANDBOX_CPUS"],
                    runtime=config["DOCKER_RUNTIME"],
                    pool_sizes=config["POOL_SIZES"],
                    uids=UidRange(config["SANDBOX_UID_BASE"], config["SANDBOX_UIDS"]),
                    preloads=preloads,
                )
            except SandboxFailed as error:
                if choice == "docker":
                    raise
                log.warning("%s", error)
        log.warning("Docker is not usable: running programs with the local backend")
    from .local_backend import LocalBackend

    return LocalBackend(limits, python=config["LOCAL_PYTHON"], use_bwrap=config["LOCAL_BWRAP"])
