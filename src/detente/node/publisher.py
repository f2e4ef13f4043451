"""Asks every peer that witnesses for this party to cosign each new checkpoint (C2SP
tlog-witness ``add-checkpoint``, with a consistency proof from the size that witness last
cosigned), keeps the cosignatures collected, and serves the cosigned checkpoint. The request is
also the push hint: the peer pulls this log at once."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from detente.crypto.note import MAX_SIGNATURES, NoteSignature, parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import DetenteError, MalformedProof, StoreUnavailable
from detente.node.loops import Loops
from detente.node.peers import Peers, PeerStatus
from detente.node.static_publish import StaticPublisher
from detente.node.tilelog import TileLog
from detente.node.timebook import TimeBook
from detente.store.node_protocol import NodeStore, PeerRow
from detente.tlog.checkpoint import Checkpoint, parse_size
from detente.tlog.cosignature import verify_cosignatures
from detente.tlog.witness import format_add_checkpoint

__all__ = ["Publisher"]

log = logging.getLogger(__name__)


def _size(body: bytes) -> int:
    """The size a witness's 409 answer names (``text/x.tlog.size``); a typed error if it names none."""
    return parse_size(body.decode("ascii", "replace").strip(), "the size a witness answered", MalformedProof)


class Publisher:
    def __init__(self, log_: TileLog, peers: Peers, state: NodeStore, peer_timeout: float) -> None:
        self.log = log_
        self.peers = peers
        self.state = state
        self.peer_timeout = peer_timeout
        self.wanted = threading.Event()
        """Set when there is a checkpoint to publish (after every append)."""
        self._cosigs: tuple[bytes, list[NoteSignature]] = (b"", [])
        self._lock = threading.Lock()
        self._witnesses = ThreadPoolExecutor(max_workers=8, thread_name_prefix="detente-witness")
        self._asking: dict[str, Future[None]] = {}  # the witness request in flight, per peer
        self.timebook = TimeBook(state)
        self.static: StaticPublisher | None = None
        """Writes the log's public side as static files after each publish (``publish_dir``)."""
        self._restore()

    def cosigned_checkpoint(self) -> bytes:
        """Our latest signed checkpoint plus the witnesses' cosignatures collected for it."""
        note = self.log.signed_checkpoint()
        with self._lock:
            if self._cosigs[0] == note and self._cosigs[1]:
                own = parse_note(note)
                # one line per witness is kept (see _ask); the note stays within what every
                # reader parses however many witnesses an operator pins
                room = MAX_SIGNATURES - len(own.signatures)
                return own.with_signatures(self._cosigs[1][:room]).to_bytes()
        return note

    def _restore(self) -> None:
        """After a restart, serve the cosignatures stored for the current checkpoint at once. A
        saved note that no longer parses (one a witness flooded before that was refused) is
        dropped: the witnesses are asked again, and the node starts."""
        saved = self.state.load_cosigned(self.log.origin)
        if saved is None:
            return
        try:
            note = parse_note(saved)
        except DetenteError as exc:
            log.warning("saved cosigned checkpoint of %s dropped: %s", self.log.origin, exc.message)
            return
        own = parse_note(self.log.signed_checkpoint())
        if note.text == own.text:
            newest: dict[str, NoteSignature] = {}
            for sig in note.signatures:
                if sig not in own.signatures and (sig.name not in newest or _stamp(sig) > _stamp(newest[sig.name])):
                    newest[sig.name] = sig
            self._cosigs = (self.log.signed_checkpoint(), sorted(newest.values(), key=lambda s: s.name))

    def loop(self, loops: Loops, interval: float) -> None:
        """Publish after each append (:attr:`wanted`) and every ``interval``; back off while it fails."""
        while not loops.stopping.is_set():
            self.wanted.wait(loops.backoff("publisher", interval) or interval)
            self.wanted.clear()
            if not loops.stopping.is_set():
                loops.run("publisher", self.run_once)

    def run_once(self) -> None:
        """One turn of the publisher loop: publish (and write the static copy, if configured), and
        raise if a witness did not cosign."""
        ok = self.publish()
        if self.static is not None:
            self.static.run_once()
        if not ok:
            raise StoreUnavailable("a witness did not cosign the latest checkpoint (see peers' last_error)")

    def publish(self) -> bool:
        """Ask every witnessing peer at once to cosign our latest checkpoint; ``False`` if one
        failed. Each is asked on its own thread and waited for a bounded time, so a witness that
        answers slowly (or trickles its answer's headers, which no read timeout bounds) cannot
        hold up the others; one still busy with an earlier request is not asked again meanwhile."""
        note = self.log.signed_checkpoint()
        cp = self.log.checkpoint
        ok = True
        asked: list[tuple[str, PeerStatus, Future[None]]] = []
        for row in self.peers.followed():
            status = self.peers.status.get(row.name)
            if not row.cosigner_vkey or status is None:
                continue
            with self._lock:
                pending = self._asking.get(row.name)
                if pending is not None and not pending.done():
                    ok = False
                    continue
                future = self._witnesses.submit(self._ask, row, status, cp, note)
                self._asking[row.name] = future
            asked.append((row.name, status, future))
        wait = 2 * self.peer_timeout + 1  # two requests (a 409 is retried once), then give up
        deadline = time.monotonic() + wait
        for name, status, future in asked:
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                ok = False
                status.last_error = f"witness {name} did not answer within {wait:g}s"
                log.info("witness peer=%s error=%s", name, status.last_error)
            except DetenteError as exc:
                ok = False
                status.last_error = exc.message
                log.info("witness peer=%s error=%s", name, exc.message)
        return ok

    def _ask(self, row: PeerRow, status: PeerStatus, cp: Checkpoint, note: bytes) -> None:
        client = self.peers.client(row)
        for _ in range(2):
            old = min(status.witness_size, cp.size)
            proof = self.log.consistency_proof(old, cp.size) if old else []
            code, body = client.add_checkpoint(format_add_checkpoint(old, proof, note))
            if code == 409:
                claimed = _size(body)
                if claimed > cp.size:  # no checkpoint of ours that large exists: never shown as cosigned
                    raise StoreUnavailable(
                        f"witness {row.name} says it holds size {claimed} of our log, which is at {cp.size}",
                        hint="a witness that saw a larger checkpoint of this log than the node signed holds one "
                        "signed with this log's key elsewhere, or lies: check the key is not in use twice",
                    )
                status.witness_size = claimed
                continue
            if code != 200:
                raise StoreUnavailable(f"witness {row.name} answered {code}: {body[:200]!r}")
            cosigned = parse_note(note.decode() + body.decode("utf-8", "replace"))
            sigs = verify_cosignatures(cosigned, [verifier_for(row.cosigner_vkey or "")])
            if not sigs:
                raise StoreUnavailable(f"witness {row.name} returned no cosignature from its pinned key")
            # One cosignature per witness, its newest: a witness that answers with many lines (all
            # validly signed, each with its own time) must not grow our served note past what
            # readers parse (MAX_SIGNATURES), nor the time book.
            newest = max(sigs, key=lambda c: c.timestamp)
            status.witness_size = cp.size
            self.timebook.cosigned(cp.origin, cp.size, [newest])
            with self._lock:
                kept = self._cosigs[1] if self._cosigs[0] == note else []
                kept = [s for s in kept if s.name != newest.witness] + [newest.signature]
                self._cosigs = (note, sorted(kept, key=lambda s: s.name))
            self.state.save_cosigned(self.log.origin, self.cosigned_checkpoint())
            return

    def push(self, row: PeerRow) -> str:
        """Send our latest checkpoint to a peer's witness endpoint: a push hint it acts on at once
        (a 409 names the size the peer already has; the request is then sent again from there)."""
        cp = self.log.checkpoint
        status = self.peers.status.get(row.name)
        old = min(status.witness_size if status else 0, cp.size)
        code = 0
        try:
            for _ in range(2):
                proof = self.log.consistency_proof(old, cp.size) if old else []
                code, body = self.peers.client(row).add_checkpoint(
                    format_add_checkpoint(old, proof, self.log.signed_checkpoint())
                )
                if code != 409:
                    break
                old = min(_size(body), cp.size)
        except DetenteError as exc:
            return f"resend to {row.url} failed: {exc.message}"
        return f"resent: pushed checkpoint {cp.size} to {row.url} (HTTP {code})"

    def close(self) -> None:
        self.wanted.set()
        self._witnesses.shutdown(wait=False, cancel_futures=True)


def _stamp(sig: NoteSignature) -> int:
    """A cosignature's timestamp (its signature's first 8 bytes, big-endian)."""
    return int.from_bytes(sig.signature[:8], "big")
