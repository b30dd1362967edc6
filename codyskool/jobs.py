"""A program and its language's registry entry turned into the job the sandbox's runner gets."""

from __future__ import annotations

from .config import Limits
from .programs import Program
from .sandbox import Job

BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"}


def run_limits(program: Program, limits: Limits) -> Limits:
    """The server's limits, lowered where the program's language asks for less."""
    return limits.lowered(program.language.limits)


def build_job(program: Program, limits: Limits, canvas_events: bool = False) -> Job:
    """The job for one run; ``limits`` are the run's own (see ``run_limits``); ``canvas_events``:
    a page may send the program's turtle clicks and keys.

    The runner applies the limits it is sent under their settings' names; the sandbox itself
    (memory, processes) is bounded by the backend.
    """
    language = program.language
    files = {language.file: program.code}
    run = {
        "cpu_time_limit_s": limits.cpu_time_limit_s,
        "open_files_limit": limits.open_files_limit,
        "workdir_limit_mb": limits.workdir_limit_mb,
    }
    return Job(
        files=files,
        main=language.file,
        run=list(language.run) if language.run else None,
        compile=list(language.compile) if language.compile else None,
        args=list(program.args),
        stdin=program.stdin,
        env={**BASE_ENV, **language.env},
        limits=run,
        compile_limits={**run, "cpu_time_limit_s": limits.compile_time_limit_s},
        language=language.id,
        warm_pools=language.warm_pools(files),
        watch_stdin=language.run is not None,  # Python's is watched anyway: its input() announces prompts
        bounded_address_space=language.address_space,
        canvas_events=canvas_events,
    )
