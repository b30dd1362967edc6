"""The Socket.IO protocol in one place: event names, request validation, payload shapes.

docs/protocol.md describes the same events for people; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from socketio import packet as sio_packet
from socketio.packet import Packet

from .config import Limits
from .languages import Language

# Client -> server
RUN = "run"
STDIN = "stdin"
KILL = "kill"
# Server -> client
OUTPUT = "output"
PROMPT = "prompt"
STATUS = "status"
DIAGNOSTICS = "diagnostics"
EXIT = "exit"
ERROR = "error"
# Internal: what TextOnlyPacket turns a packet it cannot use into, so that its sender hears why
MALFORMED = "malformed packet"
CLIENT_PACKET_TYPES = (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT, sio_packet.ACK)

STREAMS = ("stdout", "stderr")
EXIT_REASONS = ("exited", "killed", "timeout", "memory", "output_limit", "compile_error", "error")
MAX_ARGS = 64
MAX_ARGS_BYTES = 4096


class TextOnlyPacket(Packet):
    """Socket.IO packets as this protocol uses them: JSON text, events with a name, one namespace.

    python-socketio drops a packet it cannot parse (and would buffer as many binary attachments as
    a packet announces). Such a packet becomes a MALFORMED event instead, which the event handlers
    answer with an `error`, so a hand-made client learns what was wrong.
    """

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        if encoded_packet is not None and len(encoded_packet) == 0:
            self._become_malformed("the message is empty")

    def decode(self, encoded_packet: Any) -> int:
        try:
            attachments = super().decode(encoded_packet)
            problem = self._problem(attachments)
        except (ValueError, TypeError, RecursionError) as error:
            problem = f"it does not parse ({str(error)[:80] or type(error).__name__})"
        if problem:
            self._become_malformed(problem)
            return 0
        return attachments

    def _problem(self, attachments: int) -> str | None:
        if attachments or self.packet_type in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
            return "binary attachments are not part of the protocol"
        if self.packet_type not in CLIENT_PACKET_TYPES:
            return f"a client cannot send packets of type {self.packet_type!r}"
        if self.packet_type == sio_packet.EVENT:
            if self.namespace not in (None, "/"):
                return f"unknown namespace {str(self.namespace)[:40]!r}; this server has only '/'"
            if not (isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
                return "an event is a JSON array whose first item is its name"
        return None

    def _become_malformed(self, problem: str) -> None:
        self.packet_type, self.namespace, self.data = sio_packet.EVENT, None, [MALFORMED, problem]
        self.attachment_count = 0


class ProtocolError(ValueError):
    """A request that is refused; its message is shown to the person as it is."""


@dataclass(frozen=True)
class RunRequest:
    language: Language
    code: str
    stdin: str = ""
    args: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StdinRequest:
    data: str = ""
    eof: bool = False


@dataclass(frozen=True)
class ExitInfo:
    reason: str
    code: int | None = None
    signal: str | None = None
    time_ms: float = 0.0
    memory_kb: int | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": self.reason,
            "signal": self.signal,
            "time_ms": round(self.time_ms, 1),
            "memory_kb": self.memory_kb,
        }


def _require_mapping(payload: object, event: str) -> Mapping[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise ProtocolError(f"'{event}' expects a JSON object")
    return payload


def _utf8_size(text: str, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ProtocolError(f"{what} is not valid UTF-8 text") from None


def parse_run(payload: object, languages: Mapping[str, Language], limits: Limits) -> RunRequest:
    payload = _require_mapping(payload, RUN)
    language_id = payload.get("language")
    if not isinstance(language_id, str) or not language_id:
        raise ProtocolError("'run' needs a 'language' (a string)")
    language = languages.get(language_id)
    if language is None:
        raise ProtocolError(f"unknown language {language_id[:40]!r}")
    code = payload.get("code")
    if not isinstance(code, str):
        raise ProtocolError("'run' needs 'code' (a string)")
    if len(code) > limits.code_bytes or _utf8_size(code, "the program") > limits.code_bytes:
        raise ProtocolError(f"the program is larger than the limit of {limits.code_bytes // 1024} KiB")
    stdin = payload.get("stdin", "")
    if stdin is None:
        stdin = ""
    if not isinstance(stdin, str):
        raise ProtocolError("'stdin' must be a string")
    if len(stdin) > limits.stdin_bytes or _utf8_size(stdin, "stdin") > limits.stdin_bytes:
        raise ProtocolError(f"stdin is larger than the limit of {limits.stdin_bytes // 1024} KiB")
    args = payload.get("args", [])
    if args is None:
        args = []
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise ProtocolError("'args' must be a list of strings")
    if len(args) > MAX_ARGS or sum(_utf8_size(arg, "an argument") for arg in args) > MAX_ARGS_BYTES:
        raise ProtocolError(f"at most {MAX_ARGS} arguments of {MAX_ARGS_BYTES} bytes in all")
    if any("\0" in arg for arg in args):
        raise ProtocolError("arguments cannot contain NUL characters")
    return RunRequest(language=language, code=code, stdin=stdin, args=tuple(args))


def parse_stdin(payload: object) -> StdinRequest:
    payload = _require_mapping(payload, STDIN)
    data = payload.get("data", "")
    eof = payload.get("eof", False)
    if data is None:
        data = ""
    if not isinstance(data, str):
        raise ProtocolError("'stdin' needs 'data' (a string)")
    if not isinstance(eof, bool):
        raise ProtocolError("'eof' must be true or false")
    if not data and not eof:
        raise ProtocolError("'stdin' needs 'data' or 'eof'")
    _utf8_size(data, "stdin")
    return StdinRequest(data=data, eof=eof)


def error_payload(message: str, run_id: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"message": message}
    if run_id:
        payload["run_id"] = run_id
    return payload
