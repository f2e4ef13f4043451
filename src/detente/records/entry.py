"""Log entries: a record sealed in a DSSE envelope signed by its party.

The bytes appended to a party's log are the canonical JSON of a DSSE envelope whose payload is
the record's canonical JSON and whose payload type is :data:`RECORD_PAYLOAD_TYPE`. Opening an
entry verifies the envelope with the party's key, parses the record from the *verified* payload,
and checks that the record claims the same party as the key that signed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from detente.crypto.dsse import (
    Ed25519DSSESigner,
    Ed25519DSSEVerifier,
    Envelope,
    sign_envelope,
    verify_envelope,
)
from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.errors import EntryTooLarge, UnknownKey
from detente.records.record import Record
from detente.tlog.hashing import leaf_hash
from detente.tlog.tiles import MAX_ENTRY_SIZE

__all__ = ["RECORD_PAYLOAD_TYPE", "OpenedEntry", "open_entry", "seal_record"]

RECORD_PAYLOAD_TYPE = "application/vnd.detente.record+json"


def seal_record(record: Record, identity: Ed25519Identity) -> bytes:
    """Sign ``record`` as ``identity`` and return the log entry bytes."""
    if record.party != identity.name:
        raise UnknownKey(
            f"record claims party {record.party!r} but would be signed by {identity.name!r}",
            hint="a party signs only records that name its own log origin",
        )
    env = sign_envelope(RECORD_PAYLOAD_TYPE, record.to_json(), [Ed25519DSSESigner(identity)])
    entry = env.to_json()
    if len(entry) > MAX_ENTRY_SIZE:
        raise EntryTooLarge(f"sealed record is {len(entry)} bytes; the limit is {MAX_ENTRY_SIZE}")
    return entry


@dataclass(frozen=True)
class OpenedEntry:
    record: Record
    envelope: Envelope
    leaf_hash: bytes


@lru_cache(maxsize=256)
def _verifier(key: VerifierKey) -> Ed25519DSSEVerifier:
    """One verifier per key, made once: opening a log's entries uses the same key thousands of times."""
    return Ed25519DSSEVerifier(key)


def open_entry(entry: bytes, party_keys: Sequence[VerifierKey]) -> OpenedEntry:
    """Verify a log entry with the party's key(s) and return the record it carries.

    The sync's verify workers restate these checks for one key, for speed
    (:func:`detente.node.verify_pool._verified` and ``_finish``): a check changed here changes there."""
    env = Envelope.from_json(entry)
    verified = verify_envelope(env, [_verifier(k) for k in party_keys], payload_types=[RECORD_PAYLOAD_TYPE])
    record = Record.from_json(verified.payload)
    signers = {keyid.rsplit("+", 1)[0] for keyid in verified.keyids}
    if record.party not in signers:
        raise UnknownKey(f"record claims party {record.party!r} but was signed by {sorted(signers)}")
    return OpenedEntry(record, env, leaf_hash(entry))
