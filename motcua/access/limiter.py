"""A rate limit per client, in this process: the citizen's lookup (by the public API and by the
lookup page alike, one budget: `Resources.lookup_limiter`) allows a few guesses a minute, so
that receipt secrets cannot be walked through (see `motcua.lookup`)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """Token buckets per client key (an IP address), in this process: `burst` lookups at
    once, refilled at `per_minute`. Memory is bounded: the least recently seen clients are
    forgotten beyond `max_clients`."""

    per_minute: float = 20.0
    burst: float = 10.0
    max_clients: int = 10_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, client: str, now: float | None = None) -> int | None:
        """None when `client` may look up now (and one lookup is spent), else the seconds to
        wait (for Retry-After)."""
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, seen = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return None if allowed else max(1, math.ceil((1.0 - tokens) / rate))
