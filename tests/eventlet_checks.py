"""The private details of eventlet that codyskool/patches.py leans on (see test_patches.py).

Not collected by the main run: importing eventlet into the test process breaks Playwright's
greenlets for the browser tests that come after, so tests/test_patches.py runs this file in a
pytest of its own.
"""

from __future__ import annotations

import inspect
import os
import warnings

import pytest

from codyskool import patches


def eventlet_module(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import importlib

        return importlib.import_module(f"eventlet.{name}")


def test_eventlet_websocket_details_the_hardening_relies_on() -> None:
    websocket = eventlet_module("websocket")
    assert "self.support_legacy_versions = True" in inspect.getsource(websocket.WebSocketWSGI.__init__)
    assert "elif self.support_legacy_versions:" in inspect.getsource(websocket.WebSocketWSGI.__call__)
    push = websocket.RFC6455WebSocket.Message.push
    assert list(inspect.signature(push).parameters) == ["self", "data", "final"]
    assert "max_frame_length" in inspect.getsource(websocket.RFC6455WebSocket.Message.__init__)
    assert inspect.signature(websocket.FailedConnectionError).parameters.keys() == {"status", "message"}


def test_eventlet_http_protocol_details_the_guard_relies_on() -> None:
    wsgi = eventlet_module("wsgi")
    protocol = wsgi.HttpProtocol
    for name in ("handle", "_read_request_line", "parse_request", "handle_one_request"):
        assert callable(getattr(protocol, name, None)), name
    one_request = inspect.getsource(protocol.handle_one_request)
    assert one_request.index("_read_request_line()") < one_request.index("parse_request()")
    assert "except socket.timeout" in inspect.getsource(wsgi.Server.process_request)
    guarded = patches.guarded_protocol(1.0, 2)
    assert issubclass(guarded, protocol) and guarded.open_sockets == {}


def test_a_message_is_bounded_however_it_is_fragmented() -> None:
    websocket = eventlet_module("websocket")

    class Message:
        max_frame_length = 10

        def __init__(self) -> None:
            self.data: list[bytes] = []

        def push(self, data: bytes, final: bool = False) -> None:
            self.data.append(data)

    patches._bound_assembled_messages(Message, websocket.FailedConnectionError)
    message = Message()
    message.push(b"x" * 6)
    with pytest.raises(websocket.FailedConnectionError) as refused:
        message.push(b"x" * 6, final=True)
    assert refused.value.status == 1009 and message.data == [b"x" * 6]


def test_eventlet_unmasks_through_the_method_that_is_replaced() -> None:
    """(harden_eventlet replaces it; this checks the original it replaces still fits.)"""
    RFC6455WebSocket = eventlet_module("websocket").RFC6455WebSocket
    original = RFC6455WebSocket.__dict__["_apply_mask"]
    assert isinstance(original, staticmethod)
    assert list(inspect.signature(original.__func__).parameters) == ["data", "mask", "length", "offset"]
    for length, offset in ((0, 0), (1, 3), (13, 2), (4096, 1)):
        data, mask = os.urandom(length + 5), os.urandom(4)
        expected = original.__func__(data, mask, length=length, offset=offset)
        assert patches.apply_mask(data, mask, length=length, offset=offset) == bytes(expected)
