"""Helpers for Python programs that talk to CodySkool over Socket.IO (the tests and bench/ do)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socketio


def deliver_in_order(client: socketio.Client) -> socketio.Client:
    """Make the client hand events to their handlers one by one, in the order they arrived.

    python-engineio's client runs each incoming message's handler in a thread of its own, so two
    events sent in order (an `output`, then the `exit`) can reach the handlers swapped. A browser's
    client delivers them in order, and so must a client that relies on the server's ordering.
    """
    trigger = client.eio._trigger_event

    def trigger_in_order(event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)

    client.eio._trigger_event = trigger_in_order
    return client
