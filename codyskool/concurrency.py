"""The one place that knows which async mode the server runs under.

Everything else starts tasks, sleeps and waits through ``Tasks``, which only uses Flask-SocketIO's
async-neutral API, so moving from eventlet to threading (or gevent) is the ASYNC_MODE setting.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing Flask-SocketIO here would come before the monkey patching
    from flask_socketio import SocketIO


def prepare_async_mode(async_mode: str | None = None) -> str:
    """Patch the standard library for the async mode; call before anything opens a socket."""
    async_mode = async_mode or os.environ.get("CODYSKOOL_ASYNC_MODE", "eventlet")
    if async_mode == "eventlet":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eventlet warns that it is in maintenance mode
            import eventlet

        eventlet.monkey_patch()
        speed_up_websocket_unmasking()
    return async_mode


def speed_up_websocket_unmasking() -> None:
    """eventlet unmasks incoming WebSocket frames a byte at a time in Python (~1 s per MB, in the
    server's only thread): a client sending one big message would stall every other client."""
    from eventlet.websocket import RFC6455WebSocket

    def apply_mask(data: bytes, mask: bytes, length: int | None = None, offset: int = 0) -> bytes:
        length = len(data) if length is None else length
        key = bytes(mask[(offset + index) % 4] for index in range(4))
        stream = (key * (length // 4 + 1))[:length]
        masked = int.from_bytes(data[:length], "big") ^ int.from_bytes(stream, "big")
        return masked.to_bytes(length, "big")

    RFC6455WebSocket._apply_mask = staticmethod(apply_mask)


class Tasks:
    """Background tasks, sleeps and events for whichever async mode Flask-SocketIO runs."""

    def __init__(self, socketio: SocketIO) -> None:
        self.socketio = socketio

    def spawn(self, target: Callable[..., Any], *args: Any) -> Any:
        return self.socketio.start_background_task(target, *args)

    def sleep(self, seconds: float) -> None:
        self.socketio.sleep(seconds)

    def event(self) -> Any:
        return self.socketio.server.eio.create_event()
