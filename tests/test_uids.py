"""A uid of its own for every live sandbox: the range, and the Docker backend's use of it.

The backend runs here on a stub engine (no Docker): what matters is which uid each container's
program is given (its work dir's owner, and the job's `uid`) and when the uid is given back. The
runner itself is root in every container. tests/test_redteam_kernel.py checks in real containers
that two sandboxes do not share a per-user quota; tests/test_runner_uid.py that the runner
switches the program to the job's uid.
"""

from __future__ import annotations

import marshal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from codyskool.config import Limits, load_config
from codyskool.errors import ConfigError, SandboxFailed
from codyskool.sandbox import docker_backend
from codyskool.sandbox.base import Job
from codyskool.sandbox.channel import JOB_HEADER
from codyskool.sandbox.docker_backend import DockerBackend
from codyskool.sandbox.engine import EngineError
from codyskool.sandbox.uids import UIDS_LABEL, NoFreeUid, UidRange


def test_each_uid_goes_to_one_holder_until_it_is_given_back() -> None:
    uids = UidRange(20000, 3)
    taken = [uids.acquire() for _ in range(3)]
    assert sorted(taken) == [20000, 20001, 20002]
    with pytest.raises(NoFreeUid) as refused:
        uids.acquire()
    assert isinstance(refused.value, SandboxFailed) and "20000-20002" in str(refused.value)
    uids.release(20001)
    assert uids.acquire() == 20001
    assert uids.in_use() == 3


def test_the_uid_free_longest_comes_first() -> None:
    uids = UidRange(20000, 3)
    first, second, _ = (uids.acquire() for _ in range(3))
    uids.release(second)
    uids.release(first)
    assert uids.acquire() == second


def test_a_uid_is_given_back_once() -> None:
    uids = UidRange(20000, 2)
    uid = uids.acquire()
    uids.release(uid)
    with pytest.raises(ValueError, match="not held"):
        uids.release(uid)
    with pytest.raises(ValueError, match="not held"):
        uids.release(20001)
    assert uids.in_use() == 0


