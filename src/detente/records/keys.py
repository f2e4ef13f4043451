"""Rotation and revocation of a party's log key, and the key history they define for one log.

The chain of trust is *pinned key → rotation record → new key*: a ``key-rotation`` record,
signed by the key in force where it is logged, names the next key (same name, the log origin;
another key ID). The key in force at position ``j`` of a log, ``K(j)``, is the pinned key,
replaced by the key each rotation record names for every position *after* that record:

- entry ``j`` must be signed by ``K(j)``;
- a checkpoint of size ``s`` must be signed by ``K(s)``, so the checkpoint that first covers a
  rotation record is already signed by the new key (proof that the party holds it).

A ``key-revocation`` record at ``r``, signed by ``K(r)``, names a key ``R`` the log used before
(never the key in force: rotate first), the time from which it must not be trusted, and
``last_index``, the last position the party vouches for among those ``R`` signed (-1: none).
Entries ``R`` signed after ``last_index`` and before the record rotating away from it were
already logged (the log cannot drop them): they are *disowned*, kept but flagged to every
verifier. The rotation record itself is always vouched for: the revoking key's authority comes
from it. Any signature by ``R`` after that rotation record is revoked: refused, and an alarm.
The index is the rule; the time is the party's statement of when the compromise began (records
carry only the time their signer claims).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import Field, ValidationError, field_validator

from detente._internal.validation import describe_validation_error
from detente.crypto.keys import SIG_ED25519, VerifierKey
from detente.errors import DetenteError, MalformedKey, MalformedRecord, UnknownKey, VerificationError
from detente.records.body import Body, UtcTime
from detente.records.entry import OpenedEntry, open_entry
from detente.records.record import Record

__all__ = [
    "KEY_REVOCATION",
    "KEY_ROTATION",
    "Disowned",
    "KeyEvent",
    "KeyHistory",
    "KeyRevocation",
    "KeyRotation",
    "parse_time",
]

KEY_ROTATION = "detente.dev/key-rotation/v1"
KEY_REVOCATION = "detente.dev/key-revocation/v1"


def _log_key(value: str) -> str:
    try:
        vk = VerifierKey.parse(value)
    except MalformedKey as exc:
        raise ValueError(exc.message) from None
    if vk.sig_type != SIG_ED25519:
        raise ValueError("a party log key is an Ed25519 (type 0x01) verifier key")
    return str(vk)


class KeyRotation(Body):
    """The party's next log key, announced by (signed with) the key in force."""

    vkey: str = Field(max_length=512, description="the new log key (type 0x01; its name is the log origin)")
    reason: str = Field(default="", max_length=1024, description="e.g. scheduled rotation, suspected compromise")

    _vkey = field_validator("vkey")(_log_key)


class KeyRevocation(Body):
    """A key this log used before must not be trusted after ``last_index``."""

    vkey: str = Field(max_length=512, description="the revoked log key (type 0x01)")
    effective: UtcTime = Field(description="UTC time from which the key must not be trusted")
    last_index: int = Field(ge=-1, description="the last log index signed by this key that the party vouches for")
    reason: str = Field(min_length=1, max_length=2048)

    _vkey = field_validator("vkey")(_log_key)


@dataclass(frozen=True)
class KeyEvent:
    """One rotation or revocation as a verifier keeps it: where it is logged and what it says."""

    index: int
    kind: str  # "rotation" or "revocation"
    vkey: str
    last_index: int | None = None


@dataclass(frozen=True)
class Disowned:
    """Entries ``first..last`` (inclusive) that a revoked key signed before its revocation was logged."""

    key: VerifierKey
    first: int
    last: int
    revocation_index: int


