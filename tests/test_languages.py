"""Every language of languages.toml, end to end: a live server, a real client, Docker sandboxes.

For each language: hello world, a compile (or syntax) error pinned to its line, a runtime error, and
the read-a-name-and-greet template answered only once its prompt has arrived. The programs below
are test data; the code under test reads languages.toml only.

The server is the Docker/eventlet one of conftest, with one difference: a roomier wall-clock limit.
The wall clock of a run starts when the run is accepted, so it covers the container's start and the
compile, and a g++ compile on a busy two-core machine can take longer than the 4 s the other live
tests use.
"""

from __future__ import annotations

import queue
import shutil
import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest
import requests
from conftest import LiveServer, Result, RunClient

from codyskool.languages import load_languages

LANGUAGES = load_languages()
PROMPT = "What is your name? "
SANDBOX_PATHS = ("/work", "/opt/codyskool")


class Program(NamedTuple):
    code: str
    line: int | None  # where the diagnostics must point (None: no mark expected)
    column: int | None = None
    stderr: str = ""  # must appear on stderr


COMPILE_ERRORS = {
    "python": Program('print("start")\nx = (\n', 2, 5, "SyntaxError"),
    "c": Program(
        '#include <stdio.h>\n\nint main(void) {\n    int x = 1\n    printf("%d\\n", x);\n    return 0;\n}\n',
        5, 5, "main.c:5:5: error: expected ‘,’ or ‘;’ before ‘printf’",  # noqa: RUF001 - gcc's quotes
    ),
    "cpp": Program(
        "#include <iostream>\n\nint main() {\n    std::cout << undefined_name << std::endl;\n}\n",
        4, 18, "main.cpp:4:18: error:",
    ),
    "javascript": Program('console.log("start");\nlet x = ;\n', 2, 9, "SyntaxError: Unexpected token ';'"),
    "java": Program(
        "public class Main {\n    public static void main(String[] args) {\n"
        "        int x = 5;\n        System.out.println(x)\n    }\n}\n",
        4, 30, "Main.java:4: error: ';' expected",
    ),
    "ruby": Program('puts "start"\ndef f(\n  1 +\nend\n', 3, 3, "main.rb:3: syntax error"),
    "bash": Program(
        "echo start\nif [ 1 -eq 1 ]\n  echo yes\nfi\n", 4, None, "main.sh: line 4: syntax error"
    ),
}  # fmt: skip

RUNTIME_ERRORS = {
    "python": Program("def f():\n    return 1 / 0\n\nf()\n", 2, 12, "ZeroDivisionError: division by zero"),
    "c": Program(
        '#include <stdio.h>\n\nint main(void) {\n    FILE *f = fopen("scores.txt", "r");\n'
        '    if (f == NULL) {\n        perror("scores.txt");\n        return 1;\n    }\n    return 0;\n}\n',
        None, stderr="scores.txt: No such file or directory",
    ),
    "cpp": Program(
        "#include <iostream>\n#include <vector>\n\nint main() {\n    std::vector<int> v{1, 2, 3};\n"
        "    std::cout << v.at(10) << std::endl;\n}\n",
        None, stderr="what():  vector::_M_range_check",
    ),
    "javascript": Program(
        "function f() {\n  return missing + 1;\n}\nf();\n", 2, 3, "ReferenceError: missing is not defined"
    ),
    "java": Program(
        "public class Main {\n    static int f(int[] a) {\n        return a[5];\n    }\n\n"
        "    public static void main(String[] args) {\n"
        "        System.out.println(f(new int[2]));\n    }\n}\n",
        3, None, "java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length 2",
    ),
    "ruby": Program(
        "def f(x)\n  x.nope\nend\n\nf(3)\n", 2, 4, "main.rb:2:in `f': undefined method `nope' for 3:Integer"
    ),
    "bash": Program(
        'echo "start"\nnosuchcommand arg\n', 2, None, "main.sh: line 2: nosuchcommand: command not found"
    ),
}  # fmt: skip

