"""The runner's wire format (sandbox/runner/wire.py) and the server's decoder agree."""

from __future__ import annotations

import json
import os
import threading

import pytest
from runner_host import runner_module

from codyskool.sandbox import channel

wire = runner_module("wire")


def frames_through_a_pipe(kind: bytes, payload: bytes) -> bytes:
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # the runner's own write path for a full pipe
    received = bytearray()

    def drain() -> None:
        while chunk := os.read(read_end, 4096):
            received.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    wire.write_frame(write_end, kind, payload)
    os.close(write_end)
    reader.join()
    os.close(read_end)
    return bytes(received)


@pytest.mark.parametrize("kind", list(wire.FRAME_KINDS))
def test_every_frame_kind_round_trips_through_the_servers_decoder(kind: bytes) -> None:
    payload = b"" if kind == b"r" else os.urandom(100_000)  # more than a pipe holds at once
    data = frames_through_a_pipe(kind, payload)
    decoder = channel.FrameDecoder()
    chunks = [data[start : start + 999] for start in range(0, len(data), 999)]  # cut anywhere
    frames = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    assert frames == [(wire.FRAME_KINDS[kind], payload)]
    assert not decoder.buffer


def test_the_server_takes_the_format_from_the_runners_wire_module() -> None:
    assert channel.KINDS == wire.FRAME_KINDS
    assert channel.FRAME_HEADER.format == wire.FRAME_HEADER.format == ">cI"
    assert channel.JOB_HEADER.format == wire.JOB_HEADER.format
    assert channel.MAX_FRAME == wire.MAX_FRAME
    assert wire.FRAME_HEADER.pack(wire.KIND["ready"], 0) == channel.READY_FRAME


def test_kinds_are_one_byte_and_each_name_is_defined_once() -> None:
    for table, names in ((wire.FRAME_KINDS, wire.KIND), (wire.CONTROL_KINDS, wire.CONTROL_KIND)):
        assert all(len(kind) == 1 for kind in table)
        assert len(set(table.values())) == len(table)
        assert {kind: name for name, kind in names.items()} == table


def test_a_frame_over_the_limit_or_of_no_known_kind_is_refused() -> None:
    for header in (wire.FRAME_HEADER.pack(b"o", wire.MAX_FRAME + 1), wire.FRAME_HEADER.pack(b"?", 0)):
        with pytest.raises(channel.ChannelError):
            channel.FrameDecoder().feed(header)


def test_a_job_encoded_by_the_server_is_read_by_the_runner() -> None:
    job = {"files": {"main.py": "print('é')\n"}, "main": "main.py", "run": None, "args": ["a b"],
           "limits": {"cpu_time_limit_s": 3}, "env": {"X": "1"}, "watch_stdin": False}
    read_end, write_end = os.pipe()
    os.write(write_end, channel.encode_job(job) + b"the program's stdin")
    os.close(write_end)
    try:
        assert wire.read_job(read_end) == job
        assert os.read(read_end, 100) == b"the program's stdin"
    finally:
        os.close(read_end)


def test_a_job_cut_short_is_an_eof_error() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, channel.encode_job({"files": {}})[:-1])
    os.close(write_end)
    with pytest.raises(EOFError):
        wire.read_job(read_end)
    os.close(read_end)


@pytest.mark.parametrize("value", [
    {"text": 'quote " backslash \\ newline \n tab \t nul \0 bell \x07 del \x7f'},
    {"text": "é ☃ 𝄞", "n": -3, "x": 1.5, "none": None, "yes": True, "no": False},
    {"code": None, "signal": "SIGXCPU", "cpu_ms": 1000, "time_ms": 12.5, "memory_kb": 9000},
])  # fmt: skip
def test_the_runners_json_is_json(value: dict) -> None:
    assert json.loads(wire.to_json(value)) == value
    assert channel.json_object("exit", wire.to_json(value).encode()) == value


def test_the_runners_json_refuses_what_it_cannot_report() -> None:
    with pytest.raises(TypeError):
        wire.to_json({"a": [1]})
