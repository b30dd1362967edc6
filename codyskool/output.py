"""Program output on its way to the client: capped, decoded, kept for diagnostics, and batched.

A flood of writes reaches the client as a few events per window instead of one per write: the
first chunk after a quiet spell goes out at once (a prompt-free `print` feels instant), and what
follows within the window is merged and sent when the window ends.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable

FLUSH_INTERVAL_S = 0.004  # at most ~3 events per 10 ms window per run
MAX_BATCH_CHARS = 1 << 20

Emit = Callable[[str, str], None]  # (stream, text)


class OutputBatcher:
    def __init__(self, emit: Emit, schedule: Callable[[float, Callable[[], None]], None]) -> None:
        self.emit = emit
        self.schedule = schedule
        self.pending: list[list[str]] = []  # [stream, text] in order, same-stream runs merged
        self.pending_chars = 0
        self.last_flush = 0.0
        self.flush_scheduled = False
        self.lock = threading.Lock()

    def add(self, stream: str, text: str) -> None:
        if not text:
            return
        with self.lock:
            if self.pending and self.pending[-1][0] == stream:
                self.pending[-1][1] += text
            else:
                self.pending.append([stream, text])
            self.pending_chars += len(text)
            wait = self.last_flush + FLUSH_INTERVAL_S - time.monotonic()
            if wait > 0 and self.pending_chars < MAX_BATCH_CHARS:
                if not self.flush_scheduled:
                    self.flush_scheduled = True
                    self.schedule(wait, self.flush)
                return
        self.flush()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending, self.pending_chars = self.pending, [], 0
            self.flush_scheduled = False
            self.last_flush = time.monotonic()
            # Emitting under the lock keeps batches in order when a scheduled flush races a direct one.
            for stream, text in batch:
                self.emit(stream, text)


class OutputCap:
    """At most ``limit`` bytes of output in all; what is over is cut, and ``reached`` says so."""

    def __init__(self, limit: int) -> None:
        self.room = limit
        self.reached = False

    def take(self, data: bytes) -> bytes:
        if len(data) > self.room:
            data = data[: self.room]
            self.reached = True
        self.room -= len(data)
        return data


class TextKeeper:
    """The first ``limit`` characters of a text that arrives in pieces (stderr, for diagnostics)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pieces: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        if self.size < self.limit:
            self.pieces.append(text)
            self.size += len(text)

    def text(self) -> str:
        return "".join(self.pieces)


class StreamDecoder:
    """UTF-8 decoding per stream: a character split across writes is not broken."""

    def __init__(self) -> None:
        self.decoders = {
            stream: codecs.getincrementaldecoder("utf-8")(errors="replace") for stream in ("stdout", "stderr")
        }

    def decode(self, stream: str, data: bytes) -> str:
        return self.decoders[stream].decode(data)

    def finish(self, stream: str) -> str:
        return self.decoders[stream].decode(b"", final=True)


class ProgramOutput:
    """One run's output path: capped, decoded per stream, stderr kept for diagnostics, batched.

    ``add`` says whether the output limit was reached; what is over it is cut.
    """

    def __init__(self, limit: int, emit: Emit, schedule: Callable[[float, Callable[[], None]], None],
                 keep_stderr: int = 64 << 10) -> None:
        self.cap = OutputCap(limit)
        self.decoder = StreamDecoder()
        self.stderr = TextKeeper(keep_stderr)
        self.batcher = OutputBatcher(emit, schedule)

    def add(self, stream: str, data: bytes) -> bool:
        text = self.decoder.decode(stream, self.cap.take(data))
        if stream == "stderr":
            self.stderr.add(text)
        self.batcher.add(stream, text)
        return self.cap.reached

    def prompt(self, text: str) -> str:
        """A prompt's text counts against the output limit like the output it is (cut there)."""
        data = text.encode("utf-8", "replace")
        return self.cap.take(data).decode("utf-8", "ignore")

    def message(self, stream: str, text: str) -> None:
        """A line from the server itself (e.g. why the run failed), in order with the output."""
        self.batcher.add(stream, text)

    def flush(self) -> None:
        self.batcher.flush()

    def finish(self, keep_tail: bool = True) -> None:
        """The end: a character cut at the very end is finished (unless dropped), all is sent."""
        for stream in self.decoder.decoders:
            tail = self.decoder.finish(stream)
            if tail and keep_tail:
                self.batcher.add(stream, tail)
        self.batcher.flush()
