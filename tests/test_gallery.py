"""The examples gallery: its files, its API and partial, and every example running in the sandbox."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

import pytest
import requests
from conftest import LiveServer, require_docker

from codyskool.gallery import GALLERY_DIR, INDEX_FILE, extension
from codyskool.languages import load_languages

LANGUAGES = load_languages()
INDEX = tomllib.loads((GALLERY_DIR / INDEX_FILE).read_text())
NAMES = ["hello", "input", "loops", "functions", "game"]  # every language's
PICTURES = ["plot", "chart", "pixels", "spiral", "flower", "steer"]  # Python's only: they draw


def names_of(language: str) -> list[str]:
    return NAMES + (PICTURES if language == "python" else [])


# What each example is given on stdin, and what it must print with that input. The game's secret
# is random, but 0 is always too low and 101 always too high; then the input ends.
INPUTS = {"input": "Ada\n41\n", "game": "fifty\n0\n101\n"}
EXPECTED = {
    "hello": ["Hello, world!"],
    "input": ["Hello, Ada!", "Next year you will be 42."],
    "loops": ["Counting: 5", "1 + 2 + ... + 100 = 5050", "*********"],
    "functions": ["5! = 120", "2 3 5 7 11 13 17 19 23 29", "Hello, Ada!", "Welcome, Alan!"],
    "game": ["Please type a whole number.", "Too low.", "Too high.", "Bye! The number was"],
    "plot": ["Drawing the plot...", "Done."],
    "chart": ["How many of each kind:", "dog     3"],
    "pixels": ["An image of 256 x 160 pixels:"],
    "spiral": ["A spiral of 72 lines."],
    "flower": ["Six petals, filled."],
    "steer": ["Click the canvas, then use the arrow keys."],  # no page to press keys: it ends
}
# The pictures each shows through POST /api/run (a turtle's drawing comes as one SVG: no canvas)
PICTURES_SHOWN = {"plot": ["image/png"], "chart": ["image/png"], "pixels": ["image/png"],
                  "spiral": ["image/svg+xml"], "flower": ["image/svg+xml"], "steer": ["image/svg+xml"]}


def test_index_names_every_example_with_a_title():
    assert list(INDEX) == NAMES + PICTURES
    for name, entry in INDEX.items():
        assert entry["title"] and entry["summary"]
        assert entry.get("languages") == (["python"] if name in PICTURES else None)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_every_example(language: str):
    folder = GALLERY_DIR / language
    files = sorted(path.name for path in folder.iterdir())
    ext = extension(LANGUAGES[language])
    assert files == sorted(f"{name}{ext}" for name in names_of(language))
    for name in names_of(language):
        text = (folder / f"{name}{ext}").read_text(encoding="utf-8")
        assert text.endswith("\n") and text.strip()
        if language == "java":
            assert "public class Main" in text  # the file runs as Main.java


def test_no_stray_gallery_folders():
    folders = {path.name for path in GALLERY_DIR.iterdir() if path.is_dir()}
    assert folders == set(LANGUAGES)


@pytest.fixture(scope="module")
def gallery_server() -> Iterator[LiveServer]:
    """A Docker server (every language) with the default CPU and wall-clock limits, which the
    examples are written for (importing pandas and matplotlib takes more than the test limits'
    3 s of CPU time under gVisor); its examples run in the sandbox."""
    require_docker()
    live = LiveServer("docker", "eventlet", extra_env={"CODYSKOOL_CPU_TIME_LIMIT_S": "10",
                                                        "CODYSKOOL_WALL_TIME_LIMIT_S": "30"})
    yield live
    live.stop()


def test_examples_api_and_partial(gallery_server: LiveServer):
    listed = requests.get(gallery_server.url + "/api/examples", timeout=10).json()["examples"]
    assert {(e["language"], e["name"]) for e in listed} == {
        (lang, name) for lang in LANGUAGES for name in names_of(lang)
    }
    one = requests.get(gallery_server.url + "/api/examples/ruby/game", timeout=10).json()
    assert one["title"] == "Guess the number"
    assert one["code"] == (GALLERY_DIR / "ruby" / "game.rb").read_text()
    for missing in ["/api/examples/ruby/nope", "/api/examples/cobol/hello", "/api/examples/ruby/..%2Findex"]:
        response = requests.get(gallery_server.url + missing, timeout=10)
        assert response.status_code == 404 and "error" in response.json(), missing

    partial = requests.get(gallery_server.url + "/gallery", params={"language": "cpp"}, timeout=10)
    assert partial.status_code == 200
    assert "<html" not in partial.text  # a fragment for htmx
    assert partial.text.count('class="chip gallery-item"') == 5
    assert 'data-language="cpp" data-name="game"' in partial.text.replace("\n              ", " ")
    assert "Guess the number" in partial.text


def run_example(server: LiveServer, language: str, name: str) -> tuple[str, dict]:
    path = GALLERY_DIR / language / f"{name}{extension(LANGUAGES[language])}"
    payload = {"language": language, "code": path.read_text(), "stdin": INPUTS.get(name, "")}
    response = requests.post(server.url + "/api/run", json=payload, timeout=120)
    assert response.status_code == 200, response.text
    return f"{language}/{name}", response.json()


def test_every_example_runs(gallery_server: LiveServer):
    jobs = [(language, name) for language in sorted(LANGUAGES) for name in names_of(language)]
    results = [run_example(gallery_server, *job) for job in jobs]  # one at a time: two cores
    failures = []
    for (label, result), (_, name) in zip(results, jobs, strict=True):
        exit_info = result["exit"]
        ok = (exit_info.get("reason"), exit_info.get("code")) == ("exited", 0)
        pictures = [shown["mime"] for shown in result["displays"]]
        if pictures != PICTURES_SHOWN.get(name, []):
            failures.append(f"{label}: pictures {pictures}")
        if not ok or not all(line in result["stdout"] for line in EXPECTED[name]):
            failures.append(
                f"{label}: {exit_info} stdout={result['stdout'][-400:]!r} stderr={result['stderr'][-300:]!r}"
            )
    assert not failures, "\n".join(failures)
