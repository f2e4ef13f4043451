"""This party's side of sealed records (``docs/sealed.md``): its encryption keys, sealing what it
sends to the recipients' published keys, opening what is sealed to it, and disclosures.

Private keys live in the node folder's ``encryption-keys/`` (one file a key, mode 0600, never
overwritten, never deleted by detente), so a record sealed to an old key stays readable after a
rotation. Public keys are records of each party's own log (``detente.dev/encryption-key/v1``):
a peer's are learnt by sync, like everything else it says.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from detente.crypto.sealing import EncryptionKey
from detente.errors import (
    DetenteError,
    Forbidden,
    KeyFileError,
    LogNotFound,
    MalformedRecord,
    UnknownRecipient,
    VerificationError,
)
from detente.node.records import RecordBook
from detente.node.sequencer import Sequenced
from detente.protocol.threads import Logged
from detente.records.catalogue import CATALOGUE
from detente.records.record import TLP, Record
from detente.records.sealing import (
    ENCRYPTION_KEY,
    RESTRICTED,
    Opened,
    current_keys,
    disclosure,
    open_record,
    seal_record_content,
)
from detente.store.node_protocol import SealedFindingRow

__all__ = ["MAX_FINDINGS", "READERS", "SealDesk"]

log = logging.getLogger(__name__)

MAX_FINDINGS = 1000
"""How many sealed-record findings a node keeps (the most recently noted): a hostile peer that
signs records it cannot read fills no disk and no memory."""

READERS: dict[TLP, frozenset[str]] = {
    TLP.AMBER: frozenset({"viewer", "officer", "admin"}),
    TLP.AMBER_STRICT: frozenset({"viewer", "officer", "admin"}),
    TLP.RED: frozenset({"officer", "admin"}),
}
"""Which operator roles of a recipient node may read a sealed record's content. TLP:RED is for
the named recipients only: at a node, the duty officers and administrators, not every viewer."""


class SealDesk:
    def __init__(
        self,
        me: str,
        base: Path,
        records: RecordBook,
        append: Callable[[Record], Sequenced],
        clock: Callable[[], float],
    ) -> None:
        self.me = me
        self.folder = base / "encryption-keys"
        self.records = records
        self._append = append
        self.clock = clock
        self._lock = threading.Lock()
        self._failed: dict[tuple[str, int], dict[str, Any]] = {}  # oldest noted first, as in the store
        self._loaded = False
        self._scan_lock = threading.Lock()

    # --- keys ------------------------------------------------------------------------------

    def private_keys(self) -> dict[str, EncryptionKey]:
        """Every encryption key this node holds, by key ID (a file readable by others is refused)."""
        out: dict[str, EncryptionKey] = {}
        if not self.folder.is_dir():
            return out
        for path in sorted(self.folder.glob("*.key")):
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFileError(
                    f"encryption key file {path} is accessible by other users", hint=f"run: chmod 600 {path}"
                )
            try:
                raw = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
                key = EncryptionKey.from_bytes(raw)
            except (ValueError, DetenteError):
                raise KeyFileError(f"{path} is not an X25519 key file") from None
            out[key.key_id] = key
        return out

    def published(self) -> dict[str, tuple[str, bytes]]:
        """Each party's key to seal to, from the encryption-key records of every followed log."""
        items = self.records.of_type([ENCRYPTION_KEY])
        return current_keys([(x.origin, x.record.body) for x in items if x.record.party == x.origin])

    def rotate(self) -> dict[str, Any]:
        """Make a new encryption key, keep it in the node folder, and publish it in this party's log
        (the previous keys stay, so what was sealed to them stays readable here)."""
        with self._lock:
            key = EncryptionKey.generate()
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = self.folder / f"{key.key_id}.key"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(base64.b64encode(key.private_bytes()).decode() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            body = {"kem": "X25519", "public_key": base64.b64encode(key.public_bytes()).decode(), "key_id": key.key_id}
            seq = self._append(Record(type=ENCRYPTION_KEY, party=self.me, issued=self._now(), body=body))
            return {"key_id": key.key_id, "index": seq.index, "file": str(path)}

    def revoke(self, key_id: str) -> dict[str, Any]:
        """Publish that this party's key ``key_id`` must no longer be sealed to (stolen, retired). The
        private key stays in the node folder: what was sealed to it stays readable here."""
        key = self.private_keys().get(key_id)
        if key is None:
            raise LogNotFound(
                f"this node holds no encryption key {key_id!r}", hint="list them with GET /api/v1/keys/encryption"
            )
        body = {
            "kem": "X25519",
            "public_key": base64.b64encode(key.public_bytes()).decode(),
            "key_id": key_id,
            "status": "revoked",
        }
        seq = self._append(Record(type=ENCRYPTION_KEY, party=self.me, issued=self._now(), body=body))
        return {"key_id": key_id, "revoked": True, "index": seq.index}

    def ensure_key(self) -> str | None:
        """Publish a first encryption key if this party has none in force; its ID (``None`` when one
        was already in force)."""
        if self.me in self.published():
            return None
        return str(self.rotate()["key_id"])

    # --- sending and reading -------------------------------------------------------------------

    def check_sendable(self, tlp: TLP, to: tuple[str, ...], what: str, unsent: str) -> None:
        """A restricted record (``what``: "incident", "takedown request") names recipients that each
        published an encryption key, refused before anything is signed (``unsent`` says what was not
        done); this party's own key is published first, so that its node reads back what it sent.
        An open marking passes."""
        if tlp not in RESTRICTED:
            return
        if not to:
            raise MalformedRecord(
                f"a {tlp.value} {what} is sealed to its recipients: name them",
                hint="add --to PEER (repeatable; the peers' short names or log origins)",
            )
        missing = [p for p in to if p not in self.published()]
        if missing:
            raise UnknownRecipient(
                f"{', '.join(missing)} published no encryption key: a {tlp.value} {what} cannot be sealed to it; "
                f"{unsent}",
                hint="ask that party to publish one (detente key encryption) and wait for the sync, "
                "or mark it TLP:CLEAR or TLP:GREEN",
            )
        self.ensure_key()

    def send(self, record_type: str, body: dict[str, Any], tlp: TLP, to: tuple[str, ...]) -> Sequenced:
        """Sign ``body`` as a record of this party marked ``tlp`` to ``to`` (sealed by the writer)."""
        return self._append(Record(type=record_type, party=self.me, issued=self._now(), body=body, tlp=tlp, to=to))

    def seal(self, record: Record) -> Record:
        """The record as it will be signed: sealed to its recipients when its marking restricts it."""
        if record.tlp not in RESTRICTED or record.sealed is not None:
            return record
        return seal_record_content(record, self.published())

    def open(self, origin: str, index: int, role: str) -> dict[str, Any]:
        """The content of a sealed record addressed to this party, for an operator of ``role``."""
        item = next(iter(self.records.at(origin, index)), None)
        if item is None:
            raise LogNotFound(f"no record {origin}#{index} in this node's logs")
        record = item.record
        if record.sealed is None:
            raise MalformedRecord(f"{origin}#{index} is not sealed: read it with GET /api/v1/records")
        if role not in READERS.get(record.tlp, frozenset()):
            raise Forbidden(
                f"a {record.tlp.value} record is readable by the roles {', '.join(sorted(READERS[record.tlp]))}",
                hint="ask a duty officer of this node",
            )
        opened = self.read(origin, index, record)
        return {
            "origin": origin,
            "index": index,
            "leaf_hash": item.leaf_hash,
            "tlp": record.tlp.value,
            "problems": self._problems(record, opened),
            **opened.as_dict(),
        }

    def read(self, origin: str, index: int, record: Record, keys: dict[str, EncryptionKey] | None = None) -> Opened:
        """Open ``origin#index`` (sealed to this party) with this node's keys; a record that does
        not open is noted as a finding (:meth:`findings`) before the error is raised."""
        try:
            return open_record(record, self.me, self.private_keys() if keys is None else keys)
        except VerificationError as exc:  # sealed to this party, and it does not open
            self.note_failure(origin, index, exc.message, record)
            raise

    def _load(self) -> None:
        """The findings kept in the node store (so that a restart still lists them), once; under
        ``self._lock``."""
        if self._loaded:
            return
        self._loaded = True
        try:
            rows = self.records.state.sealed_findings()
        except DetenteError as exc:
            log.warning("sealed findings not read from the node store: %s", exc.message)
            return
        for r in sorted(rows, key=lambda r: r.at):
            row = {"origin": r.origin, "index": r.index, "reason": r.reason}
            if r.type is not None:
                row |= {"type": r.type, "from": r.sender, "tlp": r.tlp}
            self._failed[(r.origin, r.index)] = row

    def note_failure(self, origin: str, index: int, reason: str, record: Record | None = None) -> None:
        """Remember that a sealed record addressed to this party cannot be read here, and why: in
        the node store (it survives a restart), the newest :data:`MAX_FINDINGS` only."""
        with self._lock:
            self._load()
            old = self._failed.pop((origin, index), None)
            row: dict[str, Any] = dict(old) if old is not None else {"origin": origin, "index": index}
            row["reason"] = reason
            if record is not None:
                row |= {"type": record.type, "from": record.party, "tlp": record.tlp.value}
            self._failed[(origin, index)] = row  # the most recently noted last
            while len(self._failed) > MAX_FINDINGS:
                del self._failed[next(iter(self._failed))]
            if row == old or index < 0:  # nothing new to keep; a node-wide problem is not a record's
                return
            found = SealedFindingRow(
                origin, index, reason, row.get("type"), row.get("from"), row.get("tlp"), int(self.clock() * 1e6)
            )
            try:
                self.records.state.note_sealed_finding(found, keep=MAX_FINDINGS)
            except DetenteError as exc:  # listed from memory meanwhile; noted again when next seen
                log.warning("sealed finding %s#%d not kept in the node store: %s", origin, index, exc.message)

    def findings(self) -> list[dict[str, Any]]:
        """Sealed records addressed to this party that its node cannot read (an altered ciphertext,
        a key it does not hold, a content that does not match its commitment), oldest first. Every
        record not yet looked at is tried first; a failure is a finding, never an exception."""
        with self._scan_lock:
            try:
                self._scan()
            except DetenteError as exc:  # e.g. a key file readable by others: say so, keep serving
                self.note_failure("", -1, f"sealed records not checked: {exc.message}")
        with self._lock:
            self._load()
            return [dict(v) for _, v in sorted(self._failed.items())]

    def finding(self, origin: str, index: int) -> str | None:
        """Why ``origin#index`` cannot be read here (``None``: it can, or it is not sealed to us)."""
        with self._lock:
            self._load()
            row = self._failed.get((origin, index))
            return None if row is None else str(row["reason"])

    def _scan(self) -> None:
        # as far as the record index goes (the sync indexes what it verifies): a status poll does
        # not re-verify every mirror's checkpoint
        origins = [self.me, *(self.records.peers.status[r.name].origin for r in self.records.peers.followed())]
        keys: dict[str, EncryptionKey] | None = None
        for origin in origins:
            cursor = f"sealed-scan:{origin}"  # kept in the node store: a restart does not read every log again
            start = self.records.state.get_cursor(cursor)
            rows = self.records.state.records(origin, start=start, sealed=True)  # not every record: #26
            for row in rows:
                if b'"sealed"' not in row.record:
                    continue
                try:
                    record = Record.from_json(row.record)
                except (DetenteError, ValueError):
                    continue  # admitted records parse; a row that does not is the store's problem
                if record.sealed is None or all(t.party != self.me for t in record.sealed.to):
                    continue
                keys = self.private_keys() if keys is None else keys
                with contextlib.suppress(DetenteError):  # a failure is noted as a finding
                    self.read(row.origin, row.index, record, keys)
            if rows:
                self.records.state.set_cursor(cursor, rows[-1].index + 1)

    def annotate(self, rows: list[dict[str, object]]) -> list[dict[str, object]]:
        """Inbox rows, each sealed record this node cannot read marked with the reason
        (``sealed_problem``) and ``cannot-open-sealed`` among its findings."""
        self.findings()
        for row in rows:
            reason = self.finding(str(row.get("origin")), int(str(row.get("index", -1))))
            if reason is not None:
                row["sealed_problem"] = reason
                found = row.get("findings")
                row["findings"] = [*(found if isinstance(found, list) else []), "cannot-open-sealed"]
        return rows

    def opened(self, item: Logged) -> Logged:
        """A sealed record as a desk (takedowns, evaluations) reads it: its body and text opened, when
        it is sealed to this party and its marking is readable by every role of this node (TLP:AMBER,
        AMBER+STRICT; a desk's answers go to any role). Otherwise a typed error saying why: TLP:RED
        is read only through :meth:`open` by the roles READERS names."""
        record = item.record
        where = f"{item.origin}#{item.index}"
        if record.sealed is None:
            return item
        if all(t.party != self.me for t in record.sealed.to):
            raise VerificationError(
                f"{where} is sealed ({record.tlp.value}) to {', '.join(record.to)}: this node cannot read it",
                hint="only its recipients read its content; its frame (type, parties, time) is public",
            )
        if "viewer" not in READERS.get(record.tlp, frozenset()):
            raise Forbidden(
                f"{where} is {record.tlp.value}: its content is read by this node's "
                f"{' and '.join(sorted(READERS[record.tlp]))}s only, not through this view",
                hint=f"read it with GET /api/v1/records/{item.origin}/{item.index}/open (officer token)",
            )
        opened = self.read(item.origin, item.index, record)
        problems = self._problems(record, opened)
        if problems:
            self.note_failure(item.origin, item.index, problems[0], record)
            raise VerificationError(f"{where}: {problems[0]}", hint="its sender must send a corrected record")
        return Logged(item.origin, item.index, item.leaf_hash, record.model_copy(update=opened.as_record_update()))

    def disclose(self, origin: str, index: int) -> dict[str, Any]:
        """What this party hands to a third party to show what the sender sealed to it."""
        item = next(iter(self.records.at(origin, index)), None)
        if item is None:
            raise LogNotFound(f"no record {origin}#{index} in this node's logs")
        opened = self.read(origin, index, item.record)
        return disclosure(origin, index, item.leaf_hash, opened)

    def _problems(self, record: Record, opened: Opened) -> list[str]:
        """What is wrong with the opened content: its body against its type's schema."""
        spec = CATALOGUE.get(record.type)
        if spec is None:
            return []
        try:
            spec.body.model_validate(opened.body)
        except ValueError as exc:
            return [f"the sealed body does not match its catalogue schema: {str(exc).splitlines()[0]}"]
        return []

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)
