"""Silence is a fact too (issue #19): a peer not heard from for longer than the agreement's
liveness window is *silent since* the last time it was heard, which ``/api/v1/status``, the
console header and the inbox show, and which the node logs once as an alarm record.

"Heard from" means the peer proved it was alive with its key: it answered a pull with a validly
signed checkpoint, or asked this node to cosign one (:meth:`Peers.heard`). The last time is kept
in the store (at most one write a minute per peer), so silence spans restarts; a peer never heard
since the node first ran counts from the time this node started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from detente.node.peers import Peers, PeerStatus
from detente.store.node_protocol import NodeStore

__all__ = ["Liveness"]


class _Alert(Protocol):
    def alert(self, kind: str, **fields: Any) -> None: ...


def _cursor(name: str) -> str:
    return f"heard:{name}"


class Liveness:
    def __init__(
        self,
        peers: Peers,
        state: NodeStore,
        append_alarm: Callable[[dict[str, object]], int],
        alerts: _Alert,
        clock: Callable[[], float],
        window: timedelta,
    ) -> None:
        self.peers = peers
        self.state = state
        self.append_alarm = append_alarm
        self.alerts = alerts
        self.clock = clock
        self.window = window
        self.started = clock()
        self._alarmed: set[tuple[str, int]] = set()
        self._saved: dict[str, float] = {}
        self._lock = threading.Lock()

    def last_heard(self, status: PeerStatus) -> float | None:
        """When the peer was last heard from: this run's observation, else the one kept in the store."""
        if status.last_heard is not None:
            self._keep(status.name, status.last_heard)
            return status.last_heard
        kept = self.state.get_cursor(_cursor(status.name))
        return float(kept) if kept else None

    def silent_since(self, status: PeerStatus) -> float | None:
        """When the peer fell silent, if it has been silent for longer than the window now."""
        heard = self.last_heard(status)
        since = heard if heard is not None else self.started
        return since if self.clock() - since > self.window.total_seconds() else None

    def describe(self, status: PeerStatus) -> dict[str, object]:
        heard = self.last_heard(status)
        since = self.silent_since(status)
        return {"last_heard": _iso(heard), "silent_since": _iso(since)}

    def run_once(self) -> list[str]:
        """Log an alarm for each peer that fell silent, once per silence; the names alarmed."""
        alarmed = []
        for status in list(self.peers.status.values()):
            since = self.silent_since(status)
            if since is None:
                continue
            key = (status.origin, int(since))
            with self._lock:
                if key in self._alarmed or self._logged(status.origin, int(since)):
                    self._alarmed.add(key)
                    continue
                self._alarmed.add(key)
                detail = (
                    f"{status.name} ({status.origin}) silent since {_iso(since)}: no signed checkpoint served and "
                    f"no witness request for over {self.window} [silent {int(since)}]"
                )
                body: dict[str, object] = {
                    "origin": status.origin,
                    "kind": "silent",
                    "detail": detail,
                    "silent_since": _iso(since),
                    "last_error": (status.last_error or "")[:500],
                }
                index: int | None = None
                try:
                    index = self.append_alarm(body)
                finally:
                    self.state.add_alarm(status.origin, "silent", detail, int(self.clock()), index)
            self.alerts.alert("silent", origin=status.origin, peer=status.name, since=_iso(since), index=index)
            alarmed.append(status.name)
        return alarmed

    def _logged(self, origin: str, since: int) -> bool:
        mark = f"[silent {since}]"
        return any(a.kind == "silent" and a.origin == origin and mark in a.detail for a in self.state.alarms())

    def _keep(self, name: str, at: float) -> None:
        if at - self._saved.get(name, 0.0) >= 60:
            self._saved[name] = at
            self.state.set_cursor(_cursor(name), int(at))


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat() if at is not None else None
