"""A party's node: its own log, its mirrors of peers' logs, its witness, and the threads that
keep them moving.

- Appends go through a :class:`~detente.node.sequencer.Sequencer` (group commit).
- After each new checkpoint, the *publisher* asks every peer that witnesses for us to cosign it
  (C2SP tlog-witness ``add-checkpoint``, with a consistency proof from the size that witness last
  cosigned). That request is also the push hint: the peer pulls our log at once.
- The *syncer* pulls each peer when hinted, and every ``sync_interval`` seconds as a fallback,
  with exponential backoff while a peer is unreachable.
- Forks become alarms: a record in this node's own log (with both signed checkpoints) and a row
  operators can list.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from detente.crypto.dsse import Envelope
from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.crypto.note import NoteSignature, parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import DetenteError, Forbidden, LogNotFound, MalformedRecord, QuotaExceeded, StoreUnavailable
from detente.node.alarms import ALARM_TYPE, Alarms
from detente.node.alerts import Alerter, send_email
from detente.node.client import PeerClient
from detente.node.commitments import CommitmentDesk
from detente.node.config import NodeConfig, load_agreement
from detente.node.evals import EvalDesk
from detente.node.exportctl import ExportDesk
from detente.node.incidents import IncidentDesk
from detente.node.keyfile import install_rotated_key, read_identity, write_identity
from detente.node.loops import Loops, describe
from detente.node.media import MediaDesk
from detente.node.pins import check_pin
from detente.node.reports import ReportDesk
from detente.node.rotation import finish_rotation
from detente.node.sequencer import Sequenced, Sequencer
from detente.node.sync import Fork, SyncResult, sync_peer
from detente.node.tilelog import TileLog
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import WITHHELD, Action, Logged, evaluate
from detente.records.catalogue import ANSWER_TYPES, DEADLINE_MISSED, ESCALATION, RECEIPT, validate_record
from detente.records.entry import seal_record
from detente.records.keys import KEY_REVOCATION, KEY_ROTATION, KeyEvent, KeyHistory
from detente.records.record import TLP, Record
from detente.records.ref import RecordRef
from detente.records.text import BilingualText, LangText
from detente.store.node_protocol import KeyEventRow, NodeStore, PeerRow
from detente.store.open import open_incident_index, open_node_store, open_store
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.cosignature import verify_cosignatures
from detente.tlog.hashing import leaf_hash
from detente.tlog.witness import format_add_checkpoint

__all__ = ["ALARM_TYPE", "Node", "PeerStatus"]

log = logging.getLogger(__name__)


@dataclass
class PeerStatus:
    name: str
    origin: str
    url: str
    mirrored_size: int = 0
    last_sync: float | None = None
    last_error: str | None = None
    failures: int = 0
    witness_size: int = 0
    """The size of our checkpoint this peer last cosigned."""
    hint: threading.Event = field(default_factory=threading.Event)
    syncing: threading.Lock = field(default_factory=threading.Lock)
    """Held while this peer is pulled: a manual sync waits for the background one, never races it."""


class Node:
    def __init__(self, config: NodeConfig, base: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.base = base
        self.clock = clock
        store_url = self._store_url = config.store if "://" in config.store else str(base / config.store)
        self.identity = read_identity(base / config.key_file)
        if self.identity.name != config.origin:
            raise StoreUnavailable(f"key {self.identity.name!r} does not match origin {config.origin!r}")
        self.logs = open_store(store_url)
        self.state: NodeStore = open_node_store(store_url)
        own = self.key_history(self.identity.name, str(self.identity.vkey()))
        self.identity = finish_rotation(base / config.key_file, self.logs, self.identity, own, self._keep_key_events)
        self.log = TileLog.create(self.logs, self.identity)
        self._key_lock = threading.Lock()  # sealing with the current key vs. rotating it
        self.log.trust(own.keys)  # the history above, with the rotation finish_rotation may have kept
        self.sequencer = Sequencer(self.log, max_batch=config.max_batch, max_wait=config.max_wait)
        self._cosigs: tuple[bytes, list[NoteSignature]] = (b"", [])
        self._cosig_lock = threading.Lock()
        self._publish = threading.Event()
        self._stop = threading.Event()
        self.peers: dict[str, PeerStatus] = {}
        self.bad_peers: dict[str, str] = {}
        """Pinned rows the node does not follow, and why (shown in ``/api/v1/status``)."""
        self._clients: dict[str, PeerClient] = {}
        self._record_cache: dict[str, list[Logged]] = {}
        self.quarantine: dict[tuple[str, int], str] = {}
        """Mirrored records that failed their catalogue schema: (origin, index) → why."""
        self._receipt_lock = threading.Lock()
        self._receipted: set[tuple[str, int]] | None = None  # (origin, index) this party has receipted
        self._incidents: IncidentDesk | None = None
        self._reminded: set[tuple[str, int, str]] = set()
        self._witnesses = ThreadPoolExecutor(max_workers=8, thread_name_prefix="detente-witness")
        self._asking: dict[str, Future[None]] = {}  # the witness request in flight, per peer
        self.alerts = Alerter(
            self.identity,
            config.webhook_url,
            smtp=config.smtp,
            email_to=config.alert_email_to,
            email_from=config.alert_email_from,
        )
        self.agreement = (
            load_agreement(base / config.agreement) if config.agreement else default_agreement(config.origin)
        )
        self.alarms = Alarms(self.state, self._log_alarm, self.alerts, clock)
        self.loops = Loops(clock)
        self._threads: list[threading.Thread] = []
        self._restore_cosignatures()
        self.reload_peers()

    # --- peers ------------------------------------------------------------------------------

    def reload_peers(self) -> None:
        """Follow every pinned peer. A row that fails the pin checks (kept by an older version, or
        written to the store by hand) is not followed: the node starts and reports it instead."""
        rows = self.state.peers()
        for row in rows:
            if row.name in self.peers:
                continue
            try:
                origin = check_pin(row, self.config.name, self.identity.name, rows).name
                status = PeerStatus(row.name, origin, row.url)
                status.mirrored_size = self.mirror(row).size
            except DetenteError as exc:
                self.bad_peers[row.name] = exc.message
                log.error("peer-not-followed peer=%s error=%s", row.name, exc.message)
                continue
            self.bad_peers.pop(row.name, None)
            self.peers[row.name] = status

    def add_peer(self, row: PeerRow) -> None:
        """Pin a new peer and, if the node is running, start pulling it. A pin that could hurt is
        refused (:func:`detente.node.pins.check_pin`) and nothing is stored."""
        check_pin(row, self.config.name, self.identity.name, self.state.peers())
        self.state.add_peer(row)
        self.reload_peers()
        if self._threads:
            t = threading.Thread(target=self._syncer, args=(row.name,), name=f"detente-sync-{row.name}", daemon=True)
            self._threads.append(t)
            t.start()
            self.peers[row.name].hint.set()

    def followed(self) -> list[PeerRow]:
        """The pinned peers this node follows (rows that failed the pin checks left out)."""
        return [row for row in self.state.peers() if row.name in self.peers and row.name not in self.bad_peers]

    def peer_row(self, name: str) -> PeerRow:
        for row in self.state.peers():
            if row.name == name:
                return row
        raise LogNotFound(f"no peer {name!r}", hint="list the pinned peers: GET /api/v1/peers")

    def peer_by_origin(self, origin: str) -> PeerRow | None:
        """The followed peer whose log is ``origin`` (a row the node does not follow is none)."""
        for row in self.state.peers():
            status = self.peers.get(row.name)
            if status is not None and status.origin == origin and row.name not in self.bad_peers:
                return row
        return None

    def mirror(self, row: PeerRow) -> TileLog:
        history = self.key_history(VerifierKey.parse(row.vkey).name, row.vkey)
        return TileLog.mirror(self.logs, history.pinned, keys=history.keys)

    # --- log keys: rotation and revocation (detente.records.keys) ---------------------------

    def key_history(self, origin: str, vkey: str) -> KeyHistory:
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

    def _keep_key_events(self, history: KeyHistory, events: tuple[KeyEvent, ...]) -> None:
        """Remember verified key events durably (the pinned key first, once)."""
        if not any(r.kind == "pinned" for r in self.state.key_events(history.origin)):
            self.state.add_key_event(KeyEventRow(history.origin, -1, "pinned", str(history.pinned), None))
        for e in events:
            self.state.add_key_event(KeyEventRow(history.origin, e.index, e.kind, e.vkey, e.last_index))

    def _learn_keys(self, row: PeerRow, history: KeyHistory, events: tuple[KeyEvent, ...]) -> None:
        """A sync verified rotation or revocation records of a peer: keep them, and move the pinned
        key row (and the witness key, the same Ed25519 key as type 0x04) to the key now in force."""
        self._keep_key_events(history, events)
        current = history.current
        if str(current) != row.vkey:
            cosigner = row.cosigner_vkey
            old = VerifierKey.parse(row.vkey)
            if cosigner and VerifierKey.parse(cosigner).key == old.key:
                cosigner = str(current.as_cosigner())
            self.state.update_peer_keys(row.name, str(current), cosigner)
            log.warning("key-rotation peer=%s origin=%s vkey=%s", row.name, history.origin, current)

    def rotate_key(self, reason: str = "") -> dict[str, object]:
        """Generate a new log key, log a rotation record signed by the current key that names it
        (the checkpoint covering it is signed by the new key), then sign with the new key. The
        old key file is kept as ``<key_file>.<old key ID>``; the configured path holds the new key."""
        with self._key_lock:
            old = self.identity
            new = Ed25519Identity.generate(old.name)
            key_path = self.base / self.config.key_file
            staged = write_identity(new, key_path.with_name(f"{key_path.name}.{new.vkey().key_id:08x}.new"))
            record = Record(
                type=KEY_ROTATION,
                party=old.name,
                issued=datetime.fromtimestamp(self.clock(), UTC),
                body={"vkey": str(new.vkey()), "reason": reason},
            )
            self._admit(record)
            entry = seal_record(record, old)
            history = self.key_history(old.name, str(old.vkey()))
            self.log.schedule_rotation(entry, new)
            seq = self.sequencer.add(entry)
            applied = history.apply(seq.index, record)
            self._keep_key_events(history, (applied[0],) if applied else ())
            kept = install_rotated_key(key_path, staged, old)
            self.identity = new
            self.alerts.identity = new
        self._publish.set()
        log.warning("key-rotation origin=%s index=%d vkey=%s", old.name, seq.index, new.vkey())
        return {
            "index": seq.index,
            "leaf_hash": seq.leaf_hash.hex(),
            "old_vkey": str(old.vkey()),
            "vkey": str(new.vkey()),
            "cosigner_vkey": str(new.cosigner_vkey()),
            "old_key_file": str(kept),
        }

    def revoke_key(
        self, vkey: str, effective: datetime, reason: str, last_index: int | None = None
    ) -> dict[str, object]:
        """Log a revocation of a key this log used before (signed by the key in force). Without
        ``last_index``, the party vouches for the entries that key signed with ``issued`` before
        ``effective``."""
        revoked = VerifierKey.parse(vkey)
        history = self.key_history(self.identity.name, str(self.identity.vkey()))
        if revoked not in history.keys:
            raise MalformedRecord(f"{revoked} is not a key of {self.identity.name}")
        if revoked == history.current:
            raise MalformedRecord(
                "the key in force cannot be revoked", hint="rotate first (detente key rotate), then revoke the old key"
            )
        if last_index is None:
            first, last = history.span(revoked)  # the key is not in force, so its span has ended
            last_index = -1
            for item in self.logged(self.log, first, (last if last is not None else first) + 1):
                if item.record.issued < effective:
                    last_index = item.index
        record = Record(
            type=KEY_REVOCATION,
            party=self.identity.name,
            issued=datetime.fromtimestamp(self.clock(), UTC),
            body={"vkey": str(revoked), "effective": effective.isoformat(), "last_index": last_index, "reason": reason},
        )
        history.copy().apply(self.log.size, record)  # refuse what verifiers would refuse, before signing
        seq = self.append(record)
        applied = history.apply(seq.index, record)
        self._keep_key_events(history, (applied[0],) if applied else ())
        return {"index": seq.index, "leaf_hash": seq.leaf_hash.hex(), "vkey": str(revoked), "last_index": last_index}

    # --- writing ----------------------------------------------------------------------------

    def append(self, record: Record) -> Sequenced:
        """Validate, sign and append one record; return once it is durable. Then witnesses are asked.

        A party log is served to every peer and auditor, so a record whose TLP marking limits who
        may read it (AMBER, AMBER+STRICT, RED) is refused rather than published to all of them.
        """
        self._admit(record)
        with self._key_lock:  # nothing sealed by a key is queued after the record rotating it
            future = self.sequencer.submit(seal_record(record, self.identity))
        result = future.result(60.0)
        self._publish.set()
        return result

    def _admit(self, record: Record) -> None:
        """Every check a record passes before it is signed: marking, schema, quota."""
        if record.tlp not in (TLP.CLEAR, TLP.GREEN):
            raise Forbidden(
                f"a {record.tlp.value} record would be readable by every peer and auditor of this log",
                hint="mark it TLP:CLEAR or TLP:GREEN, or send it through a channel limited to its recipients",
            )
        validate_record(record)
        if record.type == WITHHELD and not record.body.get("over_quota"):
            self._check_withheld_quota(record)

    def _check_withheld_quota(self, record: Record) -> None:
        year = record.issued.year
        used = sum(
            1
            for item in self.all_records()
            if item.origin == self.identity.name and item.record.type == WITHHELD and item.record.issued.year == year
        )
        limit = self.agreement.withheld_per_year
        if used >= limit:
            raise QuotaExceeded(
                f"{self.identity.name} has withheld {used} notification(s) in {year}; "
                f"agreement {self.agreement.agreement_id} allows {limit} a year",
                hint="to record it anyway, set over_quota: true in the body (every party will see the excess)",
            )

    def append_many(self, records: list[Record], *, progress: Callable[[int], None] | None = None) -> list[Sequenced]:
        """Validate every record first (one bad record writes nothing), then sign and append them
        all in group-committed batches; returns their positions in order."""
        for record in records:
            self._admit(record)
        out: list[Sequenced] = []
        for start in range(0, len(records), 500):
            chunk = records[start : start + 500]
            with self._key_lock:
                futures = [self.sequencer.submit(seal_record(r, self.identity)) for r in chunk]
            out.extend(f.result(timeout=120) for f in futures)
            if progress is not None:
                progress(len(chunk))
        self._publish.set()
        return out

    def raise_alarm(self, fork: Fork) -> int | None:
        """Raise a fork alarm once per fork (see :mod:`detente.node.alarms`): its record's index in
        our own log, or ``None`` if the same evidence was raised before or could not be logged."""
        return self.alarms.raise_once(fork)

    def _log_alarm(self, body: dict[str, object]) -> int:
        record = Record(
            type=ALARM_TYPE, party=self.identity.name, issued=datetime.fromtimestamp(self.clock(), UTC), body=body
        )
        return self.append(record).index

    # --- cosignatures on our checkpoint -----------------------------------------------------

    def cosigned_checkpoint(self) -> bytes:
        """Our latest signed checkpoint plus the witnesses' cosignatures collected for it."""
        note = self.log.signed_checkpoint()
        with self._cosig_lock:
            if self._cosigs[0] == note and self._cosigs[1]:
                return parse_note(note).with_signatures(self._cosigs[1]).to_bytes()
        return note

    def _restore_cosignatures(self) -> None:
        """After a restart, serve the cosignatures stored for the current checkpoint at once."""
        saved = self.state.load_cosigned(self.identity.name)
        if saved is None:
            return
        note = parse_note(saved)
        own = parse_note(self.log.signed_checkpoint())
        if note.text == own.text:
            witnesses = {s for s in note.signatures if s not in own.signatures}
            self._cosigs = (self.log.signed_checkpoint(), sorted(witnesses, key=lambda s: s.name))

    def publish(self) -> bool:
        """Ask every witnessing peer at once to cosign our latest checkpoint; ``False`` if one
        failed. Each is asked on its own thread and waited for a bounded time, so a witness that
        answers slowly (or trickles its answer's headers, which no read timeout bounds) cannot
        hold up the others; one still busy with an earlier request is not asked again meanwhile."""
        note = self.log.signed_checkpoint()
        cp = self.log.checkpoint
        ok = True
        asked: list[tuple[str, PeerStatus, Future[None]]] = []
        for row in self.followed():
            if not row.cosigner_vkey:
                continue
            status = self.peers.get(row.name)
            if status is None:
                continue
            with self._cosig_lock:
                pending = self._asking.get(row.name)
                if pending is not None and not pending.done():
                    ok = False
                    continue
                future = self._witnesses.submit(self._ask_witness, row, status, cp, note)
                self._asking[row.name] = future
            asked.append((row.name, status, future))
        wait = 2 * self.config.peer_timeout + 1  # two requests (a 409 is retried once), then give up
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

    def client(self, row: PeerRow) -> PeerClient:
        """One keep-alive HTTP client per peer (creating one costs tens of milliseconds)."""
        with self._cosig_lock:
            client = self._clients.get(row.name)
            if client is None or client.base != row.url.rstrip("/"):
                client = self._clients[row.name] = PeerClient(row.url, timeout=self.config.peer_timeout)
            return client

    def _ask_witness(self, row: PeerRow, status: PeerStatus, cp: Checkpoint, note: bytes) -> None:
        client = self.client(row)
        for _ in range(2):
            old = min(status.witness_size, cp.size)
            proof = self.log.consistency_proof(old, cp.size) if old else []
            code, body = client.add_checkpoint(format_add_checkpoint(old, proof, note))
            if code == 409 and body.strip().isdigit():
                status.witness_size = int(body.strip())
                continue
            if code != 200:
                raise StoreUnavailable(f"witness {row.name} answered {code}: {body[:200]!r}")
            cosigned = parse_note(note.decode() + body.decode())
            sigs = verify_cosignatures(cosigned, [verifier_for(row.cosigner_vkey or "")])
            if not sigs:
                raise StoreUnavailable(f"witness {row.name} returned no cosignature from its pinned key")
            status.witness_size = cp.size
            with self._cosig_lock:
                kept = self._cosigs[1] if self._cosigs[0] == note else []
                kept = [s for s in kept if s.name != sigs[0].witness] + [c.signature for c in sigs]
                self._cosigs = (note, kept)
            self.state.save_cosigned(self.identity.name, self.cosigned_checkpoint())
            return

    # --- pulling peers ----------------------------------------------------------------------

    def sync(self, name: str) -> SyncResult:
        self.peer_row(name)  # an unknown peer: LogNotFound
        status = self.peers[name]
        with status.syncing:
            return self._sync(name, status)

    def _sync(self, name: str, status: PeerStatus) -> SyncResult:
        row = self.peer_row(name)  # read again: a sync that just finished may have moved its keys
        try:
            history = self.key_history(VerifierKey.parse(row.vkey).name, row.vkey)
            result = sync_peer(
                TileLog.mirror(self.logs, history.pinned, keys=history.keys),
                history,
                self.client(row),
                self.raise_alarm,
                lambda h, events: self._learn_keys(row, h, events),
                max_bytes=self.config.sync_max_bytes,
                max_seconds=self.config.sync_max_seconds,
            )
        except DetenteError as exc:
            status.failures += 1
            status.last_error = exc.message
            raise
        except Exception as exc:  # an untyped error on a peer's input is a bug; never a dead thread or a 500
            status.failures += 1
            status.last_error = describe(exc)
            log.exception("sync peer=%s", name)
            raise StoreUnavailable(
                f"sync of {name} failed on what it served: {status.last_error}",
                hint="nothing was mirrored; see the node's log for the trace and report it",
            ) from exc
        status.mirrored_size = result.size
        status.last_sync = self.clock()
        self._remember(result.origin, result)
        if status.witness_size < self.log.size and row.cosigner_vkey:
            self._publish.set()  # the peer is reachable again: ask it to cosign now, not after a backoff
        status.failures = 0
        self.issue_receipts(row)
        status.last_error = None if result.fork is None else f"fork: {result.fork.detail}"
        return result

    # --- the protocol: receipts, misses, escalation -----------------------------------------

    def _remember(self, origin: str, result: SyncResult) -> None:
        """Keep the records a sync just verified and parsed, so that receipts and the protocol loop
        do not read and parse them again (only when they continue the cache exactly)."""
        if not result.opened:
            return
        with self._cosig_lock:
            cached = self._record_cache.setdefault(origin, [])
            if len(cached) == result.old_size:
                items = [
                    Logged(origin, result.old_size + i, o.leaf_hash.hex(), o.record)
                    for i, o in enumerate(result.opened)
                ]
                self._screen(items)
                cached.extend(items)

    def _mirrored(self, mirror: TileLog, start: int, end: int) -> list[Logged]:
        with self._cosig_lock:
            cached = self._record_cache.get(mirror.origin, [])
            if len(cached) >= end:
                return [x for x in cached[start:end] if (x.origin, x.index) not in self.quarantine]
        items = self.logged(mirror, start, end)
        with self._cosig_lock:
            self._screen(items)
        return [x for x in items if (x.origin, x.index) not in self.quarantine]

    def _screen(self, items: list[Logged]) -> None:
        """Schemas at the border: a mirrored record that does not validate against the catalogue
        schema of its type is quarantined (held under ``_cosig_lock``). Its entry stays in the mirror,
        which is append-only and verifiable, but it is never given to the protocol or a desk."""
        for item in items:
            if item.origin == self.identity.name or (item.origin, item.index) in self.quarantine:
                continue
            try:
                validate_record(item.record)
            except DetenteError as exc:
                self.quarantine[(item.origin, item.index)] = f"{item.record.type}: {exc.message}"[:500]
                log.warning("quarantine origin=%s index=%d reason=%s", item.origin, item.index, exc.message)

    def issue_receipts(self, row: PeerRow) -> int:
        """Append an automatic receipt for every mirrored record of ``row`` addressed to us.

        A cursor remembers how far receipts were issued; it moves only after the receipts are
        durable, so a crash never skips one; and the receipts already in the own log are not issued
        again (a window that failed half-way, or two syncs of one peer at once, found by
        bench/load_bench.py).
        """
        with self._receipt_lock:  # two syncs of one peer (a push and the periodic pull) must not both issue
            if self._receipted is None:  # receipts already in the own log: a failed window is not re-issued
                me = self.identity.name
                self._receipted = {
                    (ref.origin, ref.index)
                    for x in self.all_records()
                    if x.origin == me and x.record.type == RECEIPT
                    for ref in x.record.refs
                }
            return self._issue_receipts(row, self._receipted)

    def _issue_receipts(self, row: PeerRow, receipted: set[tuple[str, int]]) -> int:
        cursor_name = f"receipts:{row.name}"
        mirror = self.mirror(row)
        start = self.state.get_cursor(cursor_name)
        issued = 0
        for begin in range(start, mirror.size, 256):
            end = min(begin + 256, mirror.size)
            for item in self._mirrored(mirror, begin, end):
                if (item.origin, item.index) in receipted:
                    continue
                if self.identity.name in item.record.to and item.record.type != RECEIPT:  # no receipts of receipts
                    now = datetime.fromtimestamp(self.clock(), UTC)
                    self.append(
                        Record(
                            type=RECEIPT,
                            party=self.identity.name,
                            issued=now,
                            body={"received_at": now.isoformat()},
                            to=(item.origin,),
                            refs=(
                                RecordRef(
                                    origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel="receipt-of"
                                ),
                            ),
                        )
                    )
                    receipted.add((item.origin, item.index))
                    issued += 1
                    self.alerts.alert(
                        "arrival",
                        origin=item.origin,
                        index=item.index,
                        type=item.record.type,
                        priority=item.record.body.get("priority"),
                    )
            self.state.set_cursor(cursor_name, end)
        return issued

    def logged(self, tlog: TileLog, start: int, end: int) -> list[Logged]:
        out = []
        for i, entry in enumerate(tlog.entries(start, end), start):
            payload = Envelope.from_json(entry).payload  # verified when it was logged or mirrored
            out.append(Logged(tlog.origin, i, leaf_hash(entry).hex(), Record.from_json(payload)))
        return out

    def logged_at(self, origin: str, index: int) -> list[Logged]:
        """The record at ``origin#index`` in this node's own log or a mirror (empty if none)."""
        if origin == self.identity.name:
            tlog = self.log
        else:
            row = self.peer_by_origin(origin)
            if row is None:
                return []
            tlog = self.mirror(row)
            tlog.refresh()
        if not 0 <= index < tlog.size:
            return []
        items = self.logged(tlog, index, index + 1)
        if origin != self.identity.name:
            with self._cosig_lock:
                self._screen(items)
        return [x for x in items if (x.origin, x.index) not in self.quarantine]

    @property
    def commitments(self) -> CommitmentDesk:
        return CommitmentDesk(self)

    @property
    def exportctl(self) -> ExportDesk:
        return ExportDesk(self)

    @property
    def reports(self) -> ReportDesk:
        return ReportDesk(self)

    @property
    def media(self) -> MediaDesk:
        return MediaDesk(self)

    @property
    def evals(self) -> EvalDesk:
        return EvalDesk(self)

    @property
    def incidents(self) -> IncidentDesk:
        """The incident desk (its index is opened on first use)."""
        with self._cosig_lock:
            if self._incidents is None:
                self._incidents = IncidentDesk(
                    self, open_incident_index(self._store_url), early_warning_to=tuple(self.config.early_warning_to)
                )
            return self._incidents

    def all_records(self) -> list[Logged]:
        """Every record of the own log and of every mirror (each parsed once, then cached)."""
        logs = [self.log] + [self.mirror(row) for row in self.followed()]
        with self._cosig_lock:
            for tlog in logs:
                cached = self._record_cache.setdefault(tlog.origin, [])
                size = tlog.refresh().size if tlog is not self.log else tlog.size
                if size > len(cached):
                    items = self.logged(tlog, len(cached), size)
                    self._screen(items)
                    cached.extend(items)
            bad = self.quarantine
            return [
                x for tlog in logs for x in self._record_cache[tlog.origin] if not bad or (x.origin, x.index) not in bad
            ]

    def run_protocol(self) -> list[Action]:
        """Evaluate every thread we are part of and carry out what is due: record misses,
        escalate, and alert on reminders. Returns the actions taken."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        evaluation = evaluate(self.all_records(), self.agreement, now, self.identity.name)
        for action in evaluation.actions:
            subject = RecordRef(
                origin=action.subject.origin,
                index=action.subject.index,
                leaf_hash=action.subject.leaf_hash,
                rel="missed",
            )
            others = tuple(
                sorted(p for p in {action.subject.origin, *action.subject.record.to} if p != self.identity.name)
            )
            if action.kind == "record-miss":
                missed = {"deadline": action.obligation, "party": action.party, "due": action.due.isoformat()}
                self._protocol_record(DEADLINE_MISSED, missed, others, subject, now)
                self.alerts.alert(
                    "miss",
                    origin=subject.origin,
                    index=subject.index,
                    party=action.party,
                    deadline=action.obligation,
                    due=action.due.isoformat(),
                )
            elif action.kind == "escalate":
                ref = subject.model_copy(update={"rel": "escalation-of"})
                outcome = self._escalate(action, ref, now)
                body = {"step": action.step, "action": action.action, "outcome": outcome[:2048]}
                self._protocol_record(ESCALATION, body, others, ref, now)
                self.alerts.alert(
                    "escalation",
                    origin=subject.origin,
                    index=subject.index,
                    step=action.step,
                    action=action.action,
                    outcome=outcome,
                )
            else:
                self._remind(action, subject)
        for thread in evaluation.threads:  # moratorium and human-control flags: alert once, at both ends
            flags = [f for f in thread.findings if f.startswith(("moratorium:", "human-control:"))]
            key = (thread.subject.origin, thread.subject.index, "flags")
            if flags and key not in self._reminded:
                self._reminded.add(key)
                self.alerts.alert("flag", origin=thread.subject.origin, index=thread.subject.index, findings=flags)
        return evaluation.actions

    def _protocol_record(
        self,
        record_type: str,
        body: Mapping[str, object],
        to: tuple[str, ...],
        ref: RecordRef,
        now: datetime,
        text: BilingualText | None = None,
    ) -> Sequenced:
        record = Record(
            type=record_type, party=self.identity.name, issued=now, to=to, body=dict(body), refs=(ref,), text=text
        )
        return self.append(record)

    def _escalate(self, action: Action, ref: RecordRef, now: datetime) -> str:
        """Carry out one step of the escalation ladder towards the silent party; say what happened.

        ``resend`` pushes our checkpoint to the party again (the push makes it pull at once);
        ``second-channel`` e-mails the unanswered record, signed envelope and all, to the duty
        officers' address the agreement names for that party; ``clarification-request`` and
        ``consultation-meeting-request`` send that record, which has its own deadline. A step
        that cannot be done here is still recorded, with the reason, so operators see it.
        """
        party, subject = action.party, action.subject
        what = f"{subject.record.type} {subject.origin}#{subject.index}"
        due = f"{action.obligation} due {action.due.isoformat()}"
        if action.action == "resend":
            row = self.peer_by_origin(party)
            if row is None:
                return f"not resent: {party} is not a peer of this node"
            return self._push(row)
        if action.action == "second-channel":
            return self._second_channel(party, subject, what, due)
        if action.action in ("clarification-request", "consultation-meeting-request"):
            record_type = f"detente.dev/{action.action}/v1"
            if action.action == "clarification-request":
                body: dict[str, object] = {
                    "question": f"Please confirm receipt of and respond to {what} ({due}).",
                    "concern_basis": f"escalation step {action.step} of agreement {self.agreement.agreement_id}",
                    "urgent": True,
                }
            else:
                body = {"purpose": f"Consultations on the unanswered {what} ({due})."}
            text = BilingualText(
                original=LangText(lang="en", text=str(next(iter(body.values())))),
                translations={"zh": f"请确认收到并答复 {what}（{due}）。"},
            )
            seq = self._protocol_record(record_type, body, (party,), ref, now, text)
            return f"sent {record_type} as {self.identity.name}#{seq.index}"
        return f"no automatic action for {action.action!r}; recorded for operators"

    def _push(self, row: PeerRow) -> str:
        """Send our latest checkpoint to a peer's witness endpoint: a push hint it acts on at once
        (a 409 names the size the peer already has; the request is then sent again from there)."""
        cp = self.log.checkpoint
        status = self.peers.get(row.name)
        old = min(status.witness_size if status else 0, cp.size)
        code = 0
        try:
            for _ in range(2):
                proof = self.log.consistency_proof(old, cp.size) if old else []
                code, body = self.client(row).add_checkpoint(
                    format_add_checkpoint(old, proof, self.log.signed_checkpoint())
                )
                if code != 409 or not body.strip().isdigit():
                    break
                old = min(int(body.strip()), cp.size)
        except DetenteError as exc:
            return f"resend to {row.url} failed: {exc.message}"
        return f"resent: pushed checkpoint {cp.size} to {row.url} (HTTP {code})"

    def _second_channel(self, party: str, subject: Logged, what: str, due: str) -> str:
        contact = self.agreement.contacts.get(party)
        if contact is None or not contact.email:
            return f"no second channel: the agreement names no e-mail contact for {party}"
        if not self.config.smtp:
            return "no second channel: this node has no SMTP server configured (smtp)"
        envelope = (
            self.log.entries(subject.index, subject.index + 1)[0] if subject.origin == self.identity.name else b""
        )
        zh_kind = "答复" if due.startswith("response") else "回执"
        msg = EmailMessage()
        msg["Subject"] = f"[detente] unanswered / 未答复: {what}"
        msg["From"], msg["To"] = self.alerts.email_from, contact.email
        msg.set_content(
            f"{self.identity.name} has had no {due.split()[0]} from {party} to {what} ({due}).\n"
            f"{self.identity.name} 尚未收到 {party} 对 {what} 的{zh_kind}（{due}）。\n\n"
            "The record as logged (DSSE envelope signed by the sender's log key):\n" + envelope.decode()
        )
        error = send_email(self.config.smtp, msg)
        if error is not None:
            return f"second channel failed: {contact.email} via {self.config.smtp}: {error}"
        return f"second channel: e-mailed {contact.email} via {self.config.smtp}"

    def reply(
        self, origin: str, index: int, record_type: str, body: dict[str, object], text: BilingualText | None = None
    ) -> Sequenced:
        """Acknowledge or answer a record addressed to us, referencing its exact leaf."""
        item = next((x for x in self.all_records() if x.origin == origin and x.index == index), None)
        if item is None:
            raise LogNotFound(f"no record {origin}#{index} in this node's logs")
        if self.identity.name not in item.record.to:
            raise MalformedRecord(f"{origin}#{index} is not addressed to {self.identity.name}")
        rel = "answer-to" if record_type in ANSWER_TYPES else "ack-of"
        return self.append(
            Record(
                type=record_type,
                party=self.identity.name,
                issued=datetime.fromtimestamp(self.clock(), UTC),
                to=(origin,),
                body=body,
                text=text,
                refs=(RecordRef(origin=origin, index=index, leaf_hash=item.leaf_hash, rel=rel),),
            )
        )

    def inbox(self, *, open_only: bool = False) -> list[dict[str, object]]:
        """Every thread this party is part of, newest first, with each recipient's state and
        clocks; with ``open_only``, only those with an obligation not yet met (missed included)."""
        return self.inbox_page(open_only=open_only)[1]

    def inbox_page(
        self, *, open_only: bool = False, limit: int | None = None, offset: int = 0
    ) -> tuple[int, list[dict[str, object]]]:
        """The number of threads :meth:`inbox` would list, and the page ``offset`` … ``offset +
        limit`` of them (only that page is turned into answers)."""
        from detente.protocol.threads import Thread, withheld_counts

        now = datetime.fromtimestamp(self.clock(), UTC)
        me = self.identity.name
        records = self.all_records()
        threads = [
            t
            for t in evaluate(records, self.agreement, now, me).threads
            if (me == t.sender or me in t.subject.record.to)
            and not (open_only and all(o.met_at is not None for o in t.obligations))
        ]
        if not open_only:  # a withheld notice names no recipients: every party sees it, with nothing owed
            threads += [Thread(x, []) for x in records if x.record.type == WITHHELD and not x.record.to]
        withheld = withheld_counts(records, self.agreement)
        threads.sort(key=lambda t: t.subject.record.issued, reverse=True)
        out: list[dict[str, object]] = []
        for thread in threads[offset : None if limit is None else offset + limit]:
            rec = thread.subject.record
            code = rec.body.get("code") if isinstance(rec.body.get("code"), str) else None
            matched = self.agreement.code_meaning(code) if code else None
            quota = withheld.get(thread.subject.key)
            findings = [*thread.findings, *(["over-quota"] if quota and quota.over_quota else [])]
            out.append(
                {
                    "origin": thread.subject.origin,
                    "index": thread.subject.index,
                    "leaf_hash": thread.subject.leaf_hash,
                    "type": rec.type,
                    "from": thread.sender,
                    "to": list(rec.to),
                    "issued": rec.issued.isoformat(),
                    "incoming": me in rec.to,
                    "priority": rec.body.get("priority"),
                    "code": code,
                    "code_matched": matched[0] if matched else None,
                    "code_meaning": matched[1] if matched else None,
                    "text": rec.text.model_dump(mode="json") if rec.text else None,
                    "states": {p: thread.state(p).value for p in rec.to},
                    "obligations": [
                        {
                            "party": o.party,
                            "kind": o.kind,
                            "due": o.due.isoformat(),
                            "met_at": o.met_at.isoformat() if o.met_at else None,
                            "missed": o.missed(now),
                            "seconds_left": max(0.0, (o.due - now).total_seconds()) if o.met_at is None else 0.0,
                        }
                        for o in thread.obligations
                    ],
                    "findings": findings,
                    "quota": quota.as_dict() if quota else None,
                    "agreement": thread.agreement_id(self.agreement),
                    "escalations": sorted(thread.escalations or ()),
                }
            )
        return len(threads), out

    def _remind(self, action: Action, subject: RecordRef) -> None:
        key = (subject.origin, subject.index, action.obligation)
        if key not in self._reminded:  # one reminder per obligation, not one per tick
            self._reminded.add(key)
            self.alerts.alert(
                "reminder",
                origin=subject.origin,
                index=subject.index,
                deadline=action.obligation,
                due=action.due.isoformat(),
            )

    def hint(self, origin: str) -> None:
        """A peer told us (by a checkpoint signed with its key) that its log grew."""
        for status in self.peers.values():
            if status.origin == origin:
                status.hint.set()

    # --- background threads -----------------------------------------------------------------

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._publisher, name="detente-publisher", daemon=True),
            threading.Thread(target=self._protocol, name="detente-protocol", daemon=True),
        ]
        for name in self.peers:
            self._threads.append(
                threading.Thread(target=self._syncer, args=(name,), name=f"detente-sync-{name}", daemon=True)
            )
        for t in self._threads:
            t.start()
        self._publish.set()
        for status in self.peers.values():  # catch up at once after downtime
            status.hint.set()

    def _publisher(self) -> None:
        while not self._stop.is_set():
            self._publish.wait(self.loops.backoff("publisher", self.config.sync_interval) or self.config.sync_interval)
            self._publish.clear()
            if not self._stop.is_set():
                self.loops.run("publisher", self._publish_once)

    def _publish_once(self) -> None:
        if not self.publish():
            raise StoreUnavailable("a witness did not cosign the latest checkpoint (see peers' last_error)")

    def _protocol(self) -> None:
        while not self._stop.wait(
            self.loops.backoff("protocol", self.config.protocol_interval * 8) or self.config.protocol_interval
        ):
            self.loops.run("protocol", self.run_protocol)

    def _syncer(self, name: str) -> None:
        """Pull peer ``name`` when hinted and every ``sync_interval``; back off while it fails.
        Nothing a peer serves ends this loop: every failure is counted and shown in status."""
        status = self.peers[name]
        loop = f"sync:{name}"
        while not self._stop.is_set():
            status.hint.wait(self.loops.backoff(loop, self.config.sync_interval) or self.config.sync_interval)
            status.hint.clear()
            if self._stop.is_set():
                return
            self.loops.run(loop, lambda: self.sync(name))

    def stop(self) -> None:
        self._stop.set()
        self._publish.set()
        for status in self.peers.values():
            status.hint.set()
        for t in self._threads:
            t.join(timeout=5)
        self.sequencer.close()
        self._witnesses.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()
        self.alerts.close()
