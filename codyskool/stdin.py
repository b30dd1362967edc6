"""A run's standard input: bounded, kept until the sandbox exists, then written in order."""

from __future__ import annotations

import threading

from .errors import BadRequest, TooLarge
from .protocol import StdinRequest
from .sandbox import Execution, SandboxFailed


class StdinRelay:
    def __init__(self, limit: int, given: str = "") -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()  # a write may yield; an EOF must not overtake it
        self.queue: list[bytes] = []
        self.eof = False
        self.closed = False  # the run has ended
        self.size = len(given.encode())
        self.execution: Execution | None = None

    def send(self, request: StdinRequest) -> bool:
        """Pass on what was typed; whether it carried data. Raises BadRequest once input is over."""
        data = request.data.encode()
        with self.write_lock:  # taken first, as attach does: sends are written in their order
            with self.lock:
                if self.closed or self.eof:
                    raise BadRequest("the program is not reading input any more")
                if self.size + len(data) > self.limit:
                    raise TooLarge(f"stdin is over the limit of {self.limit // 1024} KiB")
                self.size += len(data)
                self.eof = request.eof
                execution = self.execution
                if execution is None:
                    self.queue.append(data)
                    return bool(data)
            self._write_now(execution, data, request.eof)
        return bool(data)

    def attach(self, execution: Execution) -> None:
        """The sandbox has started: what was typed before goes to it now, before anything newer."""
        with self.write_lock:
            with self.lock:
                queued, self.queue = self.queue, []
                self.execution = execution
                eof = self.eof
            if queued or eof:
                self._write_now(execution, b"".join(queued), eof)

    def close(self) -> None:
        with self.lock:
            self.closed = True

    @staticmethod
    def _write_now(execution: Execution, data: bytes, eof: bool) -> None:
        try:
            if data:
                execution.write(data)
            if eof:
                execution.close_stdin()
        except SandboxFailed:
            pass  # the program has ended or closed its input; its exit tells the rest
