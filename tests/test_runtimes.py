"""Which runtime the Docker backend runs sandboxes under (codyskool/sandbox/runtimes.py), against
an engine that only answers /info: no Docker needed."""

from __future__ import annotations

import logging

import pytest

from codyskool.sandbox import SandboxFailed, runtimes
from codyskool.sandbox.runtimes import choose_runtime, host_memory_limit, host_pids_limit


class InfoOnly:
    def __init__(self, registered: list[str], default: str = "runc") -> None:
        self.answer = {"Runtimes": {name: {} for name in registered}, "DefaultRuntime": default}

    def info(self) -> dict:
        return self.answer


@pytest.fixture(autouse=True)
def no_remembered_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtimes, "probes", {})


def probe_that(result: str | None, tried: list[str]):
    def probe(runtime: str) -> str | None:
        tried.append(runtime)
        return result
    return probe


def test_auto_takes_gvisor_where_a_sandbox_starts_under_it() -> None:
    tried: list[str] = []
    assert choose_runtime(InfoOnly(["runc", "runsc"]), "auto", "image", probe_that(None, tried)) == "runsc"
    assert choose_runtime(InfoOnly(["runc", "runsc"]), "auto", "image", probe_that(None, tried)) == "runsc"
    assert tried == ["runsc"]  # once per image in a process


def test_auto_keeps_the_default_and_says_why_when_the_probe_fails(caplog: pytest.LogCaptureFixture) -> None:
    tried: list[str] = []
    with caplog.at_level(logging.WARNING):
        chosen = choose_runtime(InfoOnly(["runc", "runsc"]), "auto", "image", probe_that("no start", tried))
    assert chosen == "runc"
    assert "no start" in caplog.text and "sandboxes run under runc" in caplog.text


def test_auto_without_gvisor_is_the_engines_default_and_starts_nothing() -> None:
    tried: list[str] = []
    engine = InfoOnly(["runc", "crun"], default="crun")
    assert choose_runtime(engine, "auto", "image", probe_that(None, tried)) == "crun"
    assert tried == []


def test_a_runtime_named_outright_must_be_registered() -> None:
    tried: list[str] = []
    assert choose_runtime(InfoOnly(["runc", "runsc"]), "runc", "image", probe_that(None, tried)) == "runc"
    with pytest.raises(SandboxFailed, match="CODYSKOOL_DOCKER_RUNTIME=runsc, but the engine has only runc"):
        choose_runtime(InfoOnly(["runc"]), "runsc", "image", probe_that(None, tried))
    assert tried == []


def test_under_gvisor_the_host_pids_limit_leaves_room_for_its_own_threads() -> None:
    assert host_pids_limit(64, "runc") == 64
    assert host_pids_limit(64, "runsc") == 64 + runtimes.GVISOR_HOST_THREADS


def test_under_gvisor_the_host_memory_limit_leaves_room_for_its_own_kernel() -> None:
    assert host_memory_limit(256, "runc") == 256 << 20
    assert host_memory_limit(256, "runsc") == (256 + runtimes.GVISOR_MEMORY_HEADROOM_MB) << 20
