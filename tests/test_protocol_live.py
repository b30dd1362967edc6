"""The Socket.IO protocol, end to end: a live server, a real client, a real sandbox.

Every test runs against each server kind in conftest.SERVER_KINDS (Docker under eventlet and under
threading, and the local backend), and checks that no container is left behind.
"""

from __future__ import annotations

import time

import pytest
import requests
from conftest import LiveServer, RunClient, brief, wait_until


@pytest.fixture(autouse=True)
def no_container_left(server: LiveServer):
    yield
    assert server.no_busy_containers(), server.containers()


def test_hello_world(client: RunClient) -> None:
    result = client.run_to_exit('print("Hello, world!")')
    assert result.stdout == "Hello, world!\n"
    assert result.exit["code"] == 0
    assert result.exit["reason"] == "exited"
    assert result.exit["signal"] is None
    assert result.exit["time_ms"] >= 0
    assert result.of("status") == [{"run_id": result.run_id, "phase": "running"}]


def test_stderr_and_exit_code(client: RunClient) -> None:
    result = client.run_to_exit('import sys\nprint("oops", file=sys.stderr)\nsys.exit(3)')
    assert result.stderr == "oops\n"
    assert result.stdout == ""
    assert (result.exit["code"], result.exit["reason"]) == (3, "exited")


def test_runtime_error_shows_a_traceback_of_the_program_only(client: RunClient) -> None:
    result = client.run_to_exit("def f():\n    return 1 / 0\n\nf()\n")
    assert result.exit["code"] == 1
    assert 'File "main.py", line 4, in <module>' in result.stderr
    assert 'File "main.py", line 2, in f' in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "runner" not in result.stderr
    [diagnostics] = result.of("diagnostics")
    assert diagnostics["items"][0]["line"] == 2


def test_output_streams_before_the_program_ends(client: RunClient) -> None:
    run_id = client.start('import time\nprint("first")\ntime.sleep(1.5)\nprint("second")')
    payload, _ = client.wait_for("output", run_id)
    first_seen = time.monotonic()
    assert payload["data"] == "first\n"
    exit_payload, seen = client.wait_for("exit", run_id)
    assert time.monotonic() - first_seen > 1.0, "the first line arrived only at the end"
    assert [p["data"] for name, p in seen if name == "output"] == ["second\n"]
    assert exit_payload["reason"] == "exited"


def test_stdout_and_stderr_arrive_in_order(client: RunClient) -> None:
    code = (
        "import sys, time\nfor i in range(3):\n    print(i)\n    time.sleep(0.05)\n"
        "    print(i, file=sys.stderr)\n    time.sleep(0.05)\n"
    )
    result = client.run_to_exit(code)
    chunks = [(p["stream"], p["data"]) for name, p in result.events if name == "output"]
    assert chunks == [(stream, f"{i}\n") for i in range(3) for stream in ("stdout", "stderr")]


def test_input_round_trip_with_prompt(client: RunClient) -> None:
    run_id = client.start('name = input("Name: ")\nprint(f"Hello, {name}!")')
    prompt, seen = client.wait_for("prompt", run_id)
    assert prompt == {"run_id": run_id, "text": "Name: "}
    assert not [p for name, p in seen if name == "output"], "the prompt text must not come as output"
    client.send("stdin", {"data": "Ada\n"})
    exit_payload, seen = client.wait_for("exit", run_id)
    assert "".join(p["data"] for name, p in seen if name == "output") == "Hello, Ada!\n"
    assert exit_payload["code"] == 0


def test_two_inputs_and_bare_prompts(client: RunClient) -> None:
    code = 'import sys\na = input()\nb = sys.stdin.readline()\nprint(int(a) + int(b))'
    run_id = client.start(code)
    first, _ = client.wait_for("prompt", run_id)
    assert first["text"] == ""
    client.send("stdin", {"data": "2\n"})
    second, _ = client.wait_for("prompt", run_id)
    assert second["text"] == ""
    client.send("stdin", {"data": "40\n"})
    _, seen = client.wait_for("exit", run_id)
    assert [p["data"] for name, p in seen if name == "output"] == ["42\n"]


