"""The sandbox's seccomp profile, as data: what it allows, what it refuses and how.

Whether the languages still run under it is tests/test_languages.py's part; whether the refused
calls are refused in a real container is tests/test_redteam_kernel.py's.
"""

from __future__ import annotations

import errno
import json

from codyskool.config import Limits
from codyskool.sandbox import seccomp
from codyskool.sandbox.docker_backend import sandbox_host_config


def rules_for(name: str) -> list[dict]:
    return [rule for rule in seccomp.profile()["syscalls"] if name in rule["names"]]


def test_every_sandbox_gets_the_profile_as_json() -> None:
    options = sandbox_host_config(Limits.defaults())["SecurityOpt"]
    assert "no-new-privileges" in options
    [opt] = [option for option in options if option.startswith("seccomp=")]
    assert json.loads(opt.removeprefix("seccomp=")) == seccomp.profile()


def test_what_is_refused_by_default_and_for_which_tables() -> None:
    profile = seccomp.profile()
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert set(profile["architectures"]) == {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"}  # no 32-bit table


def test_io_uring_and_aio_are_not_implemented() -> None:
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register", "io_setup", "io_submit", "clone3"):
        [rule] = rules_for(name)
        assert rule["action"] == "SCMP_ACT_ERRNO" and rule["errnoRet"] == errno.ENOSYS, name


def test_socket_families_are_an_allowlist_without_vsock() -> None:
    for name in ("socket", "socketpair"):
        rules = rules_for(name)
        assert rules and all(rule["action"] == "SCMP_ACT_ALLOW" for rule in rules)
        assert all(rule["args"] == [{"index": 0, "value": rule["args"][0]["value"], "valueTwo": 0,
                                     "op": "SCMP_CMP_EQ"}] for rule in rules), "only by family"
        assert 40 not in {rule["args"][0]["value"] for rule in rules}  # AF_VSOCK
    assert {rule["args"][0]["value"] for rule in rules_for("socket")} == {1, 2, 10, 16}


def test_calls_a_program_never_needs_are_not_allowed() -> None:
    allowed = set(seccomp.allowed_names())
    never = {"ptrace", "process_vm_readv", "keyctl", "add_key", "request_key", "userfaultfd",
             "perf_event_open", "bpf", "kexec_load", "mount", "umount2", "unshare", "setns",
             "modify_ldt", "vmsplice", "init_module", "open_by_handle_at", "socket", "personality"}
    assert allowed.isdisjoint(never)
    assert allowed.isdisjoint(seccomp.LEFT_OUT)
    assert {rule["args"][0]["value"] for rule in rules_for("personality")} == {0, 0xFFFFFFFF}


def test_clone_is_allowed_only_without_namespace_flags() -> None:
    [rule] = rules_for("clone")
    [arg] = rule["args"]
    assert arg["op"] == "SCMP_CMP_MASKED_EQ" and arg["valueTwo"] == 0
    for flag in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000):
        assert arg["value"] & flag, hex(flag)


def test_each_call_is_named_once() -> None:
    names = [name for group in seccomp.ALLOWED.values() for name in group]
    assert len(names) == len(set(names))
    assert not [name for name in names if name.endswith(("32", "64")) and name not in ("pread64", "pwrite64",
                "prlimit64", "getdents64", "fadvise64")], "32-bit-only names"
