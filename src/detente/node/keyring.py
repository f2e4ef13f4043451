"""The verified key histories of every log this node holds (its own and its peers'), kept in the
node store: the pinned key first, then each rotation and revocation a sync or this node verified
(:mod:`detente.records.keys`)."""

from __future__ import annotations

import logging

from detente.crypto.keys import VerifierKey
from detente.records.keys import KeyEvent, KeyHistory
from detente.store.node_protocol import KeyEventRow, NodeStore, PeerRow

__all__ = ["KeyRing"]

log = logging.getLogger(__name__)


class KeyRing:
    def __init__(self, state: NodeStore) -> None:
        self.state = state

    def history(self, origin: str, vkey: str) -> KeyHistory:
        """The verified key history of ``origin`` kept in the node store; ``vkey`` is the key
        pinned (or in force) now. A kept history that does not contain it is ignored (the peer
        was pinned anew out of band)."""
        rows = self.state.key_events(origin)
        pinned = [r for r in rows if r.kind == "pinned"]
        if pinned:
            history = KeyHistory(
                VerifierKey.parse(pinned[0].vkey),
                [KeyEvent(r.index, r.kind, r.vkey, r.last_index) for r in rows if r.kind != "pinned"],
            )
            if VerifierKey.parse(vkey) in history.keys:
                return history
        return KeyHistory(VerifierKey.parse(vkey))

    def keep(self, history: KeyHistory, events: tuple[KeyEvent, ...]) -> None:
        """Remember verified key events durably (the pinned key first, once)."""
        if not any(r.kind == "pinned" for r in self.state.key_events(history.origin)):
            self.state.add_key_event(KeyEventRow(history.origin, -1, "pinned", str(history.pinned), None))
        for e in events:
            self.state.add_key_event(KeyEventRow(history.origin, e.index, e.kind, e.vkey, e.last_index))

    def learn(self, row: PeerRow, history: KeyHistory, events: tuple[KeyEvent, ...]) -> None:
        """A sync verified rotation or revocation records of a peer: keep them, and move the pinned
        key row (and the witness key, the same Ed25519 key as type 0x04) to the key now in force."""
        self.keep(history, events)
        current = history.current
        if str(current) != row.vkey:
            cosigner = row.cosigner_vkey
            old = VerifierKey.parse(row.vkey)
            if cosigner and VerifierKey.parse(cosigner).key == old.key:
                cosigner = str(current.as_cosigner())
            self.state.update_peer_keys(row.name, str(current), cosigner)
            log.warning("key-rotation peer=%s origin=%s vkey=%s", row.name, history.origin, current)