def test_stdin_given_with_the_run(client: RunClient) -> None:
    result = client.run_to_exit("a = input()\nb = input()\nprint(a.upper(), b)", stdin="abc\ndef\n")
    assert result.stdout == "ABC def\n"
    assert result.exit["code"] == 0


def test_eof_on_stdin(client: RunClient) -> None:
    code = "import sys\ndata = sys.stdin.read()\nprint(len(data.splitlines()), 'lines')\ninput()"
    run_id = client.start(code)
    client.send("stdin", {"data": "one\ntwo\n"})
    client.send("stdin", {"eof": True})
    exit_payload, seen = client.wait_for("exit", run_id)
    text = "".join(p["data"] for name, p in seen if name == "output")
    assert "2 lines\n" in text
    assert "EOFError" in text
    assert exit_payload["code"] == 1


def test_args_are_passed(client: RunClient) -> None:
    result = client.run_to_exit("import sys\nprint(sys.argv)", args=["a b", "c"])
    assert result.stdout == "['main.py', 'a b', 'c']\n"


def test_stop(client: RunClient) -> None:
    run_id = client.start('import time\nprint("started")\ntime.sleep(60)')
    client.wait_for("output", run_id)
    client.send("kill", {})
    exit_payload, _ = client.wait_for("exit", run_id, timeout=10)
    assert exit_payload["reason"] == "killed"
    assert exit_payload["code"] is None


def test_new_run_replaces_the_old_one(client: RunClient) -> None:
    old = client.start('import time\nprint("old")\ntime.sleep(60)')
    client.wait_for("output", old)
    new = client.start('print("new")')
    old_exit, seen = client.wait_for("exit", old, timeout=10)
    assert old_exit["reason"] == "killed"
    assert not [p for name, p in seen if p.get("run_id") == new], "the new run began before the old ended"
    new_exit, seen = client.wait_for("exit", new)
    assert "".join(p["data"] for name, p in seen if name == "output") == "new\n"
    assert new_exit["reason"] == "exited"


def test_infinite_loop_times_out(client: RunClient) -> None:
    started = time.monotonic()
    result = client.run_to_exit("while True:\n    pass", timeout=30)
    assert result.exit["reason"] == "timeout"
    assert time.monotonic() - started < 10


def test_sleeping_program_times_out_on_the_wall_clock(client: RunClient) -> None:
    result = client.run_to_exit("import time\ntime.sleep(60)", timeout=30)
    assert result.exit["reason"] == "timeout"
    assert result.exit["time_ms"] < 8000


def test_waiting_at_a_prompt_does_not_count_against_the_wall_clock(client: RunClient) -> None:
    run_id = client.start('print("x")\nname = input("? ")\nprint("got", name)')
    client.wait_for("prompt", run_id)
    time.sleep(5)  # longer than the test server's 4 s wall-clock limit, shorter than its idle limit
    client.send("stdin", {"data": "y\n"})
    exit_payload, seen = client.wait_for("exit", run_id)
    assert exit_payload["reason"] == "exited", seen
    assert exit_payload["time_ms"] < 4000


def test_prompt_idle_limit(client: RunClient) -> None:
    run_id = client.start('input("waiting forever? ")')
    client.wait_for("prompt", run_id)
    exit_payload, _ = client.wait_for("exit", run_id, timeout=20)
    assert exit_payload["reason"] == "timeout"


def test_memory_hog(client: RunClient) -> None:
    hog = "chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))\n"
    result = client.run_to_exit(hog, timeout=30)
    assert result.exit["reason"] == "memory", brief(result.events)
    assert "stopped unexpectedly" not in result.stderr, "the sandbox itself must survive the program"


