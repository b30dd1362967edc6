"""`python -m codyskool serve` refuses what would be unsafe, with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT, free_port


def serve(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "codyskool", "serve"],
        cwd=ROOT, env={**os.environ, "CODYSKOOL_PORT": str(free_port()), **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_local_backend_is_not_served_beyond_loopback() -> None:
    result = serve(CODYSKOOL_BACKEND="local", CODYSKOOL_HOST="0.0.0.0")
    assert result.returncode != 0
    assert "refusing to serve the local backend on 0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_stops_start_up_with_its_name() -> None:
    result = serve(CODYSKOOL_BACKEND="local", CODYSKOOL_WALL_TIME_LIMIT_S="soon")
    assert result.returncode != 0
    assert "CODYSKOOL_WALL_TIME_LIMIT_S" in result.stderr
    assert "Traceback" not in result.stderr
