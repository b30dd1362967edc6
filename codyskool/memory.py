"""Giving memory back to the system.

A burst of big messages (a 10 MB program, a flood of output) leaves the C allocator holding its
peak long after Python freed the objects; a long-running server would carry every burst's peak.
Every few seconds glibc's malloc_trim returns the free pages.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable

from .concurrency import Tasks

log = logging.getLogger(__name__)

TRIM_INTERVAL_S = 10.0


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None with another C library."""
    try:
        return ctypes.CDLL(None).malloc_trim  # the process's own symbols, libc's among them
    except (OSError, AttributeError, TypeError):
        return None


def start_releasing_memory(tasks: Tasks) -> None:
    trim = malloc_trim()
    if trim is None:
        log.info("no malloc_trim here: memory freed after bursts stays with the process")
        return

    def release_forever() -> None:
        while True:
            tasks.sleep(TRIM_INTERVAL_S)
            trim(0)

    tasks.spawn(release_forever)
