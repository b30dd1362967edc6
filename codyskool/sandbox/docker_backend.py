"""The Docker backend: one fresh, locked-down container per run.

A container is created with its stdin open, attached to before it starts (so nothing it prints is
lost), started, and given its job through stdin. Its stdout carries the runner's frames inside
Docker's own stream multiplexing. However the run ends, the container is killed and removed.

Its runner (PID 1) is root with three capabilities, and its program a uid of its own (uids.py):
the job names the uid, and the runner switches the program's process to it before it runs
(sandbox/runner/program.py), so that nothing the program runs shares a user with the runner.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import struct
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..concurrency import Tasks
from ..config import DEFAULT_SANDBOX_UIDS, PROJECT_ROOT, Limits
from . import procfs
from .base import Backend, Execution, FramedExecution, Job, SandboxExit, SandboxFailed
from .channel import READY_FRAME
from .engine import Engine, EngineError, NotFound, engine_address
from .pool import WarmPool
from .runtimes import choose_runtime, host_memory_limit, host_pids_limit, is_gvisor
from .seccomp import security_opt
from .uids import UIDS_LABEL, UidRange

log = logging.getLogger(__name__)

RUNNER_COMMAND = ["python3", "/opt/codyskool/runner.pyc"]  # the runner package bundled by the image's build
FIRST_UID = 10001  # the image's own user; the server gives each sandbox's program a uid of its own (uids.py)
# What the runner, root in the container, keeps: switching the program's process to its uid, and
# killing whatever the program left at its end. No CAP_DAC_OVERRIDE: the program's work dir is
# the program's user's alone, and its processes' /proc files that are not world-readable stay
# shut to the runner too (none of those is needed; waits.py). No CAP_SYS_PTRACE, no CAP_CHOWN.
RUNNER_CAPABILITIES = ("SETUID", "SETGID", "KILL")
WORKDIR = "/work"
LABEL = "org.codyskool.sandbox"
INSTANCE_LABEL = "org.codyskool.instance"
RUNNER_HASH_LABEL = "org.codyskool.runner-sha256"  # set by scripts/setup-docker.sh
RUNNER_PACKAGE = PROJECT_ROOT / "sandbox" / "runner"
DOCKER_STREAM_HEADER = struct.Struct(">BxxxI")
STDOUT, STDERR = 1, 2
READY_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 8.0  # below the 10 s a service manager usually grants after SIGTERM
EXIT_GRACE_S = 2.0  # how long a container that reported its exit gets to end before a forced remove
OOM_NEWS_WAIT_S = 0.5  # how long a sandbox killed with no word gets for the engine to hear it was OOM
SIGKILL_STATUS = 128 + 9  # a container's exit code when its first process died of SIGKILL
INODES = "16k"  # files and folders in each tmpfs of a sandbox
READY_FRAME_SIZE = len(READY_FRAME)


def docker_reachable() -> bool:
    try:
        engine = Engine(timeout=3)
        try:
            engine.ping()
        finally:
            engine.close()
        return True
    except EngineError:
        return False


class DockerExecution(FramedExecution):
    def __init__(self, engine: Engine, container_id: str, sock: socket.socket, head: bytes,
                 on_removed: Callable[[], None] | None = None, uid: int = FIRST_UID) -> None:
        super().__init__()
        self.engine = engine
        self.container_id = container_id
        self.uid = uid  # the program's, which owns the work dir: the job tells the runner
        self.on_removed = on_removed  # gives the container's uid back
        self.on_finish: Callable[[], None] | None = None  # the run has ended: the pool may refill
        self.sock = sock  # the attach stream: stdin in, Docker's multiplexed stdout/stderr out
        self.buffer = bytearray(head)
        self.unread = b""
        self.runner_stderr = bytearray()
        self.job_sent = False
        self.ended = False  # the stream ended: the container has exited
        self.result: SandboxExit | None = None

    def read(self) -> bytes:
        """Demultiplex Docker's stream: stdout is the runner's channel, stderr goes to the log."""
        if self.unread:
            data, self.unread = self.unread, b""
            return data
        while True:
            while len(self.buffer) >= DOCKER_STREAM_HEADER.size:
                stream, length = DOCKER_STREAM_HEADER.unpack_from(self.buffer)
                end = DOCKER_STREAM_HEADER.size + length
                if len(self.buffer) < end:
                    break
                payload = bytes(self.buffer[DOCKER_STREAM_HEADER.size : end])
                del self.buffer[:end]
                if stream == STDOUT:
                    return payload
                if len(self.runner_stderr) < 65536:
                    self.runner_stderr += payload
            try:
                chunk = self.sock.recv(1 << 18)
            except OSError:
                chunk = b""
            if not chunk:
                self.ended = True
                return b""
            self.buffer += chunk

    def wait_ready(self, timeout: float) -> None:
        """Read the runner's first frame, `ready`, which it sends before it waits for a job."""
        self.sock.settimeout(timeout)
        try:
            data = self.read()
            while 0 < len(data) < READY_FRAME_SIZE:
                data += self.read()
        except OSError as error:
            raise SandboxFailed(f"the runner did not start: {error}") from None
        finally:
            self.sock.settimeout(None)
        if not data.startswith(READY_FRAME):
            raise SandboxFailed("the runner did not start")
        self.unread = data[READY_FRAME_SIZE:]

    def idle(self) -> bool:
        """Whether a waiting container is still there and silent, checked without blocking: its
        runner writes nothing until it gets a job, so data or end-of-stream means it has died."""
        raw = getattr(self.sock, "fd", self.sock)  # under eventlet, the real socket inside
        try:
            raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # returns only if something came
        except BlockingIOError:
            return True
        except OSError:
            pass
        return False

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as error:
            raise SandboxFailed(f"cannot write to the container: {error}") from None
        self.job_sent = True

    def kill(self) -> None:
        try:
            self.engine.kill(self.container_id)
        except NotFound:
            pass
        except EngineError as error:
            if "is not running" not in str(error):
                log.warning("cannot kill container %s: %s", self.container_id[:12], error)

    def finish(self, report: bool = True) -> SandboxExit:
        if self.result is not None:
            return self.result
        if self.on_finish is not None:
            self.on_finish, on_finish = None, self.on_finish
            on_finish()
        oom_killed = False
        error = None
        if not report and self.job_sent:
            self._let_exit(EXIT_GRACE_S)
        try:
            if report:  # else one forced remove does it all: Docker's CPU bounds runs per second
                self.engine.wait(self.container_id, timeout=30)
                state = self._final_state()
                oom_killed = bool(state.get("OOMKilled"))
                if state.get("Error"):
                    error = state["Error"]
        except (EngineError, KeyError, TypeError) as failure:
            error = f"cannot inspect container: {failure}"
        finally:
            self._close_socket()
            self._remove()
        if self.runner_stderr:
            log.warning("runner stderr in %s: %s", self.container_id[:12], self.runner_stderr[:2000])
        self.result = SandboxExit(oom_killed=oom_killed, error=error)
        return self.result

    def _final_state(self) -> dict[str, Any]:
        """The ended container's state. The engine may hear of an OOM kill just after the exit
        (the two events race), so a SIGKILL without OOMKilled is asked about again, briefly."""
        state = self.engine.inspect_container(self.container_id)["State"]
        deadline = time.monotonic() + OOM_NEWS_WAIT_S
        while state.get("ExitCode") == SIGKILL_STATUS and not state.get("OOMKilled") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
            state = self.engine.inspect_container(self.container_id)["State"]
        return state

    def _remove(self) -> None:
        """Remove the container; its uid is given back once it is gone (a container the engine
        would not remove may still run, so its uid stays taken)."""
        if remove_container(self.engine, self.container_id) is not None and self.on_removed:
            self.on_removed()
            self.on_removed = None

    def _let_exit(self, timeout: float) -> None:
        """Give a runner that has reported its exit the moment it needs to end. Removing a
        container that still runs makes Docker kill it first through one more runc process:
        about 10 ms of CPU, some 6% of a whole run on a busy two-core host."""
        deadline = time.monotonic() + timeout
        try:
            while not self.ended and (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                self.ended = not self.sock.recv(1 << 16)
        except OSError:
            pass

    def _close_socket(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def remove_container(engine: Engine, container_id: str) -> bool | None:
    """Remove a container if it is still there: True when this call removed it, False when it was
    gone or being removed already, None when the engine refused (it may still be there)."""
    try:
        engine.remove_container(container_id)
        return True
    except NotFound:
        return False
    except EngineError as error:
        if "already in progress" in str(error):
            return False
        log.error("cannot remove container %s: %s", container_id[:12], error)
    return None


def runner_hash(package: Path = RUNNER_PACKAGE) -> str | None:
    """The hash of the runner package as runner_hash() in scripts/setup-docker.sh computes it (the
    sha256 of `sha256sum *.py` in byte order of the names); None without the package."""
    try:
        files = sorted(package.glob("*.py"), key=lambda path: path.name.encode())
        listing = "".join(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n" for path in files)
    except OSError:
        return None
    return hashlib.sha256(listing.encode()).hexdigest() if files else None


def image_has_this_runner(image: dict[str, Any]) -> bool:
    """Whether the image's runner is sandbox/runner/ as it is here; True when either side cannot
    tell (an image built without the label, or a server installed without the sandbox folder)."""
    built_from = ((image.get("Config") or {}).get("Labels") or {}).get(RUNNER_HASH_LABEL)
    here = runner_hash()
    return built_from is None or here is None or built_from == here


def check_image_uids(image: dict[str, Any], name: str, uids: UidRange) -> None:
    """Refuse a uid range the image has no users for (``whoami`` and Java's user.name need them)."""
    label = ((image.get("Config") or {}).get("Labels") or {}).get(UIDS_LABEL)
    if label is None:
        log.warning("the sandbox image %s has no %s label: rebuild it with scripts/setup-docker.sh, "
                    "or programs on uids past %d have no user name", name, UIDS_LABEL, FIRST_UID)
    elif not uids.fits_in(label):
        raise SandboxFailed(f"the sandbox image {name} has users for uids {label} only, not for "
                            f"{uids.describe()}: change CODYSKOOL_SANDBOX_UID_BASE or CODYSKOOL_SANDBOX_UIDS")


def proc_fakes_for(limits: Limits, runtime: str | None, instance: str = "default") -> Path | None:
    """The faked /proc files (procfs.py) under runc with an engine on this machine, where a bind
    mount's source must be; None under gVisor, whose /proc shows the same of its own."""
    if is_gvisor(runtime) or engine_address()[0] != "unix":
        return None
    return procfs.write_fakes(limits.memory_limit_mb << 20, instance)


def sandbox_host_config(limits: Limits, cpus: float = 1.0, runtime: str = "",
                        uid: int = FIRST_UID, proc_fakes: Path | None = None) -> dict[str, Any]:
    """The isolation of every sandbox container (bench/ measures Docker with the same); `uid` is
    the one its program runs as, and owns its work dir; `proc_fakes` from proc_fakes_for."""
    memory = host_memory_limit(limits.memory_limit_mb, runtime)
    scratch = f"{limits.workdir_limit_mb}m,nr_inodes={INODES}"
    config: dict[str, Any] = {
        "NetworkMode": "none",
        "ReadonlyRootfs": True,
        "CapDrop": ["ALL"],
        "CapAdd": list(RUNNER_CAPABILITIES),  # the runner's; the program, on another uid, has none
        "SecurityOpt": ["no-new-privileges", security_opt()],  # the project's profile: seccomp.py
        "Memory": memory,
        "MemorySwap": memory,  # the same: no swap
        "PidsLimit": host_pids_limit(limits.pids_limit, runtime),
        "NanoCpus": int(cpus * 1e9),
        "Ulimits": [
            {"Name": "nofile", "Soft": limits.open_files_limit, "Hard": limits.open_files_limit},
            {"Name": "core", "Soft": 0, "Hard": 0},
        ],
        "Tmpfs": {
            # nr_inodes: millions of tiny files must fail with ENOSPC, not eat the memory limit
            WORKDIR: f"rw,exec,nosuid,nodev,size={limits.workdir_limit_mb}m,nr_inodes={INODES},"
            f"uid={uid},gid={uid},mode=700",
            "/tmp": f"rw,nosuid,nodev,size={scratch},mode=1777",
            "/dev/shm": f"rw,nosuid,nodev,noexec,size={scratch},mode=1777",
        },
        "MaskedPaths": procfs.masked_paths(runtime),  # host-wide facts in /proc: procfs.py
        "Mounts": procfs.fake_mounts(proc_fakes),
        "OomScoreAdj": 1000,  # when the host runs short of memory, a sandbox dies before the server
        "IpcMode": "private",
        # The runner's frames reach the server through the attach stream; a log driver would
        # also copy every byte a program prints to the host's disk.
        "LogConfig": {"Type": "none", "Config": {}},
    }
    if runtime:
        config["Runtime"] = runtime
    return config


def sandbox_config(image: str, command: list[str], host_config: dict[str, Any], labels: dict[str, str],
                   env: dict[str, str] | None = None) -> dict[str, Any]:
    """A sandbox container's whole create request: who it runs as, where, with what stdin. The
    runner is root, in "/": it has no way into the work dir, which only the program's uid enters."""
    return {
        "Image": image,
        "Cmd": command,
        "User": "0:0",
        "WorkingDir": "/",
        "Env": [f"{name}={value}" for name, value in (env or {}).items()],
        "Labels": labels,
        "NetworkDisabled": True,
        "Tty": False,
        "OpenStdin": True,  # the job, then the program's input, come through the attach stream
        "StdinOnce": True,
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": host_config,
    }


def job_for(job: Job, execution: DockerExecution) -> bytes:
    """The job as the container's runner gets it: with the uid its program is to run as."""
    job.uid = execution.uid
    return job.encode()


class DockerBackend(Backend):
    name = "docker"

    def __init__(self, limits: Limits, image: str, instance: str = "default", cpus: float = 1.0,
                 runtime: str = "auto", pool_sizes: dict[str, int] | None = None,
                 uids: UidRange | None = None, preloads: Mapping[str, tuple[str, ...]] | None = None) -> None:
        """`pool_sizes`: warm sandboxes per pool (a language, or one of its warm kinds, whose
        sandboxes import `preloads[kind]` before their job)."""
        self.limits = limits
        self.image = image
        self.instance = instance
        self.cpus = cpus
        self.pool_sizes = pool_sizes or {}
        self.preloads = preloads or {}
        self.pool: WarmPool[DockerExecution] | None = None
        self.closing = False
        self.uids = uids or UidRange(FIRST_UID, DEFAULT_SANDBOX_UIDS)
        try:
            self.engine = Engine()
            found = self.engine.inspect_image(image)
            if not image_has_this_runner(found):
                log.warning("the sandbox image %s was built from another sandbox/runner/ than this "
                            "server's: rebuild it with scripts/setup-docker.sh", image)
            check_image_uids(found, image, self.uids)
        except NotFound:
            message = f"the sandbox image {image!r} is missing: run scripts/setup-docker.sh"
            raise SandboxFailed(message) from None
        except EngineError as error:
            raise SandboxFailed(f"Docker is not reachable: {error}") from None
        self.runtime = choose_runtime(self.engine, runtime, image, self._probe)
        self.proc_fakes = proc_fakes_for(limits, self.runtime, instance)

    def _probe(self, runtime: str) -> str | None:
        """Start one sandbox under `runtime` until its runner is ready; what failed, if anything."""
        self.runtime, self.proc_fakes = runtime, proc_fakes_for(self.limits, runtime, self.instance)
        try:
            self._discard_warm(self._create_warm(f"probe-{runtime}"))
        except SandboxFailed as error:
            return str(error)
        return None

    def create(self, run_label: str, preload: tuple[str, ...] = ()) -> DockerExecution:
        """Create a container with a uid of its own for its program, attach to it and start it; it
        then waits for its job (having imported `preload`, a Python program's modules)."""
        if self.closing:
            raise SandboxFailed("the server is shutting down")
        uid = self.uids.acquire()
        try:
            container_id = self._create_container(run_label, uid, preload)
        except SandboxFailed:
            self.uids.release(uid)
            raise
        try:
            sock, head = self.engine.attach(container_id)
            sock.settimeout(None)  # a program may wait at a prompt for minutes
            self.engine.start(container_id)
        except EngineError as error:
            if remove_container(self.engine, container_id) is not None:
                self.uids.release(uid)
            raise SandboxFailed(f"cannot start a container: {error}") from None
        return DockerExecution(self.engine, container_id, sock, head, lambda: self.uids.release(uid), uid)

    def _create_container(self, run_label: str, uid: int, preload: tuple[str, ...]) -> str:
        labels = {LABEL: "1", INSTANCE_LABEL: self.instance, "org.codyskool.run": run_label}
        host_config = sandbox_host_config(self.limits, self.cpus, self.runtime, uid, self.proc_fakes)
        command = [*RUNNER_COMMAND, "--preload", ",".join(preload)] if preload else RUNNER_COMMAND
        config = sandbox_config(self.image, command, host_config, labels,
                                env={"LANG": "C.UTF-8", "HOME": WORKDIR})
        try:
            return self.engine.create_container(config, f"codyskool-{self.instance}-{run_label}")
        except EngineError as error:
            raise SandboxFailed(f"cannot create a container: {error}") from None

    def start_background(self, tasks: Tasks) -> None:
        if self.pool_sizes and self.pool is None:
            self.pool = WarmPool(self.pool_sizes, self._create_warm, self._discard_warm, tasks)
            self.pool.start()

    def _create_warm(self, kind: str) -> DockerExecution:
        """A container of a pool whose runner has started and waits for its job (it said it is ready)."""
        label = f"warm-{kind.replace(':', '-')}-{uuid.uuid4().hex[:8]}"
        execution = self.create(label, self.preloads.get(kind, ()))
        try:
            execution.wait_ready(READY_TIMEOUT_S)
        except SandboxFailed:
            self._discard_warm(execution)
            raise
        return execution

    def _discard_warm(self, execution: DockerExecution) -> None:
        execution.finish(report=False)

    def start(self, job: Job) -> Execution:
        job.workdir = WORKDIR
        if is_gvisor(self.runtime):  # bounds kept inside by gVisor: runtimes.host_*_limit
            memory = {"memory_limit_mb": self.limits.memory_limit_mb} if job.bounded_address_space else {}
            job.limits = {**job.limits, **memory, "pids_limit": self.limits.pids_limit}
            job.compile_limits = {**job.compile_limits, **memory, "pids_limit": self.limits.pids_limit}
        warm = self.pool.take(*(job.warm_pools or (job.language,))) if self.pool else None
        refill = self.pool.refill if self.pool else None  # once the run ends: pool.REFILL_DELAY_S
        if warm is not None:
            warm.on_finish = refill
            try:
                if not warm.idle():
                    raise SandboxFailed("it stopped while it waited")
                warm.send(job_for(job, warm))
                return warm
            except SandboxFailed as error:  # never mind: start a fresh one
                log.warning("warm container %s was unusable: %s", warm.container_id[:12], error)
                warm.finish(report=False)
        execution = self.create(uuid.uuid4().hex[:12])
        execution.on_finish = refill
        try:
            execution.send(job_for(job, execution))
        except SandboxFailed:
            execution.kill()
            execution.finish()
            raise
        return execution

    def remove_leftovers(self) -> int:
        try:
            containers = self.engine.containers({"label": [LABEL, f"{INSTANCE_LABEL}={self.instance}"]})
        except EngineError as error:
            log.error("cannot list leftover containers: %s", error)
            return 0
        for container in containers:
            remove_container(self.engine, container["Id"])
        return len(containers)

    def health(self) -> dict[str, Any]:
        pool = self.pool.stats() if self.pool else {"enabled": False}
        return {"backend": self.name, "image": self.image, "runtime": self.runtime, "pool": pool,
                "uids": {"range": self.uids.describe(), "in_use": self.uids.in_use()}}

    def close(self) -> None:
        """Remove every container of this instance, including those still being created or removed.

        A run may be inside create_container or remove_container when the server stops; the engine
        finishes such a call even if the server exits, so one sweep is not enough.
        """
        self.closing = True
        if self.pool is not None:
            self.pool.close()
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        while self.remove_leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.engine.close()
        procfs.remove_fakes(self.proc_fakes)
