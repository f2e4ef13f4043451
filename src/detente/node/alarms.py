"""Fork alarms: bounded, canonical evidence and exactly one alarm per fork.

A fork is seen by a sync (two roots for one size, a tree that does not extend, a revoked key's
signature) or by the witness endpoint (a validly signed checkpoint contradicting the one
cosigned). Whatever path it comes by and however often, the same evidence is one alarm:

- Evidence is canonical. A checkpoint note is kept as its text plus only the log's own signature
  lines (at most :data:`MAX_EVIDENCE_SIGNATURES`); signature lines of other keys, which anyone may
  append, are dropped. Anything that is not a checkpoint (an entry signed by a revoked key) is
  kept as its RFC 9162 leaf hash and length, which the log itself proves. So an alarm record
  always fits in one log entry, whatever a peer or an outsider sends.
- The alarm's identity is a digest of the evidence's *texts* (without signatures), so a padded
  copy of the same checkpoint, or the same fork reached by the witness path and by a pull, is
  the same alarm.
- If the alarm record cannot be sealed or appended, the alarm is still raised (a row without a
  log index, an operator alert) and the failure is kept for ``/api/v1/status``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from detente.crypto.note import Note, parse_note
from detente.errors import DetenteError
from detente.node.loops import describe
from detente.node.sync import Fork
from detente.records.catalogue import LOG_ALARM
from detente.store.node_protocol import NodeStore
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.hashing import leaf_hash

__all__ = ["ALARM_TYPE", "MAX_EVIDENCE_SIGNATURES", "Alarms", "canonical_evidence", "fork_id"]

log = logging.getLogger(__name__)

ALARM_TYPE = LOG_ALARM
MAX_EVIDENCE_SIGNATURES = 4


def _checkpoint_note(blob: bytes) -> Note | None:
    """``blob`` as a signed checkpoint note (``None`` if it is not one: an entry)."""
    try:
        note = parse_note(blob)
        Checkpoint.parse(note.text)  # also caps the text at MAX_CHECKPOINT_TEXT
    except DetenteError:
        return None
    return note


def canonical_evidence(origin: str, blob: bytes) -> str:
    """One piece of fork evidence as it goes into an alarm record (bounded; see the module)."""
    if not blob:
        return ""
    note = _checkpoint_note(blob)
    if note is not None:
        sigs = [s for s in note.signatures if s.name == origin][:MAX_EVIDENCE_SIGNATURES]
        return note.text + "\n" + "".join(s.line() for s in sigs)
    return f"entry leaf-hash {leaf_hash(blob).hex()} length {len(blob)}"


def fork_id(fork: Fork) -> str:
    """The alarm's identity: the same texts (signature lines aside) are the same fork."""
    parts = []
    for blob in (fork.seen, fork.shown):
        note = _checkpoint_note(blob) if blob else None
        parts.append("" if not blob else note.text if note is not None else leaf_hash(blob).hex())
    digest = hashlib.sha256("\x00".join([fork.origin, fork.kind, *sorted(parts)]).encode()).hexdigest()
    return digest[:16]


class _Alert(Protocol):
    def alert(self, kind: str, **fields: Any) -> None: ...


@dataclass
class AlarmFailure:
    fork: str
    origin: str
    error: str
    at: float


class Alarms:
    """Raises each fork once: an alarm record in the node's own log (``seal_and_append`` returns
    its index), a row in the node store and an operator alert."""

    def __init__(
        self,
        state: NodeStore,
        seal_and_append: Callable[[dict[str, object]], int],
        alerts: _Alert,
        clock: Callable[[], float],
    ) -> None:
        self._state = state
        self._append = seal_and_append
        self._alerts = alerts
        self._clock = clock
        self._lock = threading.Lock()
        self._raised: set[str] | None = None
        self.failures: list[AlarmFailure] = []
        """Alarms raised whose record could not be logged (shown in ``/api/v1/status``)."""

    def _known(self) -> set[str]:
        if self._raised is None:
            rows = self._state.alarms()
            self._raised = {a.detail.rsplit("[fork ", 1)[1].rstrip("]") for a in rows if "[fork " in a.detail}
        return self._raised

    def raise_once(self, fork: Fork) -> int | None:
        """Raise ``fork`` unless the same evidence was raised before; the alarm record's index
        (``None`` when it was raised before or its record could not be logged)."""
        fid = fork_id(fork)
        with self._lock:  # the check and the alarm under one lock: two paths at once are one alarm
            known = self._known()
            if fid in known:
                return None
            known.add(fid)
            detail = f"{fork.detail[:500]} [fork {fid}]"
            body: dict[str, object] = {
                "origin": fork.origin,
                "kind": fork.kind,
                "detail": detail,
                "evidence": [canonical_evidence(fork.origin, fork.seen), canonical_evidence(fork.origin, fork.shown)],
            }
            index: int | None = None
            try:
                index = self._append(body)
            except Exception as exc:  # the alarm must be raised even when its record is not logged
                message = describe(exc)
                self.failures.append(AlarmFailure(fid, fork.origin, message, self._clock()))
                del self.failures[:-100]
                log.error("alarm-not-logged origin=%s fork=%s error=%s", fork.origin, fid, message)
            self._state.add_alarm(fork.origin, fork.kind, detail, int(self._clock()), index)
        self._alerts.alert("alarm", origin=fork.origin, fork=fork.kind, index=index, detail=detail)
        return index
