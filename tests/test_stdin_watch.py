"""The library preloaded into every program but Python's (sandbox/lang/stdin-watch.c), built and
run on this host: it says, on the runner's control pipe (fd 3), when a thread blocks on stdin."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from runner_host import runner_module

wire = runner_module("wire")
waits = runner_module("waits")
SOURCE = Path(__file__).resolve().parents[1] / "sandbox" / "lang" / "stdin-watch.c"
pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc, as the image build does")

SCANF = r"""
#include <stdio.h>
int main(int argc, char **argv) {
    char name[64];
    printf("Name? "); fflush(stdout);
    if (scanf("%63s", name) == 1) printf("Hi %s (fd %d)\n", name, fileno(stdin));
    if (argc > 1 && freopen(argv[1], "r", stdin) && scanf("%63s", name) == 1) printf("file %s\n", name);
    return 0;
}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stdin-watch")
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o",
                    folder / "stdin-watch.so", SOURCE, "-ldl"], check=True)
    (folder / "scanf.c").write_text(SCANF)
    subprocess.run(["gcc", "-O2", "-o", folder / "scanf", folder / "scanf.c"], check=True)
    return folder


class Watched:
    """A program with the library preloaded, its stdin and fd 3 pipes of this test's."""

    def __init__(self, built: Path, command: list[str], stdin: bytes = b"") -> None:
        self.control_r, control_w = os.pipe()
        stdin_r, self.stdin_w = os.pipe()
        os.write(self.stdin_w, stdin)
        self.process = subprocess.Popen(
            command, stdin=stdin_r, stdout=subprocess.PIPE, pass_fds=(3, control_w),
            preexec_fn=lambda: os.dup2(control_w, 3),
            env={"LD_PRELOAD": str(built / "stdin-watch.so"), "PATH": os.environ["PATH"]},
        )
        os.close(stdin_r)
        os.close(control_w)
        fcntl.fcntl(self.control_r, fcntl.F_SETFL, os.O_NONBLOCK)
        self.frames: list[tuple[str, bytes]] = []

    def read_frames(self, settle: float = 0.3) -> list[tuple[str, bytes]]:
        time.sleep(settle)
        data = b""
        try:
            while chunk := os.read(self.control_r, 4096):
                data += chunk
        except BlockingIOError:
            pass
        while data:
            kind, length = wire.FRAME_HEADER.unpack_from(data)
            end = wire.FRAME_HEADER.size + length
            self.frames.append((wire.CONTROL_KINDS[kind], data[wire.FRAME_HEADER.size : end]))
            data = data[end:]
        return self.frames

    def finish(self, stdin: bytes = b"") -> str:
        if stdin:
            os.write(self.stdin_w, stdin)
        os.close(self.stdin_w)
        out, _ = self.process.communicate(timeout=10)
        os.close(self.control_r)
        return out.decode()


def test_a_scanf_that_blocks_says_so_before_and_after(built: Path) -> None:
    program = Watched(built, [str(built / "scanf")])
    frames = program.read_frames()
    assert [kind for kind, _ in frames] == ["reading"], frames
    pid, tid = waits.parse_ids(frames[0][1])
    assert pid == tid == program.process.pid
    os.write(program.stdin_w, b"Linus\n")
    assert [kind for kind, _ in program.read_frames()] == ["reading", "read"]
    assert program.finish() == "Name? Hi Linus (fd 0)\n"


def test_input_already_there_is_no_wait(built: Path) -> None:
    program = Watched(built, [str(built / "scanf")], stdin=b"Ada\n")
    assert program.read_frames() == []
    assert program.finish() == "Name? Hi Ada (fd 0)\n"


def test_freopen_of_stdin_reads_the_file(built: Path, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("42\n")
    program = Watched(built, [str(built / "scanf"), str(data)], stdin=b"Ada\n")
    assert program.finish() == "Name? Hi Ada (fd 0)\nfile 42\n"


def test_a_shell_read_is_seen_and_so_are_the_commands_it_runs(built: Path) -> None:
    program = Watched(built, ["bash", "-c", "read -r line; echo \"got $line\"; head -n1; echo end"])
    assert [kind for kind, _ in program.read_frames()] == ["reading"]
    os.write(program.stdin_w, b"one\n")
    frames = program.read_frames()
    assert [kind for kind, _ in frames] == ["reading", "read", "reading"], frames
    assert waits.parse_ids(frames[2][1])[0] != program.process.pid  # head, a child of the shell
    assert program.finish(b"two\n") == "got one\ntwo\nend\n"


def test_a_program_that_reuses_fd_3_gets_no_frames_in_its_file(built: Path, tmp_path: Path) -> None:
    script = f"exec 3>&-; exec 3>{tmp_path}/own.txt; read -r line; echo \"$line\""
    program = Watched(built, ["bash", "-c", script])
    assert program.read_frames() == []
    assert program.finish(b"mine\n") == "mine\n"
    assert (tmp_path / "own.txt").read_bytes() == b""


@pytest.mark.parametrize(("payload", "ids"), [
    (b"12 34", (12, 34)), (b"12", None), (b"a b", None), (b"1 2 3", None), (b"-1 2", None),
    (b"9" * 20 + b" 1", None),
])  # fmt: skip
def test_a_hook_frame_names_a_process_and_thread_or_nothing(payload: bytes, ids: tuple | None) -> None:
    assert waits.parse_ids(payload) == ids
