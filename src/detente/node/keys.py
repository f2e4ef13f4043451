"""Rotating and revoking this party's log key, as records in its own log (``detente.records.keys``):
a rotation record signed by the key in force names the new key (the checkpoint covering it is
signed by the new key); a revocation names a key this log used before and the last entry it
vouches for. Finishing a rotation a crash interrupted is :mod:`detente.node.rotation`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.errors import MalformedRecord
from detente.node.alerts import Alerter
from detente.node.keyfile import install_rotated_key, write_identity
from detente.node.keyring import KeyRing
from detente.node.records import RecordBook
from detente.node.sequencer import Sequencer
from detente.node.tilelog import TileLog
from detente.node.writer import Signer, Writer
from detente.records.entry import seal_record
from detente.records.keys import KEY_REVOCATION, KEY_ROTATION
from detente.records.record import Record

__all__ = ["KeyDesk"]

log = logging.getLogger("detente.node")


class KeyDesk:
    def __init__(
        self,
        key_path: Path,
        signer: Signer,
        log_: TileLog,
        sequencer: Sequencer,
        writer: Writer,
        records: RecordBook,
        keyring: KeyRing,
        alerts: Alerter,
        clock: Callable[[], float],
        appended: Callable[[], None],
    ) -> None:
        self.key_path = key_path
        self.signer = signer
        self.log = log_
        self.sequencer = sequencer
        self.writer = writer
        self.records = records
        self.keyring = keyring
        self.alerts = alerts
        self.clock = clock
        self._appended = appended

    def rotate(self, reason: str = "") -> dict[str, object]:
        """Generate a new log key, log a rotation record signed by the current key that names it
        (the checkpoint covering it is signed by the new key), then sign with the new key. The
        old key file is kept as ``<key_file>.<old key ID>``; the configured path holds the new key."""
        with self.signer.lock:
            old = self.signer.identity
            new = Ed25519Identity.generate(old.name)
            key_path = self.key_path
            staged = write_identity(new, key_path.with_name(f"{key_path.name}.{new.vkey().key_id:08x}.new"))
            record = Record(
                type=KEY_ROTATION,
                party=old.name,
                issued=datetime.fromtimestamp(self.clock(), UTC),
                body={"vkey": str(new.vkey()), "reason": reason},
            )
            self.writer.admit(record)
            entry = seal_record(record, old)
            history = self.keyring.history(old.name, str(old.vkey()))
            self.log.schedule_rotation(entry, new)
            seq = self.sequencer.add(entry)
            applied = history.apply(seq.index, record)
            self.keyring.keep(history, (applied[0],) if applied else ())
            kept = install_rotated_key(key_path, staged, old)
            self.signer.identity = new
            self.alerts.identity = new
        self._appended()
        log.warning("key-rotation origin=%s index=%d vkey=%s", old.name, seq.index, new.vkey())
        return {
            "index": seq.index,
            "leaf_hash": seq.leaf_hash.hex(),
            "old_vkey": str(old.vkey()),
            "vkey": str(new.vkey()),
            "cosigner_vkey": str(new.cosigner_vkey()),
            "old_key_file": str(kept),
        }

    def revoke(self, vkey: str, effective: datetime, reason: str, last_index: int | None = None) -> dict[str, object]:
        """Log a revocation of a key this log used before (signed by the key in force). Without
        ``last_index``, the party vouches for the entries that key signed with ``issued`` before
        ``effective``."""
        identity = self.signer.identity
        revoked = VerifierKey.parse(vkey)
        history = self.keyring.history(identity.name, str(identity.vkey()))
        if revoked not in history.keys:
            raise MalformedRecord(f"{revoked} is not a key of {identity.name}")
        if revoked == history.current:
            raise MalformedRecord(
                "the key in force cannot be revoked", hint="rotate first (detente key rotate), then revoke the old key"
            )
        if last_index is None:
            first, last = history.span(revoked)  # the key is not in force, so its span has ended
            last_index = -1
            for item in self.records.logged(self.log, first, (last if last is not None else first) + 1):
                if item.record.issued < effective:
                    last_index = item.index
        record = Record(
            type=KEY_REVOCATION,
            party=identity.name,
            issued=datetime.fromtimestamp(self.clock(), UTC),
            body={"vkey": str(revoked), "effective": effective.isoformat(), "last_index": last_index, "reason": reason},
        )
        history.copy().apply(self.log.size, record)  # refuse what verifiers would refuse, before signing
        seq = self.writer.append(record)
        applied = history.apply(seq.index, record)
        self.keyring.keep(history, (applied[0],) if applied else ())
        return {"index": seq.index, "leaf_hash": seq.leaf_hash.hex(), "vkey": str(revoked), "last_index": last_index}
