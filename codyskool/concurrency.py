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
        from .patches import harden_eventlet

        harden_eventlet()
    return async_mode


class Tasks:
    """Background tasks, sleeps and events for whichever async mode Flask-SocketIO runs."""

    def __init__(self, socketio: SocketIO) -> None:
        self.socketio = socketio

    def spawn(self, target: Callable[..., Any], *args: Any) -> Any:
        return self.socketio.start_background_task(target, *args)

    def sleep(self, seconds: float) -> None:
        self.socketio.sleep(seconds)

    def call_later(self, delay: float, callback: Callable[[], Any]) -> None:
        def later() -> None:
            self.sleep(delay)
            callback()

        self.spawn(later)

    def event(self) -> Any:
        return self.socketio.server.eio.create_event()
