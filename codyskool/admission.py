"""Admission control: who may run a program, and when.

* A global limit on programs running at once. A run over it waits in a FIFO queue and hears its
  place in line (`status` ``{"phase": "queued", "position": n}``) until a slot frees up.
* A per-client share of that limit, so that one person with many tabs (or a script) cannot take
  every slot: their extra runs wait in the same queue while other clients' runs go ahead.
* Rate limits on runs started per minute, per client and per connection (session).
(The cap on Socket.IO connections per client is the connections' owner's: codyskool/service.py.)

A client is an IP address (an IPv6 /64, which one machine may freely hop around in). Behind a
reverse proxy the address comes from X-Forwarded-For only when TRUST_PROXY says how many proxies
put it there.

A ticket is in the queue from the moment its run is accepted (so a burst of runs is counted at
once), takes a slot when one is free, and gives it back exactly once, whichever way the run ends;
a ticket stopped while it waits never takes one. Nothing here
blocks except ``wait``, which sleeps through the async-neutral ``Tasks``.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .concurrency import Tasks
from .config import ADMISSION, defaults, group_values
from .errors import Busy

POLL_S = 0.1  # how soon a queued run notices that it was stopped
UNKNOWN_CLIENT = "unknown"


@dataclass(frozen=True)
class AdmissionSettings:
    """The server-wide bounds, each the option of the same name (config.py has the defaults)."""

    max_concurrent_runs: int
    max_concurrent_runs_per_ip: int
    max_queued_runs: int
    max_queued_runs_per_ip: int
    runs_per_minute_per_ip: int
    runs_per_minute_per_session: int
    max_connections_per_ip: int
    shares_per_minute_per_ip: int
    trust_proxy: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AdmissionSettings:
        return cls(**group_values(config, ADMISSION))

    @classmethod
    def defaults(cls, **overrides: Any) -> AdmissionSettings:
        return cls(**{**group_values(defaults(), ADMISSION), **overrides})


# --- who is asking ------------------------------------------------------------------------------


def client_address(environ: Mapping[str, Any], trusted_proxies: int = 0) -> str:
    """The client a request counts against: its IP address, as the trusted proxies saw it."""
    address = environ.get("REMOTE_ADDR") or UNKNOWN_CLIENT
    if trusted_proxies > 0:
        forwarded = [hop.strip() for hop in str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
        forwarded = [hop for hop in forwarded if hop]
        if len(forwarded) >= trusted_proxies:  # the address the outermost trusted proxy saw
            address = forwarded[-trusted_proxies]
    return client_key(address)


def client_key(address: str) -> str:
    """One key per client: an IPv4 address, or the /64 network of an IPv6 one."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64] or UNKNOWN_CLIENT
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def decrement(counts: dict[str, int], key: str) -> None:
    """One less of key in a table of counts per client; a key whose count reaches zero goes."""
    count = counts.get(key, 0) - 1
    if count > 0:
        counts[key] = count
    else:
        counts.pop(key, None)


# --- rate limits --------------------------------------------------------------------------------


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds for each key (a sliding window).

    Not thread-safe on its own: Admission calls it under its lock.
    """

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.hits: dict[str, deque[float]] = {}
        self.pruned_at = clock()

    def allows(self, key: str) -> bool:
        hits = self.hits.get(key)
        if hits is None:
            return self.limit > 0
        self._expire(hits, self.clock())
        return len(hits) < self.limit

    def add(self, key: str) -> None:
        now = self.clock()
        self.hits.setdefault(key, deque()).append(now)
        if now - self.pruned_at > self.window:  # keys nobody used for a window go, so memory stays flat
            self.pruned_at = now
            for stale in [name for name, hits in self.hits.items() if not self._expire(hits, now)]:
                del self.hits[stale]

    def forget(self, key: str) -> None:
        self.hits.pop(key, None)

    def _expire(self, hits: deque[float], now: float) -> int:
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return len(hits)


# --- tickets and the queue ----------------------------------------------------------------------


class TicketState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"


class Ticket:
    """One run's claim on a slot: waiting -> running -> done (or waiting -> done)."""

    def __init__(self, client: str, wake: Any) -> None:
        self.client = client
        self.state = TicketState.WAITING
        self.wake = wake  # set whenever the queue moves, so a waiter looks again


