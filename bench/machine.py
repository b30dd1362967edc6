"""What the machine is, for the report: cores, CPU, memory, kernel, Docker, the commit."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.harness import IMAGE, MB, ROOT
from codyskool.sandbox.engine import Engine, EngineError


def read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def first_field(text: str, prefix: str, separator: str) -> str | None:
    """The value of the first line of text that starts with prefix, after separator."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return line.split(separator, 1)[1].strip().strip('"')
    return None


def git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def machine_info() -> dict[str, Any]:
    """Cores, memory, kernel, Docker and its runtime: what the numbers depend on."""
    mem_total = first_field(read_text("/proc/meminfo"), "MemTotal:", ":") or "0 kB"
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": first_field(read_text("/proc/cpuinfo"), "model name", ":") or platform.processor(),
        "memory_mb": round(int(mem_total.split()[0]) * 1024 / MB),
        "kernel": platform.release(),
        "os": first_field(read_text("/etc/os-release"), "PRETTY_NAME=", "=") or platform.system(),
        "python": platform.python_version(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    engine = Engine(timeout=30)
    try:
        version, details = engine.request("GET", "/version"), engine.info()
        info["docker"] = {
            "version": version.get("Version"),
            "api": version.get("ApiVersion"),
            "default_runtime": details.get("DefaultRuntime"),
            "runtimes": sorted(details.get("Runtimes") or {}),
            "cgroup": details.get("CgroupVersion"),
            "storage": details.get("Driver"),
            "image": IMAGE,
        }
    except EngineError as error:
        info["docker"] = {"error": str(error)}
    finally:
        engine.close()
    return info
