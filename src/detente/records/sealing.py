"""Confidential records in a public log (``docs/sealed.md``): TLP:AMBER, TLP:AMBER+STRICT and
TLP:RED records carry their content sealed to the named recipients.

What stays public is what the protocol needs to judge deadlines and what an auditor needs to
verify the log: the type, the sender, the time, the recipients, the references, the TLP marking,
and for a hotline message its ``priority`` and ``topic`` (:data:`PUBLIC_FIELDS`). The body and the
bilingual text are the *content*: canonical JSON, sealed (:mod:`detente.crypto.sealing`) and
committed to. A recipient opens it; anyone can check a disclosure of it against the signed record.

Each party publishes its X25519 encryption keys as records of its own log
(:data:`ENCRYPTION_KEY`): the newest active one is the one others seal to; a key's revocation
record stops others from sealing to it. Pure: keys in, records out.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from detente.crypto.canonical import canonical_json, parse_json
from detente.crypto.sealing import SUITE, EncryptionKey, commitment, key_id, open_content, seal_content
from detente.errors import DetenteError, MalformedRecord, UnknownRecipient, VerificationError
from detente.records.record import TLP, Record
from detente.records.seal import Sealed, SealedTo
from detente.records.text import BilingualText

__all__ = [
    "ENCRYPTION_KEY",
    "PUBLIC_FIELDS",
    "RESTRICTED",
    "EncryptionKeyBody",
    "Opened",
    "check_sealed_frame",
    "current_keys",
    "disclosure",
    "open_record",
    "seal_record_content",
    "verify_disclosure",
]

ENCRYPTION_KEY = "detente.dev/encryption-key/v1"
RESTRICTED = frozenset({TLP.AMBER, TLP.AMBER_STRICT, TLP.RED})
PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "detente.dev/hotline-message/v1": ("priority", "topic"),
}
"""Body fields of a sealed record that stay readable by all: what deadlines depend on (the
response window by priority, the follow-up owed after an export-control violation notice)."""


class EncryptionKeyBody(BaseModel):
    """A party's X25519 encryption key for sealed records (``status: revoked``: seal no more to it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kem: Literal["X25519"] = "X25519"
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="raw X25519 public key, base64")
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$", description="first 16 hex digits of the key's SHA-256")
    status: Literal["active", "revoked"] = "active"


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRecord(f"sealed record: {what} is not base64") from None


def _header(record: Record) -> bytes:
    """The public header a seal is bound to."""
    head = record.model_dump(by_alias=True, mode="json", include={"type", "party", "issued", "to", "refs", "tlp"})
    return b"detente sealed header v1\n" + canonical_json(head)


def check_sealed_frame(record: Record) -> None:
    """A restricted marking and a sealed content go together; the seal names exactly the
    recipients; only the public fields stay in the body; the text is sealed too."""
    if record.sealed is None:
        if record.tlp in RESTRICTED:
            raise MalformedRecord(
                f"a {record.tlp.value} record must be sealed to its recipients",
                hint="send it through a node (POST /api/v1/records), which seals it to its recipients, "
                "or mark it TLP:CLEAR or TLP:GREEN",
            )
        return
    if record.tlp not in RESTRICTED:
        raise MalformedRecord(
            f"a sealed record must be marked TLP:AMBER, TLP:AMBER+STRICT or TLP:RED, not {record.tlp}"
        )
    parties = [t.party for t in record.sealed.to]
    if len(set(parties)) != len(parties) or not record.to or set(parties) - {record.party} != set(record.to):
        raise MalformedRecord(
            "a sealed record's content must be sealed to each of its recipients once, and only to them"
        )
    extra = set(record.body) - set(PUBLIC_FIELDS.get(record.type, ()))
    if extra:
        raise MalformedRecord(
            f"a sealed record keeps only its public fields in the open; {sorted(extra)} must be sealed"
        )
    if any(not isinstance(v, str) or len(v) > 64 for v in record.body.values()):
        raise MalformedRecord("a sealed record's public fields are short strings")
    if record.text is not None:
        raise MalformedRecord("a sealed record's text is sealed with its body")
    for t in record.sealed.to:
        _b64(t.wrapped, "a wrapped key")
    _b64(record.sealed.nonce, "the nonce")
    _b64(record.sealed.ciphertext, "the ciphertext")


def current_keys(records: list[tuple[str, dict[str, Any]]]) -> dict[str, tuple[str, bytes]]:
    """Each party's key to seal to, from its encryption-key records in log order (``(party,
    body)``): the newest active key not revoked since."""
    out: dict[str, tuple[str, bytes]] = {}
    revoked: set[tuple[str, str]] = set()
    for party, body in records:
        try:
            key = EncryptionKeyBody.model_validate(body)
        except ValueError:
            continue  # a malformed key record (quarantined anyway) is no key
        if key.status == "revoked":
            revoked.add((party, key.key_id))
            if out.get(party, ("", b""))[0] == key.key_id:
                del out[party]
            continue
        raw = _b64(key.public_key, "a public key")
        if key_id(raw) != key.key_id or (party, key.key_id) in revoked:
            continue
        out[party] = (key.key_id, raw)
    return out