class Admission:
    def __init__(self, settings: AdmissionSettings, tasks: Tasks,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.tasks = tasks
        self.lock = threading.Lock()
        self.running = 0
        self.running_by_client: dict[str, int] = {}
        self.queue: list[Ticket] = []
        self.client_rate = RateLimiter(settings.runs_per_minute_per_ip, clock=clock)
        self.session_rate = RateLimiter(settings.runs_per_minute_per_session, clock=clock)
        self.share_rate = RateLimiter(settings.shares_per_minute_per_ip, clock=clock)

    def forget_session(self, session: str) -> None:
        """A connection went away: its per-connection rate limit goes with it."""
        with self.lock:
            self.session_rate.forget(session)

    # --- shared programs --------------------------------------------------------------------

    def record_share(self, client: str) -> None:
        """Count a stored snippet against its client; raises Busy over the rate limit."""
        with self.lock:
            if not self.share_rate.allows(client):
                raise Busy(f"too many shared programs from your address: at most "
                              f"{self.settings.shares_per_minute_per_ip} a minute. "
                              "Wait a moment and try again")
            self.share_rate.add(client)

    # --- runs -------------------------------------------------------------------------------

    def request(self, client: str, session: str | None = None) -> Ticket:
        """A ticket for a new run, or Busy when the client goes too fast or the queue is full."""
        settings = self.settings
        with self.lock:
            if not self.client_rate.allows(client):
                raise Busy(f"too many runs from your address: at most "
                              f"{settings.runs_per_minute_per_ip} a minute. Wait a moment and try again")
            if session is not None and not self.session_rate.allows(session):
                raise Busy(f"too many runs: at most {settings.runs_per_minute_per_session} a minute. "
                              "Wait a moment and try again")
            if len(self.queue) >= settings.max_queued_runs:
                raise Busy("the server is busy: too many programs are waiting to run. Try again soon")
            queued_here = sum(1 for waiting in self.queue if waiting.client == client)
            if queued_here >= settings.max_queued_runs_per_ip:
                raise Busy(f"too many programs from your address are waiting to run (at most "
                           f"{settings.max_queued_runs_per_ip}). Wait for them to finish")
            self.client_rate.add(client)
            if session is not None:
                self.session_rate.add(session)
            # In the queue from now on, so that runs accepted at once are counted at once.
            ticket = Ticket(client, self.tasks.event())
            ticket.state = TicketState.WAITING
            self.queue.append(ticket)
            self._grant()
            return ticket

    def wait(self, ticket: Ticket, stopped: Callable[[], bool],
             on_queued: Callable[[int], None] | None = None) -> bool:
        """Wait for a slot: True once the ticket holds one, False when stopped first.

        ``on_queued`` hears the ticket's 1-based place in the queue each time it changes (not at
        all when a slot was free at once). Call ``release`` afterwards in every case.
        """
        reported = None
        while True:
            ticket.wake.clear()
            with self.lock:
                if ticket.state != TicketState.WAITING:
                    return ticket.state == TicketState.RUNNING
                position = self.queue.index(ticket) + 1
            if stopped():
                self.release(ticket)
                return False
            if position != reported and on_queued is not None:
                on_queued(position)
                reported = position
            ticket.wake.wait(POLL_S)

    def release(self, ticket: Ticket) -> None:
        """Give back whatever the ticket holds; safe to call any number of times."""
        with self.lock:
            state, ticket.state = ticket.state, TicketState.DONE
            if state == TicketState.RUNNING:
                self.running -= 1
                decrement(self.running_by_client, ticket.client)
            elif state == TicketState.WAITING:
                self.queue.remove(ticket)
                self._wake_waiting()  # everyone behind it moved up
            else:
                return
            self._grant()

    def _grant(self) -> None:
        """Give free slots to the earliest waiting tickets whose client is under its share."""
        settings = self.settings
        moved = False
        for ticket in tuple(self.queue):
            if self.running >= settings.max_concurrent_runs:
                break
            if self.running_by_client.get(ticket.client, 0) >= settings.max_concurrent_runs_per_ip:
                continue
            self.queue.remove(ticket)
            ticket.state = TicketState.RUNNING
            self.running += 1
            self.running_by_client[ticket.client] = self.running_by_client.get(ticket.client, 0) + 1
            moved = True
            ticket.wake.set()
        if moved:
            self._wake_waiting()

    def _wake_waiting(self) -> None:
        for waiting in self.queue:
            waiting.wake.set()

    # --- for the health page and tests --------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "running": self.running,
                "queued": len(self.queue),
                "running_by_client": dict(self.running_by_client),
            }