# Prints the toolchain's version, to be found in the version languages.toml shows.
VERSION_PROGRAMS = {
    "python": 'import sys\nprint(f"{sys.version_info[0]}.{sys.version_info[1]}")\n',
    "c": '#include <stdio.h>\nint main(void) {\n'
         '    printf("GCC %d.%d, C%ld\\n",\n'
         "           __GNUC__, __GNUC_MINOR__, __STDC_VERSION__ / 100 % 100);\n}\n",
    "cpp": '#include <cstdio>\nint main() {\n'
           '    std::printf("GCC %d.%d, C++%ld\\n",\n'
           "                __GNUC__, __GNUC_MINOR__, __cplusplus / 100 % 100);\n}\n",
    "javascript": 'const [major, minor] = process.versions.node.split(".");\n'
                  'console.log(`Node.js ${major}.${minor}`);\n',
    "java": "public class Main {\n    public static void main(String[] args) {\n"
            '        System.out.println("OpenJDK " + Runtime.version().feature());\n    }\n}\n',
    "ruby": 'puts RUBY_VERSION.split(".")[0, 2].join(".")\n',
    "bash": 'echo "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}"\n',
}  # fmt: skip

ALL = sorted(LANGUAGES)


@pytest.fixture(scope="module")
def lang_server(docker_server: LiveServer) -> LiveServer:
    """The shared Docker server: its 4 s wall clock counts the run phase only, not the compile."""
    return docker_server


@pytest.fixture
def client(lang_server: LiveServer) -> Iterator[RunClient]:
    run_client = RunClient(lang_server.url)
    yield run_client
    run_client.close()
    assert lang_server.no_busy_containers(), lang_server.containers()


def phases(result: Result) -> list[str]:
    return [status["phase"] for status in result.of("status")]


def error_marks(result: Result) -> list[tuple[int, int | None]]:
    items = [item for event in result.of("diagnostics") for item in event["items"]]
    return [(item["line"], item["column"]) for item in items if item["severity"] == "error"]


def assert_no_sandbox_paths(result: Result) -> None:
    texts = [result.stdout, result.stderr]
    texts += [item["message"] for event in result.of("diagnostics") for item in event["items"]]
    for text in texts:
        for path in SANDBOX_PATHS:
            assert path not in text, text


def test_the_tests_cover_every_language() -> None:
    for table in (COMPILE_ERRORS, RUNTIME_ERRORS, VERSION_PROGRAMS):
        assert set(table) == set(LANGUAGES)
    assert {"python", "c", "cpp", "javascript", "java", "ruby", "bash"} <= set(LANGUAGES)


def test_api_lists_every_language(lang_server: LiveServer) -> None:
    listed = requests.get(lang_server.url + "/api/languages", timeout=10).json()["languages"]
    assert [entry["id"] for entry in listed] == list(LANGUAGES)
    for entry in listed:
        language = LANGUAGES[entry["id"]]
        assert entry["version"] == language.version
        assert entry["compiled"] == language.compiled
        assert entry["templates"] == {"hello": language.hello, "input": language.input}


@pytest.mark.parametrize("language", ALL)
def test_version_shown_is_the_toolchains(client: RunClient, language: str) -> None:
    result = client.run_to_exit(VERSION_PROGRAMS[language], language)
    assert result.exit["code"] == 0, result.stderr
    assert result.stdout.strip() in LANGUAGES[language].version


@pytest.mark.parametrize("language", ALL)
def test_hello_world(client: RunClient, language: str) -> None:
    result = client.run_to_exit(LANGUAGES[language].hello, language)
    assert result.stdout == "Hello, world!\n"
    assert result.stderr == ""
    assert (result.exit["reason"], result.exit["code"], result.exit["signal"]) == ("exited", 0, None)
    assert phases(result) == (["compiling", "running"] if LANGUAGES[language].compiled else ["running"])
    assert result.of("diagnostics") == []


@pytest.mark.parametrize("language", ALL)
def test_compile_error_is_pinned_to_its_line(client: RunClient, language: str) -> None:
    program = COMPILE_ERRORS[language]
    result = client.run_to_exit(program.code, language)
    assert program.stderr in result.stderr
    assert result.exit["code"] not in (0, None)
    if LANGUAGES[language].compiled:
        assert result.exit["reason"] == "compile_error"
        assert phases(result) == ["compiling"], "a failed compile must not run anything"
        assert result.stdout == ""
    else:
        assert result.exit["reason"] == "exited"
    assert error_marks(result)[0] == (program.line, program.column), result.of("diagnostics")
    [event] = result.of("diagnostics")
    assert result.events.index(("diagnostics", event)) < result.events.index(("exit", result.exit))
    assert_no_sandbox_paths(result)


