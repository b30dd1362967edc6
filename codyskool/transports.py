"""Engine.IO connections before they join the Socket.IO namespace.

A client's Socket.IO connections are capped per address once they join (service.py, which tells
an over-cap client why), but an Engine.IO connection (a WebSocket or a long-poll session) exists
before it joins, and one that never does would hold a place for ever. The gate caps those per
address too, with the same number, and closes any that has not joined within JOIN_TIMEOUT_S.
patches.py wires it into python-socketio.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .admission import client_address

if TYPE_CHECKING:
    from .service import RunService

REMEMBER_REFUSED = 1024


class TransportGate:
    def __init__(self, service: RunService, join_timeout_s: float, close: Callable[[str], None]) -> None:
        self.service = service
        self.join_timeout_s = join_timeout_s
        self.close = close  # closes an Engine.IO connection by its id
        self.pending: dict[str, str] = {}  # Engine.IO id -> client, until it joins or goes
        self.clients: dict[str, str] = {}  # Engine.IO id -> client, while it is open
        self.turned_away: set[str] = set()  # refused by the namespace (told why), closed soon
        self.refused: OrderedDict[str, None] = OrderedDict()  # the latest refused ids
        self.lock = threading.Lock()

    def opened(self, eio_sid: str, environ: dict[str, Any]) -> bool:
        """A new Engine.IO connection: False refuses it (its client holds enough already)."""
        client = client_address(environ, self.service.admission.settings.trust_proxy)
        cap = self.service.admission.settings.max_connections_per_ip
        with self.lock:
            waiting = sum(1 for other in self.pending.values() if other == client)
            if waiting >= cap:
                self.refused[eio_sid] = None
                while len(self.refused) > REMEMBER_REFUSED:
                    self.refused.popitem(last=False)
                return False
            self.pending[eio_sid] = client
            self.clients[eio_sid] = client
        self.service.tasks.spawn(self._close_if_not_joined, eio_sid)
        return True

    def left(self, eio_sid: str) -> None:
        """It left the namespace but stays open: it waits to join again, counted and timed."""
        with self.lock:
            client = self.clients.get(eio_sid)
            if client is None or eio_sid in self.pending:
                return
            self.pending[eio_sid] = client
        self.service.tasks.spawn(self._close_if_not_joined, eio_sid)

    def was_refused(self, eio_sid: str) -> bool:
        """Whether the connection was refused (so a namespace join on it must be too)."""
        with self.lock:
            return eio_sid in self.refused

    def joined(self, eio_sid: str) -> None:
        with self.lock:
            self.pending.pop(eio_sid, None)
            self.turned_away.discard(eio_sid)

    def join_refused(self, eio_sid: str) -> None:
        """The namespace refused it (its client was told why): it no longer takes a place, and is
        closed when its join time is up unless it joins after all."""
        with self.lock:
            if self.pending.pop(eio_sid, None) is not None:
                self.turned_away.add(eio_sid)

    def closed(self, eio_sid: str) -> None:
        with self.lock:
            self.pending.pop(eio_sid, None)
            self.clients.pop(eio_sid, None)
            self.turned_away.discard(eio_sid)

    def _close_if_not_joined(self, eio_sid: str) -> None:
        self.service.tasks.sleep(self.join_timeout_s)
        with self.lock:
            waiting = eio_sid in self.pending or eio_sid in self.turned_away
        if waiting:
            self.close(eio_sid)
            self.closed(eio_sid)
