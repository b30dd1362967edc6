"""The harness itself (tests/live.py), with no server and no Docker."""

from __future__ import annotations

import inspect
import threading

import engineio
import socketio
from live import deliver_in_order

# --- deliver_in_order patches engineio.Client._trigger_event: fail when upstream changes it ------


def test_engineio_still_triggers_events_as_deliver_in_order_expects() -> None:
    """The method exists and takes (event, *args, run_async=...), and the client still calls it
    with run_async=True for each message: the thread per message that the patch undoes."""
    trigger = engineio.Client._trigger_event
    inspect.signature(trigger).bind(engineio.Client(), "message", {"x": 1}, run_async=False)
    assert "run_async" in inspect.getsource(trigger)
    assert "_trigger_event('message', pkt.data, run_async=True)" in inspect.getsource(
        engineio.Client._receive_packet
    )


def test_without_run_async_a_message_is_handled_in_the_caller_s_thread() -> None:
    client = engineio.Client()
    seen: list[threading.Thread] = []
    client.on("message", lambda data: seen.append(threading.current_thread()) or data)
    assert client._trigger_event("message", "hello", run_async=False) == "hello"
    assert seen == [threading.current_thread()]


def test_deliver_in_order_turns_off_run_async_for_messages_only() -> None:
    client = socketio.Client(reconnection=False)
    calls: list[tuple[str, dict]] = []
    client.eio._trigger_event = lambda event, *args, **kwargs: calls.append((event, kwargs))
    assert deliver_in_order(client) is client
    client.eio._trigger_event("message", "data", run_async=True)
    client.eio._trigger_event("connect", run_async=False, reraise=True)
    client.eio._trigger_event("disconnect", "reason")
    assert calls == [
        ("message", {"run_async": False}),
        ("connect", {"run_async": False, "reraise": True}),
        ("disconnect", {}),
    ]