@pytest.mark.parametrize("language", ALL)
def test_runtime_error(client: RunClient, language: str) -> None:
    program = RUNTIME_ERRORS[language]
    result = client.run_to_exit(program.code, language)
    assert result.exit["reason"] == "exited"
    assert result.exit["code"] not in (0, None), result.exit
    assert program.stderr in result.stderr
    if program.line is None:
        assert error_marks(result) == []
    else:
        assert error_marks(result)[0] == (program.line, program.column), result.of("diagnostics")
    assert_no_sandbox_paths(result)


@pytest.mark.parametrize("language", ALL)
def test_interactive_input(client: RunClient, language: str) -> None:
    """The prompt shows before the program waits, the answer goes in, the greeting comes out."""
    run_id = client.start(LANGUAGES[language].input, language)
    shown = ""
    while shown != PROMPT:
        name, payload = client.next_event(timeout=30)
        assert name != "exit", f"the program ended before asking: {payload} {shown!r}"
        if name == "output":  # printed without a newline, before the program blocks in its read
            shown += payload["data"]
        elif name == "prompt":  # languages with a prompt hook send it as a prompt instead
            shown += payload["text"]
        assert PROMPT.startswith(shown), shown
    try:  # it waits for its input: nothing happens until it gets some, but for a `prompt`
        unexpected = client.next_event(timeout=0.5)  # when the runner sees it blocked in a read
    except queue.Empty:
        unexpected = None
    assert unexpected in (None, ("prompt", {"run_id": run_id, "text": ""})), unexpected
    client.send("stdin", {"data": "Ada\n"})
    exit_payload, seen = client.wait_for("exit", run_id, timeout=30)
    assert "".join(p["data"] for name, p in seen if name == "output") == "Hello, Ada!\n"
    assert (exit_payload["reason"], exit_payload["code"]) == ("exited", 0)


@pytest.mark.parametrize("language", ALL)
def test_input_given_with_the_run(client: RunClient, language: str) -> None:
    result = client.run_to_exit(LANGUAGES[language].input, language, stdin="Grace\n")
    assert result.stdout.replace(PROMPT, "") == "Hello, Grace!\n"
    assert result.exit["code"] == 0


def test_c_segfault_ends_with_sigsegv(client: RunClient) -> None:
    code = (
        '#include <stdio.h>\n\nint main(void) {\n    int *p = NULL;\n    printf("before\\n");\n'
        "    *p = 42;\n    return 0;\n}\n"
    )
    result = client.run_to_exit(code, "c")
    assert result.stdout == "before\n"
    assert (result.exit["reason"], result.exit["code"], result.exit["signal"]) == ("exited", None, "SIGSEGV")


def test_c_failed_assert_names_the_file_only(client: RunClient) -> None:
    code = "#include <assert.h>\n\nint main(void) {\n    int count = 0;\n    assert(count > 0);\n}\n"
    result = client.run_to_exit(code, "c")
    assert "main.c:5: main: Assertion `count > 0' failed." in result.stderr
    assert result.exit["signal"] == "SIGABRT"
    assert_no_sandbox_paths(result)


def test_c_warning_is_marked_and_the_program_runs(client: RunClient) -> None:
    code = '#include <stdio.h>\n\nint main(void) {\n    int unused;\n    printf("ran\\n");\n}\n'
    result = client.run_to_exit(code, "c")
    assert result.stdout == "ran\n"
    assert result.exit["code"] == 0
    [event] = result.of("diagnostics")
    assert [(i["line"], i["column"], i["severity"]) for i in event["items"]] == [(4, 9, "warning")]


CPP_UNCAUGHT = (
    "#include <iostream>\n#include <stdexcept>\n\nint main() {\n"
    '    std::cout << "before" << std::endl;\n    throw std::runtime_error("something broke");\n}\n'
)
CPP_UNCAUGHT_STDERR = (
    "terminate called after throwing an instance of 'std::runtime_error'\n  what():  something broke\n"
)


def test_cpp_uncaught_exception_exits_non_zero_with_its_message(client: RunClient) -> None:
    result = client.run_to_exit(CPP_UNCAUGHT, "cpp")
    assert (result.stdout, result.stderr) == ("before\n", CPP_UNCAUGHT_STDERR)
    assert (result.exit["reason"], result.exit["code"], result.exit["signal"]) == ("exited", 1, None)


