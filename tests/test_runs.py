"""How a run ends, as its person sees it: in process, on the fake backend's scripted sandboxes."""

from __future__ import annotations

from fakes import FakeBackend
from inprocess import InProcessClient, text_of


def test_output_over_the_limit_stops_the_run(sio: InProcessClient, backend: FakeBackend) -> None:
    exit_payload, events = sio.run_to_exit("flood")
    assert exit_payload["reason"] == "output_limit"
    assert len(text_of(events)) == 64 << 10, "exactly the limit reaches the person"
    assert backend.all_removed()


def test_a_program_over_the_wall_clock_is_stopped(sio: InProcessClient) -> None:
    exit_payload, events = sio.run_to_exit("forever")
    assert exit_payload["reason"] == "timeout" and text_of(events) == "started\n"


def test_an_unanswered_prompt_times_out(sio: InProcessClient) -> None:
    run_id = sio.start("echo")
    sio.wait_for("prompt", run_id)
    exit_payload, _ = sio.wait_for("exit", run_id, timeout=10)
    assert exit_payload["reason"] == "timeout"


def test_time_at_a_prompt_is_not_run_time(sio: InProcessClient) -> None:
    run_id = sio.start("echo")
    sio.wait_for("prompt", run_id)
    import time

    time.sleep(0.3)
    sio.send("stdin", {"data": "x\n"})
    exit_payload, _ = sio.wait_for("exit", run_id)
    assert exit_payload["reason"] == "exited" and exit_payload["time_ms"] < 250


def test_a_compile_error_comes_with_diagnostics(sio: InProcessClient) -> None:
    exit_payload, events = sio.run_to_exit("compile_error", language="c")
    assert exit_payload["reason"] == "compile_error" and exit_payload["code"] == 1
    diagnostics = [payload for name, payload in events if name == "diagnostics"]
    assert diagnostics and diagnostics[0]["items"][0]["line"] == 1
    assert [name for name, _ in events].index("diagnostics") < [name for name, _ in events].index("exit")


def test_an_oom_kill_is_a_memory_exit(sio: InProcessClient) -> None:
    exit_payload, _ = sio.run_to_exit("oom")
    assert exit_payload["reason"] == "memory" and exit_payload["signal"] == "SIGKILL"


def test_a_sandbox_killed_whole_for_memory_says_only_that(sio: InProcessClient, backend: FakeBackend) -> None:
    exit_payload, events = sio.run_to_exit("oom_sandbox")
    assert exit_payload["reason"] == "memory" and exit_payload["signal"] == "SIGKILL"
    assert text_of(events, "stderr") == "", "no 'stopped unexpectedly' beside an out-of-memory exit"
    assert backend.all_removed()


def test_the_cpu_limit_is_a_timeout(sio: InProcessClient) -> None:
    exit_payload, _ = sio.run_to_exit("cpu_bound")
    assert exit_payload["reason"] == "timeout" and exit_payload["signal"] == "SIGXCPU"


def test_a_sandbox_that_ends_without_a_report(sio: InProcessClient, backend: FakeBackend) -> None:
    exit_payload, events = sio.run_to_exit("crash")
    assert exit_payload["reason"] == "error"
    assert text_of(events) == "before\n"
    assert text_of(events, "stderr") == "The sandbox stopped unexpectedly.\n"
    assert backend.all_removed()


def test_a_sandbox_that_cannot_start(sio: InProcessClient, backend: FakeBackend) -> None:
    backend.fail_next_start = True
    exit_payload, events = sio.run_to_exit("print(1)")
    assert exit_payload["reason"] == "error" and exit_payload["signal"] is None
    assert "The sandbox failed to run the program" in text_of(events, "stderr")
    assert sio.run_to_exit("print(1)")[0]["reason"] == "exited", "the next run works"


def test_a_character_split_across_writes_arrives_whole(sio: InProcessClient) -> None:
    _, events = sio.run_to_exit("split_character")
    assert text_of(events) == "☃\n"


def test_the_job_has_the_limits_under_their_settings_names(sio: InProcessClient, backend: FakeBackend):
    sio.run_to_exit("print(1)", args=["a", "b"], stdin="in")
    job = backend.executions[0].job
    assert job.limits == {"cpu_time_limit_s": 3.0, "open_files_limit": 256, "workdir_limit_mb": 32}
    assert job.compile_limits["cpu_time_limit_s"] == 20.0
    assert (job.main, job.args, job.stdin, job.run) == ("main.py", ["a", "b"], "in", None)


def test_prompt_text_counts_as_output(sio: InProcessClient) -> None:
    exit_payload, events = sio.run_to_exit("prompt_flood")
    assert exit_payload["reason"] == "output_limit"
    assert sum(len(p["text"]) for name, p in events if name == "prompt") == 64 << 10


def test_a_program_busy_again_after_a_prompt_is_on_the_wall_clock_again(sio: InProcessClient) -> None:
    """Resumed ends the prompt's wait: the run is stopped by the wall clock (2 s here), and the
    time it ran is counted; still waiting, it would be stopped by the prompt idle limit at 0 s."""
    exit_payload, events = sio.run_to_exit("busy_after_a_prompt")
    assert [name for name, _ in events].count("prompt") == 1
    assert exit_payload["reason"] == "timeout" and exit_payload["time_ms"] >= 1900, exit_payload


def test_a_forged_nested_frame_fails_the_sandbox_not_the_server(sio: InProcessClient) -> None:
    exit_payload, events = sio.run_to_exit("nested_prompt")
    assert exit_payload["reason"] == "error"
    assert text_of(events, "stderr") == "The sandbox stopped unexpectedly.\n"
