"""The sandbox's view of /proc as data: what is masked, what is faked, under which runtime.

tests/test_redteam_kernel.py compares what real sandboxes read with the host's own files.
"""

from __future__ import annotations

import stat as file_stat

from codyskool.config import Limits
from codyskool.sandbox import procfs
from codyskool.sandbox.docker_backend import sandbox_host_config

LXCFS_FILES = {"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
               "/proc/uptime", "/proc/loadavg", "/proc/slabinfo"}  # where runc lets a bind mount go


def test_docker_s_own_masks_are_kept_under_every_runtime() -> None:
    for runtime in (None, "runc", "runsc"):
        assert set(procfs.DOCKER_MASKED) <= set(procfs.masked_paths(runtime))
    assert "/proc/kcore" in procfs.DOCKER_MASKED and "/sys/firmware" in procfs.DOCKER_MASKED


def test_runc_masks_host_wide_counters_and_gvisor_needs_none() -> None:
    runc = procfs.masked_paths(None)
    assert {"/proc/pressure", "/proc/uptime", "/proc/interrupts", "/proc/vmstat"} <= set(runc)
    assert procfs.masked_paths("runsc") == list(procfs.DOCKER_MASKED)


def test_meminfo_shows_the_sandbox_s_memory_limit() -> None:
    fields = dict(line.split(":") for line in procfs.meminfo(256 << 20).splitlines())
    assert fields["MemTotal"].split() == ["262144", "kB"]
    assert fields["MemAvailable"].split() == ["262144", "kB"] and fields["SwapTotal"].split() == ["0", "kB"]


def test_stat_has_a_line_per_cpu_and_no_time_spent() -> None:
    lines = procfs.stat(3, 1700000000).splitlines()
    cpus = [line for line in lines if line.startswith("cpu")]
    assert [line.split()[0] for line in cpus] == ["cpu", "cpu0", "cpu1", "cpu2"]
    assert all(set(line.split()[1:]) == {"0"} for line in cpus)
    assert "btime 1700000000" in lines


def test_fakes_are_read_only_files_bound_where_runc_allows() -> None:
    folder = procfs.write_fakes(128 << 20)
    try:
        mounts = procfs.fake_mounts(folder)
        assert {mount["Target"] for mount in mounts} <= LXCFS_FILES
        for mount in mounts:
            assert mount["Type"] == "bind" and mount["ReadOnly"]
            assert file_stat.S_IMODE((folder / mount["Target"].rsplit("/", 1)[1]).stat().st_mode) == 0o444
        assert "MemTotal:         131072 kB" in (folder / "meminfo").read_text()
    finally:
        procfs.remove_fakes(folder)
    assert not folder.exists()
    assert procfs.fake_mounts(None) == []


def test_a_killed_server_s_fakes_go_when_the_next_one_starts() -> None:
    left = procfs.write_fakes(64 << 20, "test/procfs")
    other = procfs.write_fakes(64 << 20, "test-procfs-other")
    try:
        assert "codyskool-proc-test_procfs-" in left.name
        again = procfs.write_fakes(64 << 20, "test/procfs")
        assert again.exists() and not left.exists() and other.exists()
    finally:
        for folder in (left, other, again):
            procfs.remove_fakes(folder)


def test_every_sandbox_gets_the_masks_and_the_fakes_it_is_given() -> None:
    limits = Limits.defaults()
    config = sandbox_host_config(limits, proc_fakes=None)
    assert config["MaskedPaths"] == procfs.masked_paths(None) and config["Mounts"] == []
    assert sandbox_host_config(limits, runtime="runsc")["MaskedPaths"] == list(procfs.DOCKER_MASKED)
