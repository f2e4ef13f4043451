"""This node as a C2SP tlog-witness for its peers' logs.

Answers ``add-checkpoint`` with every status code the spec defines, persists the new checkpoint
with an atomic compare-and-swap on its size before answering, and cosigns with the party key
(cosignature/v1). A validly signed checkpoint that contradicts the one already cosigned is kept
as evidence: the node raises a fork alarm. A request is also a push hint: the node pulls the
log right away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from detente.crypto.note import parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import MalformedError
from detente.node.peers import Peers
from detente.node.sync import Fork
from detente.node.timebook import TimeBook
from detente.node.writer import Signer
from detente.store.node_protocol import NodeStore
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.cosignature import cosign
from detente.tlog.witness import decide, parse_add_checkpoint

__all__ = ["WitnessAnswer", "WitnessService"]


@dataclass(frozen=True)
class WitnessAnswer:
    status: int
    body: bytes
    media_type: str = "text/plain; charset=utf-8"


class WitnessService:
    """Answers ``add-checkpoint`` for the pinned peers' logs, with the party key in force."""

    def __init__(
        self,
        state: NodeStore,
        signer: Signer,
        peers: Peers,
        raise_alarm: Callable[[Fork], object],
        clock: Callable[[], float],
    ) -> None:
        self.state = state
        self.signer = signer
        self.peers = peers
        self.raise_alarm = raise_alarm
        self.clock = clock
        self.timebook = TimeBook(state)

    def add_checkpoint(self, body: bytes) -> WitnessAnswer:
        try:
            req = parse_add_checkpoint(body)
        except MalformedError as exc:
            return WitnessAnswer(400, exc.message.encode())
        origin = req.checkpoint.origin
        peer = self.peers.by_origin(origin)
        verifiers = [verifier_for(peer.vkey)] if peer else None
        latest_note = self.state.witness_latest(origin)
        latest = Checkpoint.parse(parse_note(latest_note).text) if latest_note else None
        decision = decide(req, verifiers, latest)
        if decision.status == 409:
            return WitnessAnswer(409, f"{decision.latest_size}\n".encode(), "text/x.tlog.size")
        if decision.status == 422 and latest is not None and latest_note is not None:
            if req.checkpoint.size == latest.size and req.checkpoint.root != latest.root:
                # Two validly signed roots for one size: proof of equivocation on its own.
                evidence = Fork(
                    origin,
                    "equivocation",
                    f"two different roots for size {latest.size}",
                    latest_note,
                    decision.canonical,
                )
                self.raise_alarm(evidence)
            else:
                self.peers.hint(origin)  # a bad proof proves nothing alone; the mirror's sync will tell
        if decision.status == 403 and peer is not None:
            # Signed by a key this node does not pin yet: after a rotation, the log's own rotation
            # record names it. Pull now, so the publisher's retry finds the key learned (or the pull
            # refuses the log and raises the alarm), instead of waiting for the next periodic pull.
            self.peers.hint(origin)
        if decision.status != 200:
            return WitnessAnswer(decision.status, decision.reason.encode())
        # Kept as its text and the log's verified signature only: never as received (see node.alarms).
        if not self.state.witness_swap(origin, req.old_size, req.checkpoint.size, decision.canonical):
            current = self.state.witness_latest(origin)
            size = Checkpoint.parse(parse_note(current).text).size if current else 0
            return WitnessAnswer(409, f"{size}\n".encode(), "text/x.tlog.size")
        now = int(self.clock())
        line = cosign(req.checkpoint, self.signer.identity, now).line()
        self.timebook.made(origin, req.checkpoint.size, self.signer.identity.name, now, line)
        self.peers.heard(origin, self.clock())
        self.peers.hint(origin)
        return WitnessAnswer(200, line.encode())
