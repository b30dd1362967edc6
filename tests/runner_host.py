"""The runner package run on the host, as the local backend runs it without bubblewrap: no
Docker. A job goes in encoded by the server's encode_job, frames come out through the server's
FrameDecoder, so these tests also check that the two sides agree on the wire."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from codyskool.sandbox.channel import FrameDecoder, encode_job, input_frame

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sandbox" / "runner"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


def runner_module(name: str) -> ModuleType:
    """A module of the runner package, imported into the test process by the package's own loader."""
    start = sys.modules.get("_codyskool_runner_start")
    if start is None:
        spec = importlib.util.spec_from_file_location("_codyskool_runner_start", PACKAGE / "__main__.py")
        start = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(start)
        sys.modules[spec.name] = start
        start.install()
    return importlib.import_module(f"{start.PACKAGE}.{name}")


def job(workdir: Path, run: list[str] | None, code: str = "", main: str = "", **fields: Any) -> dict:
    """A job as the server sends it; `run=None` is a Python program (main.py) run in a fork."""
    main = main or ("main.py" if run is None else "main.sh")
    return {"files": {main: code}, "main": main, "run": run, "compile": None, "args": [], "stdin": "",
            "env": dict(ENV), "limits": {}, "compile_limits": {}, "workdir": str(workdir),
            "watch_stdin": run is not None, **fields}


class Runner:
    """A started runner: send it a job and stdin, read its frames as they come."""

    def __init__(self, job: dict[str, Any], artifact: Path = PACKAGE, wrapper: tuple[str, ...] = (),
                 cwd: str | None = None, job_after_s: float = 0, runner_args: tuple[str, ...] = ()) -> None:
        """`wrapper` goes before the runner's command (setpriv, say); it runs in `cwd`, else in the
        job's work dir. With `job_after_s`, the job is sent that long after the runner is ready,
        as a warm sandbox gets it. `runner_args` go after it (--preload)."""
        self.process = subprocess.Popen(
            [*wrapper, PYTHON, str(artifact), *runner_args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=cwd or job["workdir"], env=ENV, start_new_session=True,
        )  # fmt: skip
        self.decoder = FrameDecoder()
        self.frames: list[tuple[str, bytes]] = []
        self.seen = 0
        self.ended = False
        if job_after_s:
            self.wait_for("ready")
            time.sleep(job_after_s)
        self.send(encode_job(job))

    def send(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def write(self, data: bytes) -> None:
        """For the program's stdin, as the server sends it: in input frames."""
        if data:
            self.send(input_frame("stdin", data))

    def event(self, event: dict[str, Any]) -> None:
        self.send(input_frame("event", json.dumps(event).encode()))

    def close_stdin(self) -> None:
        """The program's stdin ends, then the runner's (the server gone)."""
        try:
            self.send(input_frame("eof"))
            self.process.stdin.close()
        except BrokenPipeError:  # the runner has ended
            pass

    def read_some(self, timeout: float) -> bool:
        """Read what has come within the timeout; False once the runner's stdout has ended."""
        if self.ended:
            return False
        fd = self.process.stdout.fileno()
        if select.select([fd], [], [], timeout)[0]:
            data = os.read(fd, 65536)
            self.ended = not data
            self.frames += self.decoder.feed(data)
        return not self.ended

    def wait_for(self, kind: str, timeout: float = 5) -> bytes:
        """The payload of the next frame of this kind (frames before it are kept in self.frames)."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(self.seen, len(self.frames)):
                if self.frames[index][0] == kind:
                    self.seen = index + 1
                    return self.frames[index][1]
            left = deadline - time.monotonic()
            if left <= 0 or not self.read_some(left):
                raise AssertionError(f"no {kind} frame within {timeout}s: {self.frames}")

    def finish(self, timeout: float = 10) -> Result:
        deadline = time.monotonic() + timeout
        while self.read_some(max(0.0, deadline - time.monotonic())):
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"the runner did not end within {timeout}s: {self.frames}")
        self.process.wait(timeout=5)
        stderr = self.process.stderr.read().decode()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if not stream.closed:
                try:
                    stream.close()
                except BrokenPipeError:  # what close_stdin could not send: the runner had ended
                    pass
        return Result(self.frames, stderr)


class Result:
    def __init__(self, frames: list[tuple[str, bytes]], runner_stderr: str) -> None:
        self.frames = frames
        self.runner_stderr = runner_stderr

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.frames]

    def text(self, kind: str) -> str:
        return b"".join(data for frame_kind, data in self.frames if frame_kind == kind).decode()

    def json(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(data) for frame_kind, data in self.frames if frame_kind == kind]

    @property
    def exit(self) -> dict[str, Any]:
        (report,) = self.json("exit")
        return report


def run(job: dict[str, Any], stdin: bytes = b"", artifact: Path = PACKAGE, timeout: float = 10,
        **options: Any) -> Result:
    """Run a job to its end, its stdin given at once and then closed (`options`: Runner's)."""
    runner = Runner(job, artifact, **options)
    runner.write(stdin)
    runner.close_stdin()
    return runner.finish(timeout)
