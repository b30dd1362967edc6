"""classify_exit: how a run ended, from the runner's report, the backend and the server's stop."""

from __future__ import annotations

import pytest

from codyskool.exits import classify_exit, needs_sandbox_report
from codyskool.protocol import ExitReason
from codyskool.sandbox import SandboxExit
from codyskool.sandbox.events import ExitReport

CPU_LIMIT_S = 10.0


def classify(report: ExitReport | None, *, oom: bool = False, stopped: ExitReason | None = None,
             started: bool = True):
    return classify_exit(report, SandboxExit(oom_killed=oom), stopped, sandbox_started=started,
                         cpu_time_limit_s=CPU_LIMIT_S, time_ms=12.5)


@pytest.mark.parametrize(
    ("report", "reason", "code", "signal"),
    [
        (ExitReport(code=0), ExitReason.EXITED, 0, None),
        (ExitReport(code=3), ExitReason.EXITED, 3, None),
        (ExitReport(signal="SIGSEGV"), ExitReason.EXITED, None, "SIGSEGV"),
        (ExitReport(phase="compile", code=1), ExitReason.COMPILE_ERROR, 1, None),
        (ExitReport(signal="SIGXCPU", cpu_ms=10_000), ExitReason.TIMEOUT, None, "SIGXCPU"),
        (ExitReport(signal="SIGKILL", cpu_ms=10_050), ExitReason.TIMEOUT, None, "SIGKILL"),
        (ExitReport(signal="SIGKILL", cpu_ms=20), ExitReason.EXITED, None, "SIGKILL"),
        (ExitReport(code=1, memory_exceeded=True), ExitReason.MEMORY, None, "SIGKILL"),
    ],
)
def test_the_runner_report_decides(report: ExitReport, reason: ExitReason, code, signal) -> None:
    info = classify(report)
    assert (info.reason, info.code, info.signal, info.time_ms) == (reason, code, signal, 12.5)


def test_an_oom_kill_seen_by_the_backend_is_memory() -> None:
    info = classify(ExitReport(signal="SIGKILL", cpu_ms=3, memory_kb=900), oom=True)
    assert (info.reason, info.signal, info.memory_kb) == (ExitReason.MEMORY, "SIGKILL", 900)


def test_a_stop_by_the_server_wins_over_the_report() -> None:
    for reason in (ExitReason.KILLED, ExitReason.TIMEOUT, ExitReason.OUTPUT_LIMIT, ExitReason.ERROR):
        info = classify(ExitReport(code=0), stopped=reason)
        assert (info.reason, info.signal, info.code) == (reason, "SIGKILL", None)
    assert classify(None, stopped=ExitReason.KILLED, started=False).signal is None


def test_no_report_and_no_stop_is_a_sandbox_error() -> None:
    assert classify(None).reason == ExitReason.ERROR


def test_when_the_backend_must_be_asked() -> None:
    assert needs_sandbox_report(None, None)
    assert needs_sandbox_report(None, ExitReport(signal="SIGKILL"))
    assert not needs_sandbox_report(None, ExitReport(code=0))
    assert not needs_sandbox_report(None, ExitReport(signal="SIGKILL", memory_exceeded=True))
    assert not needs_sandbox_report(ExitReason.KILLED, None)
