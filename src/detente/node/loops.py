"""Background loops that never die: each turn runs under a guard that catches everything, counts
it, keeps the last error for ``/api/v1/status`` and tells the loop how long to back off. The
loops' threads are started here too, and all end when the node stops (:attr:`Loops.stopping`)."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from detente.errors import DetenteError

__all__ = ["LoopStatus", "Loops", "describe"]

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    """One line for an operator: a typed error's message, or the class and text of any other."""
    if isinstance(exc, DetenteError):
        return exc.message[:500]
    return f"{exc.__class__.__name__}: {str(exc)[:400]}"


@dataclass
class LoopStatus:
    name: str
    runs: int = 0
    failures: int = 0
    """Turns that raised, since the node started."""
    consecutive: int = 0
    """Turns that raised since the last one that did not (the backoff grows with it)."""
    last_error: str | None = None
    last_error_at: float | None = None
    last_ok_at: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "failures": self.failures,
            "consecutive_failures": self.consecutive,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "last_ok_at": self.last_ok_at,
        }


class Loops:
    """The status of every background loop of a node, by name."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._status: dict[str, LoopStatus] = {}
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()
        """Set when the node stops: every loop returns after its current turn."""

    @property
    def running(self) -> bool:
        """Whether the loops were started and are not stopping (a peer pinned now gets its own)."""
        return bool(self._threads) and not self.stopping.is_set()

    def spawn(self, name: str, loop: Callable[[], object]) -> None:
        """Run ``loop`` (which returns once :attr:`stopping` is set) on a daemon thread ``detente-<name>``."""
        thread = threading.Thread(target=loop, name=f"detente-{name}", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def join(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` seconds each) for the loops' threads once they were told to stop."""
        self.stopping.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=timeout)

    def status(self, name: str) -> LoopStatus:
        with self._lock:
            return self._status.setdefault(name, LoopStatus(name))

    def run(self, name: str, turn: Callable[[], object]) -> BaseException | None:
        """Run one turn of loop ``name``; return the exception it raised (``None`` if none).
        Nothing escapes: a loop that calls this survives whatever its turn does."""
        status = self.status(name)
        try:
            turn()
        except Exception as exc:
            status.runs += 1
            status.failures += 1
            status.consecutive += 1
            status.last_error, status.last_error_at = describe(exc), self._clock()
            if isinstance(exc, DetenteError):
                log.info("loop=%s failures=%d error=%s", name, status.consecutive, status.last_error)
            else:  # not a typed error: a bug; keep the trace in the log
                log.error(
                    "loop=%s failures=%d error=%s\n%s",
                    name,
                    status.consecutive,
                    status.last_error,
                    "".join(traceback.format_exception(exc)),
                )
            return exc
        status.runs += 1
        status.consecutive = 0
        status.last_ok_at = self._clock()
        return None

    def backoff(self, name: str, ceiling: float) -> float:
        """Seconds to wait before the next turn of a failing loop (0 when it did not fail)."""
        n = self.status(name).consecutive
        return 0.0 if n == 0 else min(ceiling, 0.25 * 2 ** min(n - 1, 10))

    def as_dict(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {name: s.as_dict() for name, s in sorted(self._status.items())}
