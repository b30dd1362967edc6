"""Python programs in the runner's fork (sandbox/runner/python_child.py), and the image's bundle."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from runner_host import PACKAGE, PYTHON, Runner, job, run, runner_module

FAILING = '''\
def parse(text):
    try:
        return int(text)
    except ValueError as error:
        raise RuntimeError("not a number: " + text) from error

def main():
    print("start")
    parse("x")

main()
'''


def python(tmp_path: Path, code: str, **fields: object) -> dict:
    return job(tmp_path, None, code, **fields)


def test_input_sends_its_prompt_before_it_reads(tmp_path: Path) -> None:
    runner = Runner(python(tmp_path, 'print("before")\nname = input("Name? ")\nprint("hi", name)\n'))
    assert runner.wait_for("prompt") == b'{"text": "Name? "}'
    assert ("stdout", b"before\n") in runner.frames[: runner.seen]  # flushed and read first
    assert b"Name?" not in b"".join(data for kind, data in runner.frames if kind == "stdout")
    runner.write(b"Ada\n")
    runner.close_stdin()
    result = runner.finish()
    assert result.text("stdout") == "before\nhi Ada\n"
    assert result.json("status") == [{"phase": "running"}] and result.exit["code"] == 0


def test_a_read_of_stdin_without_input_is_a_bare_prompt(tmp_path: Path) -> None:
    runner = Runner(python(tmp_path, "import sys\nprint(sys.stdin.readline().upper(), end='')\n"))
    assert runner.wait_for("prompt") == b'{"text": ""}'
    runner.write(b"abc\n")
    assert runner.finish().text("stdout") == "ABC\n"


def test_input_given_with_the_job_is_read_without_waiting(tmp_path: Path) -> None:
    """No wait, so no prompt: the prompts show as output, in order, as on a terminal."""
    result = run(python(tmp_path, "a = input('a? ')\nb = input('b? ')\nprint(a + b)\n", stdin="1\n2\n"))
    assert result.text("stdout") == "a? b? 12\n"
    assert result.json("prompt") == []


def test_a_traceback_is_the_one_python_main_py_prints(tmp_path: Path) -> None:
    result = run(python(tmp_path, FAILING))
    (tmp_path / "alone.py").write_text(FAILING)
    alone = subprocess.run([PYTHON, "alone.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.text("stderr") == alone.stderr.replace(f"{tmp_path}/alone.py", "main.py")
    assert "The above exception was the direct cause" in result.text("stderr")
    assert result.text("stdout") == "start\n" and result.exit["code"] == 1


def test_eof_at_input_is_an_eof_error_of_the_program_only(tmp_path: Path) -> None:
    result = run(python(tmp_path, "input('more? ')\n"))
    assert result.text("stderr") == (
        'Traceback (most recent call last):\n  File "main.py", line 1, in <module>\n'
        "    input('more? ')\nEOFError: EOF when reading a line\n"
    )


@pytest.mark.parametrize(("code", "status", "stderr"), [
    ("import sys\nsys.exit(3)\n", 3, ""),
    ("import sys\nsys.exit('bye')\n", 1, "bye\n"),
    ("raise SystemExit\n", 0, ""),
    ("print(", 1, "SyntaxError"),
])  # fmt: skip
def test_exit_status(tmp_path: Path, code: str, status: int, stderr: str) -> None:
    result = run(python(tmp_path, code))
    assert result.exit["code"] == status
    assert stderr in result.text("stderr") and (stderr or not result.text("stderr"))


def test_running_out_of_memory_is_reported(tmp_path: Path) -> None:
    result = run(python(tmp_path, "data = bytearray(1 << 30)\n", limits={"memory_limit_mb": 400}))
    assert result.text("stderr").endswith("MemoryError\n")
    assert result.exit["memory"] is True and result.exit["code"] == 1


def test_the_programs_own_modules_win_over_the_runners(tmp_path: Path) -> None:
    files = {"main.py": "import runner, wire, sys\nprint(runner.X, wire.Y, sys.argv)\n",
             "runner.py": "X = 1\n", "wire.py": "Y = 2\n"}
    result = run(python(tmp_path, "", files=files, args=["a"]))
    assert result.text("stdout") == "1 2 ['main.py', 'a']\n"


def test_the_bundle_runs_as_the_folder_does(tmp_path: Path) -> None:
    bundle = tmp_path / "runner.pyc"
    subprocess.run([PYTHON, str(PACKAGE / "bundle.py"), str(bundle)], check=True)
    workdir = tmp_path / "work"
    workdir.mkdir()
    bundled = run(python(workdir, FAILING), artifact=bundle)
    from_folder = run(python(workdir, FAILING))
    assert bundled.frames[:-1] == from_folder.frames[:-1]  # all but the exit's times
    command = ["sh", "-c", "echo {runner_dir}"]
    assert run(job(workdir, command), artifact=bundle).text("stdout") == f"{PACKAGE.parent}\n"


def test_the_bundle_holds_every_module_but_its_builder() -> None:
    modules = runner_module("bundle").compiled_modules()
    names = {path.stem for path in PACKAGE.glob("*.py")}
    assert set(modules) == names - {"bundle"}
    assert all(code.co_filename == str(PACKAGE / f"{name}.py") for name, code in modules.items())