def test_threads_never_get_the_same_uid() -> None:
    uids = UidRange(20000, 400)
    got: list[int] = []
    lock = threading.Lock()

    def take(count: int) -> None:
        for _ in range(count):
            uid = uids.acquire()
            with lock:
                got.append(uid)

    threads = [threading.Thread(target=take, args=(100,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == len(set(got)) == 400


def test_an_image_must_have_users_for_the_whole_range() -> None:
    uids = UidRange(10001, 64)
    assert uids.fits_in("10001-11024") and uids.fits_in(None)
    assert not uids.fits_in("10001-10032") and not uids.fits_in("10002-11024")
    with pytest.raises(ValueError):
        UidRange(10001, 0)


def test_the_range_is_a_setting() -> None:
    config = load_config({"CODYSKOOL_SANDBOX_UID_BASE": "30001", "CODYSKOOL_SANDBOX_UIDS": "8",
                          "CODYSKOOL_MAX_CONCURRENT_RUNS": "4"})
    assert (config["SANDBOX_UID_BASE"], config["SANDBOX_UIDS"]) == (30001, 8)
    assert load_config({})["SANDBOX_UIDS"] >= load_config({})["MAX_CONCURRENT_RUNS"] * 2


def test_fewer_uids_than_runs_at_once_and_the_pool_stop_start_up() -> None:
    """The benchmark let 64 runs in with 64 uids: under gVisor, whose sandboxes take longer to
    remove, 61 of its runs were refused with "the server is running as many programs as it can"."""
    with pytest.raises(ConfigError, match=r"CODYSKOOL_SANDBOX_UIDS \(64\).*\(67\); set it to 134"):
        load_config({"CODYSKOOL_MAX_CONCURRENT_RUNS": "64"})
    assert load_config({"CODYSKOOL_MAX_CONCURRENT_RUNS": "64", "CODYSKOOL_SANDBOX_UIDS": "134"})


# --- the Docker backend on a stub engine ---------------------------------------------------------


class StubEngine:
    """The engine calls DockerBackend makes, recorded; `refuse` names calls that fail."""

    def __init__(self) -> None:
        self.created: dict[str, dict[str, Any]] = {}
        self.removed: list[str] = []
        self.refuse: set[str] = set()
        self.image_labels = {UIDS_LABEL: "10001-11024"}
        self.peers: list[socket.socket] = []

    def _maybe_refuse(self, call: str) -> None:
        if call in self.refuse:
            raise EngineError(f"{call} refused", 500)

    def inspect_image(self, image: str) -> dict[str, Any]:
        return {"Config": {"Labels": self.image_labels}}

    def info(self) -> dict[str, Any]:
        return {"Runtimes": {"runc": {}}, "DefaultRuntime": "runc"}  # auto: runc, no probe sandbox

    def create_container(self, config: dict[str, Any], name: str | None = None) -> str:
        self._maybe_refuse("create")
        container_id = f"c{len(self.created)}"
        self.created[container_id] = config
        return container_id

    def attach(self, container_id: str) -> tuple[socket.socket, bytes]:
        ours, theirs = socket.socketpair()
        self.peers.append(theirs)
        return ours, b""

    def start(self, container_id: str) -> None:
        self._maybe_refuse("start")

    def remove_container(self, container_id: str) -> None:
        self._maybe_refuse("remove")
        self.removed.append(container_id)

    def close(self) -> None:
        for peer in self.peers:
            peer.close()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubEngine]:
    engine = StubEngine()
    monkeypatch.setattr(docker_backend, "Engine", lambda *args, **kwargs: engine)
    monkeypatch.setattr(docker_backend, "proc_fakes_for", lambda *args: None)
    yield engine
    engine.close()


def backend(count: int = 2) -> DockerBackend:
    return DockerBackend(Limits.defaults(), "image", uids=UidRange(10001, count))


def uid_of(config: dict[str, Any]) -> int:
    """The uid a container's program gets: the owner of its work dir."""
    options = dict(option.partition("=")[::2] for option in config["HostConfig"]["Tmpfs"]["/work"].split(","))
    assert options["gid"] == options["uid"] and options["mode"] == "700"
    return int(options["uid"])


def sent_job(peer: socket.socket) -> dict[str, Any]:
    """The job a container's runner was sent, read from the stub's end of its attach stream."""
    header = peer.recv(JOB_HEADER.size)
    (length,) = JOB_HEADER.unpack(header)
    body = b""
    while len(body) < length:
        body += peer.recv(length - len(body))
    return marshal.loads(body)


def test_each_containers_program_gets_its_own_uid_and_work_dir(stub: StubEngine) -> None:
    docker = backend()
    first, second = docker.create("a"), docker.create("b")
    assert [uid_of(stub.created[execution.container_id]) for execution in (first, second)] == [10001, 10002]
    assert (first.uid, second.uid) == (10001, 10002)
    for execution in (first, second):
        config = stub.created[execution.container_id]
        assert (config["User"], config["WorkingDir"]) == ("0:0", "/")  # the runner: root, outside /work
        assert config["HostConfig"]["CapDrop"] == ["ALL"]
        assert config["HostConfig"]["CapAdd"] == ["SETUID", "SETGID", "KILL"]
        assert "no-new-privileges" in config["HostConfig"]["SecurityOpt"]
    assert docker.health()["uids"] == {"range": "10001-10002", "in_use": 2}


def test_the_job_names_the_uid_of_its_container(stub: StubEngine) -> None:
    """The runner learns its program's uid from the job, whichever container the job goes to."""
    docker = backend()
    docker.create("other")  # holds 10001
    execution = docker.start(Job(files={"main.py": "pass"}, main="main.py", run=None))
    assert execution.uid == 10002 == uid_of(stub.created[execution.container_id])
    job = sent_job(stub.peers[-1])
    assert (job["uid"], job["workdir"]) == (10002, "/work")


def test_a_full_range_refuses_before_docker_is_asked(stub: StubEngine) -> None:
    docker = backend(1)
    docker.create("a")
    with pytest.raises(NoFreeUid):
        docker.create("b")
    assert len(stub.created) == 1


def test_the_uid_comes_back_when_the_container_is_removed(stub: StubEngine) -> None:
    docker = backend(1)
    execution = docker.create("a")
    execution.finish(report=False)
    assert stub.removed == ["c0"] and docker.uids.in_use() == 0
    execution.finish(report=False)  # a second finish gives nothing back twice
    assert uid_of(stub.created[docker.create("b").container_id]) == 10001


def test_a_container_the_engine_would_not_remove_keeps_its_uid(stub: StubEngine) -> None:
    docker = backend(2)
    execution = docker.create("a")
    stub.refuse.add("remove")
    execution.finish(report=False)
    assert docker.uids.in_use() == 1  # it may still run: its uid is not handed out again
    assert uid_of(stub.created[docker.create("b").container_id]) == 10002


def test_a_container_that_fails_to_start_gives_its_uid_back(stub: StubEngine) -> None:
    docker = backend(1)
    stub.refuse.add("start")
    with pytest.raises(SandboxFailed, match="cannot start"):
        docker.create("a")
    stub.refuse = {"create"}
    with pytest.raises(SandboxFailed, match="cannot create"):
        docker.create("b")
    assert docker.uids.in_use() == 0 and stub.removed == ["c0"]


def test_an_image_without_users_for_the_range_is_refused(stub: StubEngine) -> None:
    stub.image_labels = {UIDS_LABEL: "10001-10001"}
    with pytest.raises(SandboxFailed, match="CODYSKOOL_SANDBOX_UIDS"):
        backend(2)
