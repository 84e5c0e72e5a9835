"""Sliding-window counters kept per key (an API client, a remote address), and the guard that
throttles failed token requests.

Keys come from callers, so the number of keys kept is bounded: past `max_keys` the least
recently used key is forgotten (a forgotten address starts again with an empty window).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class KeyedWindows:
    """At most `limit` events per key in any `window_seconds`; `admit` records one if allowed."""

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window_seconds, clock, max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def admit(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            events = self._recent(key, now)
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def full(self, key: str) -> bool:
        """Whether the key has used its whole window (without recording anything)."""
        now = self.clock()
        with self._lock:
            return len(self._recent(key, now)) >= self.limit

    def record(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            events = self._recent(key, now)
            events.append(now)
            while len(events) > self.limit:
                events.popleft()

    def retry_after(self, key: str) -> float:
        """Seconds until the key's oldest counted event leaves the window."""
        now = self.clock()
        with self._lock:
            events = self._recent(key, now)
            return max(0.0, events[0] + self.window - now) if events else 0.0


class TokenGuard:
    """Failed token requests, counted per remote address and per (known) client id.

    Once either count fills its window, every token request from that address or for that client
    is refused until the window slides on, right credentials included: otherwise the answer
    would tell a guesser when a guess was right.
    """

    def __init__(self, per_address: int, per_client: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.by_address = KeyedWindows(per_address, window_seconds, clock)
        self.by_client = KeyedWindows(per_client, window_seconds, clock, max_keys=1_000)

    def blocked(self, client_id: str | None, address: str) -> float | None:
        """Seconds to wait when this request is refused outright, else None."""
        waits = []
        if self.by_address.full(address):
            waits.append(self.by_address.retry_after(address))
        if client_id is not None and self.by_client.full(client_id):
            waits.append(self.by_client.retry_after(client_id))
        return max(waits) if waits else None

    def failed(self, client_id: str | None, address: str) -> None:
        """Count a refused request; `client_id` only when it names a configured client."""
        self.by_address.record(address)
        if client_id is not None:
            self.by_client.record(client_id)
