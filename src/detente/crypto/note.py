"""C2SP signed notes (https://c2sp.org/signed-note): parse, sign, verify.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> <base64(key ID ‖ signature)>``. The text is separated from the signatures by the
*last* blank line. Verification follows the spec (and Go's ``sumdb/note.Open``): signatures from
unknown keys are ignored, a known key whose signature fails rejects the whole note, and a note with
no verified signature is rejected. Up to :data:`MAX_SIGNATURES` (100, as in Go) are accepted; the
spec asks for at least 16.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from detente._internal.encoding import b64decode, b64encode
from detente.crypto.keys import Ed25519Identity, check_key_name
from detente.crypto.note_verifiers import NoteVerifier, cosignature_message
from detente.errors import MalformedKey, MalformedNote, SignatureError, UnknownKey

__all__ = [
    "MAX_SIGNATURES",
    "CosignatureSigner",
    "Ed25519NoteSigner",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "VerifiedNote",
    "open_note",
    "parse_note",
    "sign_note",
]

MAX_SIGNATURES = 100
_DASH = "— "  # EM DASH, SPACE


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 32-bit key ID and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        raw = struct.pack(">I", self.key_id) + self.signature
        return f"{_DASH}{self.name} {b64encode(raw)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed (not yet verified) signed note. ``text`` includes its final newline."""

    text: str
    signatures: tuple[NoteSignature, ...] = ()

    def to_bytes(self) -> bytes:
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode("utf-8")

    def with_signatures(self, extra: Iterable[NoteSignature]) -> Note:
        seen = set(self.signatures)
        merged = list(self.signatures)
        for sig in extra:
            if sig not in seen:
                merged.append(sig)
                seen.add(sig)
        return Note(self.text, tuple(merged))


@dataclass(frozen=True)
class VerifiedNote:
    """A note whose text was verified by at least one trusted key.

    ``verified`` lists the signatures that verified (with their verifier); ``unverified`` those
    from keys the caller did not trust, which were ignored.
    """

    note: Note
    verified: tuple[tuple[NoteSignature, NoteVerifier], ...]
    unverified: tuple[NoteSignature, ...] = field(default=())

    @property
    def text(self) -> str:
        return self.note.text

    @property
    def verified_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s, _ in self.verified))


def _check_text(data: str) -> None:
    for ch in data:
        if ch != "\n" and (ord(ch) < 0x20 or ch == "\x7f"):
            raise MalformedNote(f"note contains the control character U+{ord(ch):04X}")


def parse_note(data: bytes | str) -> Note:
    """Parse a signed note without verifying it. Raises :class:`MalformedNote`."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNote("note is not valid UTF-8") from None
    _check_text(data)
    split = data.rfind("\n\n")
    if split < 0:
        raise MalformedNote("note has no blank line before its signatures")
    text, block = data[: split + 1], data[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNote("note signature block is empty or does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"note has {len(lines)} signatures; at most {MAX_SIGNATURES} accepted")
    sigs: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(_DASH):
            raise MalformedNote("signature line does not start with an em dash and a space")
        name, sep, b64 = line[len(_DASH) :].partition(" ")
        if not sep or " " in b64:
            raise MalformedNote("signature line is not '— <name> <base64>'")
        try:
            check_key_name(name)
        except MalformedKey as exc:
            raise MalformedNote(f"signature line has a bad key name: {exc.message}") from None
        raw = b64decode(b64, error=MalformedNote, what="note signature")
        if len(raw) < 5:
            raise MalformedNote("note signature is shorter than 5 bytes")
        sig = NoteSignature(name, struct.unpack(">I", raw[:4])[0], raw[4:])
        if sig not in sigs:
            sigs.append(sig)
    return Note(text, tuple(sigs))


def open_note(data: bytes | str | Note, verifiers: Sequence[NoteVerifier]) -> VerifiedNote:
    """Parse and verify a note against trusted ``verifiers``; return the verified note.

    Raises :class:`MalformedNote` if it does not parse, :class:`SignatureError` if a trusted key's
    signature fails, and :class:`UnknownKey` if no trusted key signed it.
    """
    note = data if isinstance(data, Note) else parse_note(data)
    by_key: dict[tuple[str, int], list[NoteVerifier]] = {}
    for v in verifiers:
        by_key.setdefault((v.name, v.key_id), []).append(v)
    text = note.text.encode("utf-8")
    verified: list[tuple[NoteSignature, NoteVerifier]] = []
    unverified: list[NoteSignature] = []
    for sig in note.signatures:
        candidates = by_key.get((sig.name, sig.key_id))
        if not candidates:
            unverified.append(sig)
            continue
        failure: SignatureError | None = None
        for v in candidates:
            try:
                v.verify(text, sig.signature)
            except SignatureError as exc:
                failure = exc
                continue
            verified.append((sig, v))
            failure = None
            break
        if failure is not None:
            raise SignatureError(
                f"note signature by trusted key {sig.name} ({sig.key_id:08x}) does not verify",
                hint="the note text or signature was altered; do not trust this note",
            )
    if not verified:
        known = ", ".join(sorted({v.name for v in verifiers})) or "none given"
        raise UnknownKey(f"no signature on the note is from a trusted key (trusted: {known})")
    return VerifiedNote(note, tuple(verified), tuple(unverified))


class NoteSigner(Protocol):
    """Produces one signature line for a note text."""

    def sign_note_text(self, text: bytes) -> NoteSignature: ...


@dataclass(frozen=True)
class Ed25519NoteSigner:
    """Signs notes as a log / party (type 0x01)."""

    identity: Ed25519Identity

    def sign_note_text(self, text: bytes) -> NoteSignature:
        vk = self.identity.vkey()
        return NoteSignature(vk.name, vk.key_id, self.identity.sign(text))


@dataclass(frozen=True)
class CosignatureSigner:
    """Cosigns checkpoints as a witness (type 0x04, cosignature/v1) at a given POSIX time."""

    identity: Ed25519Identity
    timestamp: int

    def sign_note_text(self, text: bytes) -> NoteSignature:
        vk = self.identity.cosigner_vkey()
        sig = self.identity.sign(cosignature_message(text, self.timestamp))
        return NoteSignature(vk.name, vk.key_id, struct.pack(">Q", self.timestamp) + sig)


def sign_note(text: str, signers: Sequence[NoteSigner]) -> Note:
    """Sign ``text`` (which must end in a newline) with each signer; return the note."""
    if not text.endswith("\n"):
        raise MalformedNote("note text must end in a newline")
    _check_text(text)
    if not signers:
        raise MalformedNote("a signed note needs at least one signer")
    raw = text.encode("utf-8")
    return Note(text, tuple(s.sign_note_text(raw) for s in signers))
