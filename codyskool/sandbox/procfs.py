"""What a sandbox sees of the host through /proc, and what it is shown instead.

Under runc a container's /proc is the host kernel's: /proc/stat, /proc/interrupts, /proc/vmstat,
/proc/pressure and the idle time in /proc/uptime move with the whole machine's activity, so a
program can watch other people's runs through them, and /proc/meminfo shows the host's memory.
Per file:

* faked, by a read-only bind mount of a file the server writes (runc allows mounts on the files
  lxcfs fakes): /proc/meminfo (MemTotal = the sandbox's memory limit, so that Node's
  os.totalmem() and `free` tell the truth that matters), /proc/loadavg (zeros) and /proc/stat
  (zero CPU times, a boot time of the server's start), as gVisor shows them;
* masked (MaskedPaths: /dev/null on a file, an empty read-only tmpfs on a folder), because no
  program needs them and every runtime copes with their absence: MASKED below;
* left: /proc/cpuinfo (the CPU model; Node's os.cpus() reads it), and /proc/self/mounts, whose
  overlay lower dirs name host paths and cannot be masked (each process has its own).

The files are static: MemFree does not fall as the program allocates. The same host-wide numbers
stay one system call away under runc (sysinfo(2): load, RAM, uptime), so the fakes keep programs'
views of their limits plausible more than they hide; docs/security.md lists what remains.
gVisor (runsc) has a /proc of its own with these values already, and gets Docker's defaults only.
"""

from __future__ import annotations

import os
import re
import shutil
import stat as file_stat
import tempfile
import time
from pathlib import Path
from typing import Any

from .runtimes import is_gvisor

# Docker's own list (moby's oci/defaults.go): the list a container is given replaces it.
DOCKER_MASKED = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
)  # fmt: skip
MASKED = {
    "/proc/pressure": "the whole machine's CPU, memory and I/O stalls (PSI)",
    "/proc/uptime": "its idle time is every CPU's; Node falls back to clock_gettime(CLOCK_BOOTTIME)",
    "/proc/interrupts": "per-CPU interrupt counts: a classic side channel on other activity",
    "/proc/softirqs": "as /proc/interrupts",
    "/proc/schedstat": "per-CPU scheduler counters",
    "/proc/vmstat": "the host's paging activity",
    "/proc/zoneinfo": "the host's memory, zone by zone",
    "/proc/buddyinfo": "the host's free memory fragments",
    "/proc/pagetypeinfo": "as /proc/buddyinfo",
    "/proc/diskstats": "the host's disk activity",
    "/proc/partitions": "the host's disks",
    "/proc/swaps": "the host's swap files",
    "/proc/modules": "the host kernel's loaded modules",
    "/proc/cmdline": "the host kernel's boot options",
    "/proc/sys/kernel/random/boot_id": "names this boot of the host",
}
FAKED = ("meminfo", "loadavg", "stat")


def masked_paths(runtime: str | None) -> list[str]:
    """HostConfig.MaskedPaths for a sandbox under `runtime` (None: Docker's default, runc)."""
    if is_gvisor(runtime):
        return list(DOCKER_MASKED)
    return [*DOCKER_MASKED, *MASKED]


def meminfo(memory_bytes: int) -> str:
    kib = memory_bytes >> 10
    values = {"MemTotal": kib, "MemFree": kib, "MemAvailable": kib}
    zeros = ("Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)", "Inactive(anon)",
             "Active(file)", "Inactive(file)", "Unevictable", "Mlocked", "SwapTotal", "SwapFree",
             "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem")
    values.update(dict.fromkeys(zeros, 0))
    return "".join(f"{name + ':':<16}{value:>8} kB\n" for name, value in values.items())


def stat(cpus: int, boot_time: int) -> str:
    idle = " 0" * 10
    lines = [f"cpu {idle}", *(f"cpu{number}{idle}" for number in range(cpus)), "intr 0", "ctxt 0",
             f"btime {boot_time}", "processes 0", "procs_running 0", "procs_blocked 0", "softirq" + " 0" * 11]
    return "\n".join(lines) + "\n"


def fake_contents(memory_bytes: int, cpus: int, boot_time: int) -> dict[str, str]:
    """The faked files of /proc by name."""
    loadavg = "0.00 0.00 0.00 0/0 0\n"
    return {"meminfo": meminfo(memory_bytes), "loadavg": loadavg, "stat": stat(cpus, boot_time)}


def write_fakes(memory_bytes: int, instance: str = "default") -> Path:
    """A new private folder with the faked files, readable by every sandbox user; the folders an
    earlier server of the same instance left (it was killed) go first, as its containers do."""
    prefix = "codyskool-proc-" + re.sub(r"[^A-Za-z0-9_.-]", "_", instance) + "-"
    remove_stale(Path(tempfile.gettempdir()), prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    for name, text in fake_contents(memory_bytes, os.cpu_count() or 1, int(time.time())).items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o444)
    return folder


def fake_mounts(folder: Path | None) -> list[dict[str, Any]]:
    """HostConfig.Mounts that put the faked files over the host's (none without a folder)."""
    if folder is None:
        return []
    return [{"Type": "bind", "Source": str(folder / name), "Target": f"/proc/{name}", "ReadOnly": True}
            for name in FAKED]


def remove_stale(parent: Path, prefix: str) -> None:
    """Remove mkdtemp's folders of `prefix` (8 characters follow it, so that instance "a" does
    not match "a-b") in `parent` that are this user's own (never a link)."""
    for folder in parent.glob(prefix + "?" * 8):
        found = folder.lstat()
        if file_stat.S_ISDIR(found.st_mode) and found.st_uid == os.geteuid():
            shutil.rmtree(folder, ignore_errors=True)


def remove_fakes(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
