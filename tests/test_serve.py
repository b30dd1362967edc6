"""`python -m codyskool serve` refuses what would be unsafe, with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from conftest import ROOT, LiveServer, require_docker
from live import DOCKER, IMAGE, free_port

from codyskool.sandbox.docker_backend import RUNNER_HASH_LABEL, image_has_this_runner, runner_hash

pytestmark = pytest.mark.live  # every test starts a server


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


def test_the_image_label_and_the_server_hash_the_runner_package_alike() -> None:
    """scripts/setup-docker.sh labels the image with the hash that image_has_this_runner checks."""
    script = (ROOT / "scripts" / "setup-docker.sh").read_text()
    start = script.index("runner_hash() {")
    function = script[start : script.index("\n}\n", start) + 3]
    shell = subprocess.run(["bash", "-c", f"{function}runner_hash sandbox/runner"], cwd=ROOT,
                           capture_output=True, text=True, check=True, timeout=30)
    here = runner_hash()
    assert here and shell.stdout.strip() == here
    assert image_has_this_runner({"Config": {"Labels": {RUNNER_HASH_LABEL: here}}})
    assert not image_has_this_runner({"Config": {"Labels": {RUNNER_HASH_LABEL: "0000"}}})
    assert image_has_this_runner({"Config": {"Labels": None}})  # built without the label: cannot tell


def test_a_sandbox_image_built_from_another_runner_is_named_at_start_up() -> None:
    """After a code update without an image rebuild the image's runner is not the server's."""
    require_docker()
    stale = f"codyskool-sandbox:stale-{uuid.uuid4().hex[:8]}"
    DOCKER.build(f"FROM {IMAGE}\nLABEL org.codyskool.runner-sha256=0000\n", stale)
    try:
        for image, warned in ((stale, True), (IMAGE, False)):
            live = LiveServer("docker", "eventlet", {"CODYSKOOL_SANDBOX_IMAGE": image,
                                                     "CODYSKOOL_POOL_SIZES": "off"})
            try:
                output = live.output()
            finally:
                live.stop()
            said = "built from another sandbox/runner/" in output
            assert said == warned, f"{image}: warned={said}\n{output}"
    finally:
        DOCKER.remove_image(stale)