@pytest.mark.live
def test_the_local_backend_offers_cpp_where_gpp_is_installed() -> None:
    """The image compiles the C++ terminate helper; the local backend compiles it at start-up."""
    live = LiveServer("local", "eventlet")
    try:
        listed = requests.get(live.url + "/api/languages", timeout=10).json()["languages"]
        offered = {language["id"] for language in listed}
        if shutil.which("g++") is None:
            assert "cpp" not in offered, "C++ offered without a compiler"
            return
        assert "cpp" in offered
        client = RunClient(live.url)
        try:
            result = client.run_to_exit(CPP_UNCAUGHT, "cpp")
        finally:
            client.close()
        assert (result.stdout, result.stderr) == ("before\n", CPP_UNCAUGHT_STDERR), result.exit
        assert (result.exit["reason"], result.exit["code"]) == ("exited", 1)
    finally:
        live.stop()


def test_cpp_template_error_is_pinned_to_the_programs_line(client: RunClient) -> None:
    code = (
        "#include <algorithm>\n#include <vector>\n\nstruct Point { int x, y; };\n\nint main() {\n"
        "    std::vector<Point> points{{1, 2}, {0, 1}};\n    std::sort(points.begin(), points.end());\n}\n"
    )
    result = client.run_to_exit(code, "cpp")
    assert result.exit["reason"] == "compile_error"
    assert error_marks(result) == [(8, 14)]


@pytest.mark.parametrize(
    ("code", "steps"),
    [
        (
            'process.stdout.write("Name? ");\nprocess.stdin.once("data", (data) => {\n'
            "  console.log(`Hi ${String(data).trim()}`);\n  process.stdin.pause();\n});\n",
            [("Name? ", "Ada")],
        ),
        (
            'const readline = require("readline/promises");\n(async () => {\n'
            '  for (const question of ["First? ", "Second? "]) {\n'
            "    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });\n"
            "    console.log(`Hi ${await rl.question(question)}`);\n    rl.close();\n  }\n})();\n",
            [("First? ", "Ada"), ("Second? ", "Bob")],
        ),
    ],
    ids=["pause", "two-interfaces"],
)
def test_javascript_ends_when_it_stops_reading(
    client: RunClient, code: str, steps: list[tuple[str, str]]
) -> None:
    """As on a terminal: the program ends without its standard input being closed."""
    run_id = client.start(code, "javascript")
    shown = ""
    for prompt, answer in steps:
        while not shown.endswith(prompt):
            name, payload = client.next_event(timeout=30)
            assert name != "exit", payload
            shown += payload["data"] if name == "output" else ""
        client.send("stdin", {"data": answer + "\n"})
    started = time.monotonic()
    exit_payload, seen = client.wait_for("exit", run_id, timeout=15)
    assert time.monotonic() - started < 5
    assert (exit_payload["reason"], exit_payload["code"]) == ("exited", 0)
    shown += "".join(p["data"] for name, p in seen if name == "output")
    assert shown == "".join(f"{prompt}Hi {answer}\n" for prompt, answer in steps)


def test_a_javascript_program_waiting_for_a_timer_is_not_at_a_prompt(client: RunClient) -> None:
    """Only an event loop with nothing but input to wait for counts as waiting for input."""
    code = 'setTimeout(() => console.log("late"), 1500);\nconsole.log("early");\n'
    result = client.run_to_exit(code, "javascript")
    assert result.stdout == "early\nlate\n"
    assert result.of("prompt") == []


@pytest.mark.parametrize("language", ["c", "cpp", "java", "ruby", "bash", "javascript"])
def test_waiting_for_input_does_not_count_against_the_wall_clock(client: RunClient, language: str) -> None:
    """Programs without a prompt hook still get `prompt` when the runner sees them blocked in a read."""
    run_id = client.start(LANGUAGES[language].input, language)
    prompt, _ = client.wait_for("prompt", run_id, timeout=30)
    assert prompt["text"] == ""
    time.sleep(5)  # longer than the test server's 4 s wall-clock limit
    client.send("stdin", {"data": "Lin\n"})
    exit_payload, seen = client.wait_for("exit", run_id, timeout=30)
    assert "Hello, Lin!" in "".join(p["data"] for name, p in seen if name == "output")
    assert exit_payload["reason"] == "exited", exit_payload