def test_output_flood_stops_at_the_limit(client: RunClient) -> None:
    result = client.run_to_exit('while True:\n    print("x" * 1000)', timeout=30)
    assert result.exit["reason"] == "output_limit"
    assert len(result.stdout.encode()) == 1 << 20
    assert len(result.of("output")) < 500, "output was not batched"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"language": "cobol", "code": "x"}, "unknown language"),
        ({"code": "print(1)"}, "needs a 'language'"),
        ({"language": "python"}, "needs 'code'"),
        ({"language": "python", "code": 42}, "needs 'code'"),
        ({"language": "python", "code": "x", "stdin": ["no"]}, "'stdin' must be a string"),
        ({"language": "python", "code": "x", "args": "no"}, "'args' must be a list"),
        ("just a string", "expects a JSON object"),
        ({"language": "python", "code": "#" * (65 << 10)}, "larger than the limit"),
        ({"language": "python", "code": "#" * (10 << 20)}, "larger than the limit"),
        ({"language": "python", "code": "x", "stdin": "y" * ((1 << 20) + 1)}, "stdin is larger"),
        ({"language": "python", "code": "\ud800"}, "not valid UTF-8"),
    ],
)
def test_malformed_runs_get_an_error(client: RunClient, payload: object, message: str) -> None:
    ack = client.sio.call("run", payload, timeout=30)
    assert ack["ok"] is False and message in ack["error"]
    result = client.run_to_exit("print(1)")
    assert result.stdout == "1\n", "the connection must still work"
    assert [p for name, p in result.events if name == "error"] == [], "a refused run is reported once"
    client.send("run", payload)  # no acknowledgement asked for: the refusal comes as an `error`
    name, error = client.next_event()
    assert name == "error" and message in error["message"]


@pytest.mark.parametrize(
    ("event", "payload", "message"),
    [
        ("stdin", {"data": "x\n"}, "no program is running"),
        ("stdin", {"data": 5}, "needs 'data'"),
        ("stdin", "text", "expects a JSON object"),
        ("stdin", {}, "needs 'data' or 'eof'"),
        ("launch_missiles", {}, "unknown event"),
    ],
)
def test_malformed_events_get_an_error(client: RunClient, event: str, payload: object, message: str) -> None:
    client.send(event, payload)
    name, error = client.next_event()
    assert name == "error" and message in error["message"]


def test_stdin_over_the_limit_is_refused(client: RunClient) -> None:
    run_id = client.start("input()")
    client.wait_for("prompt", run_id)
    client.send("stdin", {"data": "z" * ((1 << 20) + 10)})
    error, _ = client.wait_for("error", timeout=10)
    assert "over the limit" in error["message"]
    client.send("kill", {})
    assert client.wait_for("exit", run_id)[0]["reason"] == "killed"


def test_disconnect_mid_run_removes_the_sandbox(server: LiveServer) -> None:
    leaving = RunClient(server.url)
    run_id = leaving.start('import time\nprint("hi", flush=True)\ntime.sleep(60)')
    leaving.wait_for("output", run_id)
    if server.backend == "docker":
        assert wait_until(lambda: server.busy_containers() == 1), server.containers()
    leaving.close()
    assert server.no_busy_containers()
    other = RunClient(server.url)
    assert other.run_to_exit('print("still fine")').stdout == "still fine\n"
    other.close()


def test_http_api(server: LiveServer) -> None:
    languages = requests.get(server.url + "/api/languages", timeout=10).json()["languages"]
    assert "python" in [language["id"] for language in languages]
    answer = requests.post(
        server.url + "/api/run",
        json={"language": "python", "code": "print(input().upper())", "stdin": "shout\n"},
        timeout=30,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["stdout"] == "SHOUT\n"
    assert body["exit"]["reason"] == "exited" and body["exit"]["code"] == 0
    refused = requests.post(server.url + "/api/run", json={"language": "nope", "code": ""}, timeout=10)
    assert refused.status_code == 400 and "unknown language" in refused.json()["error"]
    health = requests.get(server.url + "/api/health", timeout=10).json()
    assert health["backend"] == server.backend


def test_home_is_the_programs_own_folder(client: RunClient) -> None:
    result = client.run_to_exit('cd ~ && ls', language="bash")
    assert result.stdout == "main.sh\n", result.stderr
