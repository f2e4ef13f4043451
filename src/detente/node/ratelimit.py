"""Token buckets: how many expensive requests one caller may make, and when it may make the next.

Pure: no I/O and no clock of its own (the caller passes one in, so tests step time by hand). Each
key (a token id, a client address) has a bucket of ``burst`` requests that refills at ``rate``
requests a second; a request takes one, or is refused with the seconds until one is there.
Thread-safe: the API's handlers run on a thread pool."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Buckets", "Decision"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float
    """Seconds until the refused request would be allowed (0 when allowed)."""

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` in whole seconds, rounded up (at least 1)."""
        return str(max(1, math.ceil(self.retry_after)))


class Buckets:
    """One token bucket per key, ``burst`` deep, refilled at ``rate`` per second.

    ``rate <= 0`` means no limit. At most ``max_keys`` buckets are kept: the least recently used
    goes first (a forgotten key starts full again, which only ever errs towards allowing)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float], *, max_keys: int = 10_000) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: (tokens, at)
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def take(self, key: str) -> Decision:
        """Take one request from ``key``'s bucket, or say how long until one is there."""
        if self.unlimited:
            return Decision(True, 0.0)
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
            if tokens >= 1.0:
                decision = Decision(True, 0.0)
                tokens -= 1.0
            else:
                decision = Decision(False, (1.0 - tokens) / self.rate)
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return decision