class KeyHistory:
    """The keys of one log, from the pinned key through every verified rotation and revocation.

    Built from events that were verified when first seen; :meth:`apply` verifies a new one.
    """

    def __init__(self, pinned: VerifierKey, events: Sequence[KeyEvent] = ()) -> None:
        self.pinned = pinned
        self.events: list[KeyEvent] = sorted(events, key=lambda e: e.index)
        self._keys: list[tuple[int, VerifierKey]] = [(-1, pinned)]  # (index of the rotation record, key)
        self._revoked: dict[VerifierKey, int] = {}
        for event in self.events:
            self._add(event)

    @property
    def origin(self) -> str:
        return self.pinned.name

    @property
    def keys(self) -> tuple[VerifierKey, ...]:
        """Every key the log has used, oldest first."""
        return tuple(k for _, k in self._keys)

    @property
    def current(self) -> VerifierKey:
        return self._keys[-1][1]

    def copy(self) -> KeyHistory:
        return KeyHistory(self.pinned, self.events)

    def key_at(self, position: int) -> VerifierKey:
        """``K(position)``: the key for entry ``position`` and for a checkpoint of that size."""
        key = self.pinned
        for index, k in self._keys:
            if index < position:
                key = k
        return key

    def span(self, key: VerifierKey) -> tuple[int, int | None]:
        """The positions ``key`` was in force: first, and last (``None`` while it still is)."""
        for n, (index, k) in enumerate(self._keys):
            if k == key:
                last = self._keys[n + 1][0] if n + 1 < len(self._keys) else None
                return index + 1, last
        raise UnknownKey(f"{key} is not a key of {self.origin}")

    def revoked_at(self, key: VerifierKey, position: int) -> bool:
        """Whether a signature by ``key`` at ``position`` falls after the key's revocation point."""
        last = self._revoked.get(key)
        return last is not None and position > last

    def check_signer(self, position: int) -> VerifierKey:
        """The key that must sign at ``position``; raises if that key is revoked there."""
        key = self.key_at(position)
        if self.revoked_at(key, position):
            raise UnknownKey(f"the key in force at {self.origin}#{position} was revoked after #{self._revoked[key]}")
        return key

    def open_entry(self, entry: bytes, position: int) -> OpenedEntry:
        """Verify entry ``position`` with exactly ``K(position)`` (not revoked there)."""
        return open_entry(entry, [self.check_signer(position)])

    def revoked_signer(self, blob: bytes, position: int) -> VerifierKey | None:
        """The revoked key that validly signed entry ``blob`` at ``position``, if one did.

        Used after :meth:`open_entry` failed, to tell a signature by a revoked key (an alarm:
        the compromised key is being used) from any other bad entry (a refusal)."""
        for key, last in self._revoked.items():
            if position > last:
                try:
                    open_entry(blob, [key])
                except DetenteError:
                    continue
                return key
        return None

    def revoked_keys(self, position: int) -> list[VerifierKey]:
        """The keys whose signatures at ``position`` are revoked."""
        return [k for k, last in self._revoked.items() if position > last]

    def apply(self, position: int, record: Record) -> tuple[KeyEvent, Disowned | None] | None:
        """Verify a rotation or revocation record logged at ``position`` (already verified as
        signed by ``K(position)``) and add it; ``None`` for other records. Returns the event and,
        for a revocation, the entries it disowns (if any)."""
        if record.type not in (KEY_ROTATION, KEY_REVOCATION):
            return None
        if record.party != self.origin:
            raise MalformedRecord(f"a key record of {record.party!r} cannot be in the log of {self.origin!r}")
        signer = self.key_at(position)
        try:
            if record.type == KEY_ROTATION:
                rotation = KeyRotation.model_validate(record.body)
                new = VerifierKey.parse(rotation.vkey)
                if new.name != self.origin:
                    raise VerificationError(f"a rotation in {self.origin} names a key for {new.name!r}")
                if new in self.keys:
                    raise VerificationError(f"{self.origin}#{position} rotates to {new}, a key it used before")
                event = KeyEvent(position, "rotation", str(new))
                self._check_order(position)
                self.events.append(event)
                self._add(event)
                return event, None
            revocation = KeyRevocation.model_validate(record.body)
        except ValidationError as exc:
            raise MalformedRecord(describe_validation_error(exc, record.type)) from None
        revoked = VerifierKey.parse(revocation.vkey)
        if revoked not in self.keys:
            raise VerificationError(f"{self.origin}#{position} revokes {revoked}, a key this log never used")
        if revoked == signer:
            raise VerificationError(f"{self.origin}#{position} revokes the key that signs it; rotate first")
        if revocation.last_index >= position:
            raise VerificationError(
                f"{self.origin}#{position} vouches for index {revocation.last_index}, which is not logged before it"
            )
        self._check_order(position)
        event = KeyEvent(position, "revocation", str(revoked), revocation.last_index)
        self.events.append(event)
        self._add(event)
        first, rotated = self.span(revoked)
        low, high = max(first, revocation.last_index + 1), (rotated if rotated is not None else position) - 1
        return event, (Disowned(revoked, low, high, position) if low <= high else None)

    def _check_order(self, position: int) -> None:
        if self.events and self.events[-1].index >= position:
            raise VerificationError(f"key record {self.origin}#{position} is not after #{self.events[-1].index}")

    def _add(self, event: KeyEvent) -> None:
        key = VerifierKey.parse(event.vkey)
        if event.kind == "rotation":
            self._keys.append((event.index, key))
        elif event.kind == "revocation" and event.last_index is not None:
            _, rotated = self.span(key)  # its rotation record stays vouched for (see the module docstring)
            point = max(event.last_index, rotated if rotated is not None else event.last_index)
            prior = self._revoked.get(key)
            self._revoked[key] = point if prior is None else min(prior, point)
        else:
            raise MalformedRecord(f"unknown key event {event.kind!r}")


def parse_time(value: str) -> datetime:
    """An ISO 8601 time with a zone (``Z`` accepted), as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MalformedRecord(f"{value!r} is not an ISO 8601 time", hint="e.g. 2026-12-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise MalformedRecord(f"{value!r} has no time zone", hint="end it with Z for UTC")
    return parsed.astimezone(UTC)
