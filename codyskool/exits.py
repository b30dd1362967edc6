"""How a run ended, told from what is known at its end: ``classify_exit`` and its helpers."""

from __future__ import annotations

import logging

from .protocol import ExitInfo, ExitReason
from .sandbox import Execution, SandboxExit
from .sandbox.events import ExitReport

log = logging.getLogger(__name__)


def report_of(execution: Execution) -> SandboxExit:
    """The backend's word on how the sandbox ended; never raises, since the exit must be sent."""
    try:
        return execution.finish()
    except Exception as error:
        log.exception("cannot tell how the sandbox ended")
        return SandboxExit(error=str(error))


def needs_sandbox_report(stop_reason: ExitReason | None, report: ExitReport | None) -> bool:
    """Whether the exit can only be told after asking the backend how the sandbox ended (a
    SIGKILL with no word from the runner may be the kernel's OOM killer)."""
    if stop_reason is not None:
        return False
    return report is None or (not report.memory_exceeded and report.signal == "SIGKILL")


def cpu_limit_hit(report: ExitReport, cpu_time_limit_s: float) -> bool:
    """SIGXCPU comes from the CPU-time rlimit; SIGKILL too when the program ignored SIGXCPU."""
    if report.signal == "SIGXCPU":
        return True
    return report.signal == "SIGKILL" and (report.cpu_ms or 0) >= cpu_time_limit_s * 1000


def classify_exit(report: ExitReport | None, sandbox_exit: SandboxExit, stop_reason: ExitReason | None,
                  *, sandbox_started: bool, cpu_time_limit_s: float, time_ms: float) -> ExitInfo:
    """The `exit` of a run from the runner's report, the backend's word on the sandbox, and the
    reason the server stopped it (if it did)."""
    memory_kb = report.memory_kb if report else None
    if stop_reason is not None:
        return ExitInfo(stop_reason, signal="SIGKILL" if sandbox_started else None, time_ms=time_ms,
                        memory_kb=memory_kb)
    if sandbox_exit.oom_killed or (report and report.memory_exceeded):
        return ExitInfo(ExitReason.MEMORY, signal=(report and report.signal) or "SIGKILL", time_ms=time_ms,
                        memory_kb=memory_kb)
    if report is None:
        return ExitInfo(ExitReason.ERROR, time_ms=time_ms)
    reason = ExitReason.EXITED
    if report.compile_failed:
        reason = ExitReason.COMPILE_ERROR
    elif cpu_limit_hit(report, cpu_time_limit_s):
        reason = ExitReason.TIMEOUT
    return ExitInfo(reason, code=report.code, signal=report.signal, time_ms=time_ms, memory_kb=memory_kb)
