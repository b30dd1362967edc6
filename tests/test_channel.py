"""The runner's frames decoded into typed events; the frame table is the runner's own."""

from __future__ import annotations

import pytest

from codyskool.protocol import Phase, Stream
from codyskool.sandbox.channel import DECODERS, FRAME_HEADER, KINDS, ChannelError, EventDecoder, wire
from codyskool.sandbox.events import ExitReport, Output, PhaseChanged, Prompt, Resumed


def frame(kind: bytes, payload: bytes) -> bytes:
    return FRAME_HEADER.pack(kind, len(payload)) + payload


def test_every_kind_of_the_runner_has_a_decoder() -> None:
    assert set(DECODERS) == set(KINDS.values())
    assert KINDS is wire.FRAME_KINDS, "one table, the runner's"


def test_frames_become_events_however_the_stream_is_cut() -> None:
    stream = b"".join([
        frame(b"r", b""),
        frame(b"s", b'{"phase": "running"}'),
        frame(b"o", b"hi\n"),
        frame(b"e", b"oops\n"),
        frame(b"p", b'{"text": "Name? "}'),
        frame(b"w", b""),
        frame(b"x", b'{"code": 0, "signal": null, "cpu_ms": 12, "time_ms": 3.5, "memory_kb": 9000,'
                    b' "phase": "run", "memory": false}'),
    ])  # fmt: skip
    expected = [PhaseChanged(Phase.RUNNING), Output(Stream.STDOUT, b"hi\n"), Output(Stream.STDERR, b"oops\n"),
                Prompt("Name? "), Resumed(), ExitReport(code=0, cpu_ms=12, time_ms=3.5, memory_kb=9000)]
    for size in (1, 3, 7, len(stream)):
        decoder = EventDecoder()
        pieces = [stream[at : at + size] for at in range(0, len(stream), size)]
        events = [event for piece in pieces for event in decoder.feed(piece)]
        assert events == expected, size


def test_a_compile_exit_and_a_memory_exit() -> None:
    decoder = EventDecoder()
    compile_exit = decoder.feed(frame(b"x", b'{"code": 1, "phase": "compile"}'))
    assert compile_exit == [ExitReport(phase="compile", code=1)]
    memory = decoder.feed(frame(b"x", b'{"signal": "SIGKILL", "memory": true}'))[0]
    assert memory.memory_exceeded and memory.signal == "SIGKILL"


def test_wrongly_typed_fields_are_dropped_not_trusted() -> None:
    report = EventDecoder().feed(frame(b"x", b'{"code": "0", "signal": 9, "cpu_ms": true, "memory": 1}'))[0]
    assert report == ExitReport()


@pytest.mark.parametrize("data", [b"Z\0\0\0\0", frame(b"x", b"[1]"), frame(b"p", b"{not json"),
                                  FRAME_HEADER.pack(b"o", (1 << 24) + 1)])
def test_garbage_is_a_channel_error(data: bytes) -> None:
    with pytest.raises(ChannelError):
        EventDecoder().feed(data)


def test_a_deeply_nested_frame_is_a_channel_error_not_a_crash() -> None:
    """The runner writes flat JSON only; a nesting deeper than the parser's recursion is forged."""
    nested = b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ChannelError):
        EventDecoder().feed(frame(b"p", nested))
