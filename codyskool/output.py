"""Program output on its way to the client: decoded, capped, and batched.

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