def seal_record_content(record: Record, keys: dict[str, tuple[str, bytes]]) -> Record:
    """The record with its body and text sealed to its recipients' keys (``party → (key ID, raw
    public key)``) and to its sender's own, if it has published one; only the public fields left in
    the open. Refused, before anything is signed, when a recipient has published no key."""
    missing = [p for p in record.to if p not in keys]
    if not record.to:
        raise MalformedRecord(f"a {record.tlp.value} record must name its recipients", hint="add --to")
    if missing:
        raise UnknownRecipient(
            f"{', '.join(missing)} published no encryption key: a {record.tlp.value} record cannot be sealed to it",
            hint="ask that party to publish one (detente keys encryption), wait for the sync, or mark the record "
            "TLP:CLEAR or TLP:GREEN",
        )
    content = canonical_json(
        {"body": record.body, "text": record.text.model_dump(mode="json") if record.text else None}
    )
    public = {k: record.body[k] for k in PUBLIC_FIELDS.get(record.type, ()) if k in record.body}
    frame = record.model_copy(update={"body": public, "text": None})
    readers = [*record.to, *([record.party] if record.party in keys else [])]  # the sender reads what it sent
    digest, nonce, ciphertext, wrapped = seal_content(content, [(p, keys[p][1]) for p in readers], _header(frame))
    sealed = Sealed(
        suite=SUITE,
        commitment=digest,
        nonce=base64.b64encode(nonce).decode(),
        ciphertext=base64.b64encode(ciphertext).decode(),
        to=tuple(
            SealedTo(party=w.recipient, key_id=w.key_id, wrapped=base64.b64encode(w.wrapped).decode()) for w in wrapped
        ),
    )
    return frame.model_copy(update={"sealed": sealed})


@dataclass(frozen=True)
class Opened:
    """A sealed record's content as its recipient reads it."""

    body: dict[str, Any]
    text: BilingualText | None
    salt: bytes
    content: bytes

    def as_dict(self) -> dict[str, Any]:
        return {"body": self.body, "text": self.text.model_dump(mode="json") if self.text else None}

    def as_record_update(self) -> dict[str, Any]:
        """The record's fields the content replaces (for ``Record.model_copy(update=…)``)."""
        return {"body": self.body, "text": self.text}


def open_record(record: Record, me: str, keys: dict[str, EncryptionKey]) -> Opened:
    """Open a sealed record addressed to ``me`` with its private keys (by key ID). Raises
    :class:`VerificationError` when the content does not decrypt or does not match its commitment."""
    if record.sealed is None:
        raise MalformedRecord("this record is not sealed")
    mine = next((t for t in record.sealed.to if t.party == me), None)
    if mine is None:
        raise UnknownRecipient(f"this record is not sealed to {me}", hint="only its recipients can read it")
    key = keys.get(mine.key_id)
    if key is None:
        raise VerificationError(
            f"sealed to {me}'s encryption key {mine.key_id}, which this node does not hold",
            hint="restore that key file into the node's encryption-keys folder",
        )
    try:
        salt, content = open_content(
            _b64(mine.wrapped, "a wrapped key"),
            key,
            _b64(record.sealed.nonce, "the nonce"),
            _b64(record.sealed.ciphertext, "the ciphertext"),
            _header(record.model_copy(update={"sealed": None})),
        )
    except DetenteError as exc:
        raise VerificationError(exc.message, hint=exc.hint) from None
    if commitment(content, salt) != record.sealed.commitment:
        raise VerificationError(
            "the sealed content does not match the commitment its sender signed",
            hint="the sender sealed one content and committed to another: keep the record as evidence",
        )
    try:
        parsed = parse_json(content, what="sealed content")
        body, text = parsed.get("body") or {}, parsed.get("text")
        if not isinstance(body, dict):
            raise ValueError("its body is not an object")
        return Opened(body, BilingualText.model_validate(text) if text else None, salt, content)
    except (DetenteError, ValueError, AttributeError) as exc:  # the sender's content: hostile input
        reason = exc.message if isinstance(exc, DetenteError) else str(exc).splitlines()[0]
        raise VerificationError(
            f"the sealed content is not a record's body and text: {reason}",
            hint="the sender committed to this content: keep the record as evidence",
        ) from None


def disclosure(origin: str, index: int, leaf_hash: str, opened: Opened) -> dict[str, Any]:
    """What a recipient hands to a third party to show what the sender sealed."""
    return {
        "disclosure": "detente.dev/sealed-disclosure/v1",
        "record": {"origin": origin, "index": index, "leaf_hash": leaf_hash},
        "salt": base64.b64encode(opened.salt).decode(),
        "content": base64.b64encode(opened.content).decode(),
    }


def verify_disclosure(record: Record, disclosed: dict[str, Any]) -> dict[str, Any]:
    """The disclosed content, if it is exactly what the record's sender committed to; raises
    :class:`VerificationError` otherwise."""
    if record.sealed is None:
        raise VerificationError("the disclosed record is not sealed")
    try:
        salt = base64.b64decode(str(disclosed["salt"]), validate=True)
        content = base64.b64decode(str(disclosed["content"]), validate=True)
    except (KeyError, binascii.Error, ValueError):
        raise VerificationError("a disclosure holds a base64 salt and content") from None
    if commitment(content, salt) != record.sealed.commitment:
        raise VerificationError(
            "the disclosed content is not what the sender committed to",
            hint="the disclosure was altered or belongs to another record",
        )
    return dict(parse_json(content, what="disclosed content"))
