"""The JSON API and the HTTP side of the error taxonomy, in process on the fake backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeBackend
from inprocess import make_app

from codyskool.errors import ConfigError


def test_run_answers_with_everything_the_program_wrote(app) -> None:
    answer = app.test_client().post("/api/run", json={"language": "python", "code": "echo", "stdin": "Ada\n"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["stdout"] == "Name? Hello, Ada\n" and body["stderr"] == ""
    assert body["exit"]["reason"] == "exited" and "run_id" not in body["exit"]


def test_refusals_have_their_status_and_message(app) -> None:
    client = app.test_client()
    for payload, status, message in [
        ({"language": "cobol", "code": "x"}, 400, "unknown language 'cobol'"),
        ({"language": "python"}, 400, "needs 'code'"),
        ([1, 2], 400, "expected a JSON object"),
        ({"language": "python", "code": "#" * (65 << 10)}, 413, "larger than the limit of 64 KiB"),
    ]:
        answer = client.post("/api/run", json=payload)
        assert answer.status_code == status, (payload, answer.get_json())
        assert message in answer.get_json()["error"]


def test_too_many_runs_is_429(tmp_path: Path, backend: FakeBackend) -> None:
    client = make_app(tmp_path, backend, RUNS_PER_MINUTE_PER_IP=1).test_client()
    assert client.post("/api/run", json={"language": "python", "code": "x"}).status_code == 200
    answer = client.post("/api/run", json={"language": "python", "code": "x"})
    assert answer.status_code == 429 and "too many runs from your address" in answer.get_json()["error"]


def test_a_bad_embed_is_an_error_page_not_a_traceback(app) -> None:
    answer = app.test_client().get("/embed?language=python&code=" + "%23" * (65 << 10))
    assert answer.status_code == 413 and b"larger than the limit of 64 KiB" in answer.data
    assert b"Traceback" not in answer.data and b"Back to the editor" in answer.data


def test_health_and_languages(app) -> None:
    client = app.test_client()
    health = client.get("/api/health").get_json()
    assert health["status"] == "ok" and health["backend"] == "fake"
    assert health["runs"] == {"running": 0, "queued": 0}
    ids = [language["id"] for language in client.get("/api/languages").get_json()["languages"]]
    assert ids[:3] == ["python", "c", "cpp"]


def test_create_app_starts_nothing(tmp_path: Path, backend: FakeBackend) -> None:
    make_app(tmp_path, backend)
    assert not backend.started_background and not backend.swept
    assert list(tmp_path.iterdir()) == [], "no database made before start-up"


def test_a_pool_of_no_language_stops_start_up(tmp_path: Path, backend: FakeBackend) -> None:
    make_app(tmp_path, backend, POOL_SIZES={"python": 2, "python:graphics": 1, "c": 1})
    with pytest.raises(ConfigError, match=r"unknown pools: pyhton:graphics \(there are .*python:graphics"):
        make_app(tmp_path, backend, POOL_SIZES={"pyhton:graphics": 1})


def test_start_up_sweeps_migrates_and_starts_the_pool(tmp_path: Path, backend: FakeBackend) -> None:
    from codyskool.startup import start

    app = make_app(tmp_path / "data", backend)
    start(app)
    assert backend.started_background and backend.swept
    assert (tmp_path / "data" / "codyskool.db").exists(), "the database was migrated"
    answer = app.test_client().post("/api/snippets", json={"language": "python", "code": "print(1)"})
    assert answer.status_code == 201, answer.get_json()


def test_a_body_over_what_a_program_can_be_is_refused_unread(app) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit < 8 << 20
    for path in ("/api/run", "/api/snippets"):
        answer = app.test_client().post(path, data=b"{" + b" " * limit + b"}",
                                        content_type="application/json")
        assert answer.status_code == 413, (path, answer.status_code)


class DockerLike(FakeBackend):
    """What the page and the health check are told by a Docker backend under a given runtime."""

    name = "docker"

    def __init__(self, runtime: str) -> None:
        super().__init__()
        self.runtime = runtime

    def health(self) -> dict:
        return {"backend": self.name, "runtime": self.runtime, "image": "sandbox"}


def test_the_page_and_the_health_check_say_which_runtime_runs_the_code(tmp_path: Path) -> None:
    for runtime, badge in (("runsc", "Sandbox: Docker + gVisor"), ("runc", "Sandbox: Docker<")):
        client = make_app(tmp_path / runtime, DockerLike(runtime)).test_client()
        assert client.get("/api/health").get_json()["runtime"] == runtime
        page = client.get("/").get_data(as_text=True)
        assert badge in page and f'data-runtime="{runtime}"' in page
