"""docs/protocol.md names exactly the events, phases and exit reasons the code has."""

from __future__ import annotations

import re

from conftest import ROOT

from codyskool.protocol import ClientEvent, ExitReason, Phase, ServerEvent, Stream

DOC = (ROOT / "docs" / "protocol.md").read_text()


def section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end > 0 else None]


def headings(text: str) -> set[str]:
    return set(re.findall(r"^### `([^`]+)`$", text, flags=re.MULTILINE))


def test_the_events_each_way() -> None:
    assert headings(section("Client → server")) == {str(event) for event in ClientEvent}
    assert headings(section("Server → client")) == {str(event) for event in ServerEvent}


def test_the_exit_reasons() -> None:
    exit_section = section("Server → client").split("### `exit`")[1].split("### `error`")[0]
    documented = set(re.findall(r"^  \* `([a-z_]+)` —", exit_section, flags=re.MULTILINE))
    assert documented == {str(reason) for reason in ExitReason}


def test_the_phases_and_streams() -> None:
    status = section("Server → client").split("### `status`")[1].split("###")[0]
    assert set(re.findall(r'"(\w+)"', status.split("—")[0])) - {"run_id", "phase", "position"} == {
        str(phase) for phase in Phase}
    output = section("Server → client").split("### `output`")[1].split("###")[0]
    assert set(re.findall(r'"(std\w+)"', output)) == {str(stream) for stream in Stream}
