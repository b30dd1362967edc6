"""The local backend, for machines without Docker: the runner as a subprocess.

The runner gets rlimits, its own session, a scrubbed environment and a temporary work dir, and,
where bubblewrap (`bwrap`) works, its own user, PID, network, mount and IPC namespaces with a
read-only view of the system. It is weaker than a container (no cgroup memory or process limits),
so the server refuses to serve it beyond loopback unless told to.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..config import PROJECT_ROOT, Limits
from ..languages import Language
from .base import Backend, Execution, FramedExecution, Job, SandboxExit, SandboxFailed

log = logging.getLogger(__name__)

RUNNER_DIR = PROJECT_ROOT / "sandbox"
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc/alternatives")
SCRUBBED_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


def default_python() -> str:
    system = Path("/usr/bin/python3")
    return str(system) if system.exists() else sys.executable


def build_compiled_helpers(directory: Path = RUNNER_DIR / "lang") -> None:
    """Compile the C++ helpers that sandbox/Dockerfile compiles in the image, where g++ is here.

    A language whose helper is missing (no compiler, a read-only checkout) is simply not offered.
    """
    compiler = shutil.which("g++")
    if compiler is None:
        return
    for source in directory.glob("*.cpp"):
        target = source.with_suffix(".o")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        command = [compiler, "-std=c++20", "-O2", "-Wall", "-c", "-o", str(partial), str(source)]
        try:
            built = subprocess.run(command, capture_output=True, text=True, timeout=120)
            if built.returncode == 0:
                os.replace(partial, target)
            else:
                log.warning("cannot compile %s: %s", source.name, built.stderr[-2000:])
        except (OSError, subprocess.SubprocessError) as error:
            log.warning("cannot compile %s: %s", source.name, error)
        finally:
            partial.unlink(missing_ok=True)


def bwrap_works(bwrap: str) -> bool:
    try:
        probe = subprocess.run(
            [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


class LocalExecution(FramedExecution):
    def __init__(self, process: subprocess.Popen, stdin_fd: int, stdout_fd: int,
                 workdir: tempfile.TemporaryDirectory, stderr_file: Any) -> None:
        super().__init__()
        self.process = process
        self.workdir = workdir
        self.stderr_file = stderr_file
        # Our own pipe ends, not Popen's file objects: eventlet wraps those and may close them.
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        os.set_blocking(stdin_fd, False)
        self.input_closed = False
        self.result: SandboxExit | None = None

    def read(self) -> bytes:
        try:
            return os.read(self.stdout_fd, 1 << 18)
        except OSError:
            return b""

    def send(self, data: bytes) -> None:
        if self.input_closed:
            raise SandboxFailed("the runner's stdin is closed")
        view = memoryview(data)
        try:
            while view:
                try:
                    view = view[os.write(self.stdin_fd, view) :]
                except BlockingIOError:
                    select.select([], [self.stdin_fd], [])
        except OSError as error:
            raise SandboxFailed(f"cannot write to the runner: {error}") from None

    def close_input(self) -> None:
        if not self.input_closed:
            self.input_closed = True
            os.close(self.stdin_fd)

    def kill(self) -> None:
        # The program has its own process group (and under bubblewrap dies with the namespace):
        # SIGTERM lets the runner kill everything it started before it goes.
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self, report: bool = True) -> SandboxExit:
        if self.result is not None:
            return self.result
        self.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.error("local runner %s did not end", self.process.pid)
        self.close_input()
        os.close(self.stdout_fd)
        self.stderr_file.seek(0)
        runner_stderr = self.stderr_file.read(4000)
        self.stderr_file.close()
        if runner_stderr:
            log.warning("runner stderr: %s", runner_stderr)
        self.workdir.cleanup()
        self.result = SandboxExit()
        return self.result


class LocalBackend(Backend):
    name = "local"

    def __init__(self, limits: Limits, python: str = "", use_bwrap: str = "auto") -> None:
        self.limits = limits
        self.python = python or default_python()
        bwrap = shutil.which("bwrap")
        if use_bwrap == "off" or not bwrap:
            self.bwrap = None
        elif bwrap_works(bwrap):
            self.bwrap = bwrap
        elif use_bwrap == "on":
            raise SandboxFailed("bubblewrap was asked for (CODYSKOOL_LOCAL_BWRAP=on) but does not work here")
        else:
            self.bwrap = None
        if not self.bwrap:
            log.warning("local backend without bubblewrap: programs run with rlimits only")
        build_compiled_helpers()

    def supports(self, language: Language) -> bool:
        return all(shutil.which(tool) for tool in language.tools) and all(
            (RUNNER_DIR / name).exists() for name in language.runner_files
        )

    def command(self, workdir: str) -> tuple[list[str], str]:
        """The command that starts the runner, and the work dir as the runner sees it."""
        runner = [self.python, str(RUNNER_DIR / "runner")]  # the package's folder: its __main__.py
        if not self.bwrap:
            return runner, workdir
        python_home = str(Path(os.path.realpath(self.python)).parent.parent)
        binds: list[str] = []
        for path in dict.fromkeys([*SYSTEM_DIRS, python_home]):
            if os.path.islink(path):
                binds += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                binds += ["--ro-bind", path, path]
        wrapped = [
            self.bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
            "--die-with-parent", "--new-session", "--as-pid-1", *binds,
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--ro-bind", str(RUNNER_DIR), "/opt/codyskool",
            "--bind", workdir, "/work", "--chdir", "/work",
            "--setenv", "HOME", "/work",
            self.python, "/opt/codyskool/runner",
        ]  # fmt: skip
        return wrapped, "/work"

    def start(self, job: Job) -> Execution:
        workdir = tempfile.TemporaryDirectory(prefix="codyskool-")
        os.chmod(workdir.name, 0o777)  # the runner may run as nobody inside its namespace
        command, job.workdir = self.command(workdir.name)
        stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - LocalExecution.finish closes it
        env = {**SCRUBBED_ENV, "HOME": job.workdir}
        job.env = {**SCRUBBED_ENV, **job.env}
        # No memory cgroup here: the address space bounds memory, where the runtime allows it.
        bound = {"memory_limit_mb": self.limits.memory_limit_mb} if job.bounded_address_space else {}
        job.limits = {**job.limits, **bound, "pids_limit": self.limits.pids_limit}
        job.compile_limits = {**job.compile_limits, **bound}
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        try:
            process = subprocess.Popen(
                command,
                stdin=stdin_r,
                stdout=stdout_w,
                stderr=stderr_file,
                cwd=workdir.name,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as error:
            for fd in (stdin_w, stdout_r):
                os.close(fd)
            workdir.cleanup()
            stderr_file.close()
            raise SandboxFailed(f"cannot start the runner: {error}") from None
        finally:
            os.close(stdin_r)
            os.close(stdout_w)
        execution = LocalExecution(process, stdin_w, stdout_r, workdir, stderr_file)
        try:
            execution.send(job.encode())
        except SandboxFailed:
            execution.finish()
            raise
        return execution

    def health(self) -> dict[str, Any]:
        return {"backend": self.name, "isolation": "bubblewrap" if self.bwrap else "rlimits"}
