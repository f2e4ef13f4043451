"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed statement of a log's size
and root.

The note text is ``<origin>\\n<size>\\n<base64 root>\\n`` followed by optional non-empty
extension lines. :func:`open_checkpoint` verifies the log's own signature (any signed-note key
type) and returns the parsed checkpoint; cosignatures are checked by
:mod:`detente.tlog.cosignature`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detente._internal.encoding import b64decode, b64encode
from detente.crypto.note import Note, NoteSigner, VerifiedNote, open_note, parse_note, sign_note
from detente.crypto.note_verifiers import NoteVerifier
from detente.errors import MalformedCheckpoint, MalformedNote, UnknownKey
from detente.tlog.hashing import HASH_SIZE

__all__ = ["Checkpoint", "VerifiedCheckpoint", "open_checkpoint", "sign_checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MalformedCheckpoint("checkpoint origin must be one non-empty line")
        if self.size < 0:
            raise MalformedCheckpoint("checkpoint size must not be negative")
        if len(self.root) != HASH_SIZE:
            raise MalformedCheckpoint(f"checkpoint root must be {HASH_SIZE} bytes")
        if any(not e or "\n" in e for e in self.extensions):
            raise MalformedCheckpoint("checkpoint extension lines must be non-empty single lines")

    def body(self) -> str:
        """The note text (the bytes every signature covers)."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note *text* (without signatures)."""
        if not text.endswith("\n"):
            raise MalformedCheckpoint("checkpoint text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint("checkpoint needs origin, size and root lines")
        origin, size, root, *ext = lines
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise MalformedCheckpoint(f"checkpoint size {size[:30]!r} is not a decimal without leading zeros")
        raw = b64decode(root, error=MalformedCheckpoint, what="checkpoint root")
        return cls(origin, int(size), raw, tuple(ext))


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    note: VerifiedNote

    def to_bytes(self) -> bytes:
        return self.note.note.to_bytes()


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> Note:
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(
    data: bytes | str | Note,
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str | None = None,
) -> VerifiedCheckpoint:
    """Verify a signed checkpoint with the *log's* key(s) and parse it.

    Raises :class:`MalformedCheckpoint` for a bad note or body, a ``VerificationError`` when no
    given key verifies, and :class:`UnknownKey` when ``origin`` is given and does not match.
    """
    try:
        note = data if isinstance(data, Note) else parse_note(data)
    except MalformedNote as exc:
        raise MalformedCheckpoint(exc.message) from None
    cp = Checkpoint.parse(note.text)
    if origin is not None and cp.origin != origin:
        raise UnknownKey(f"checkpoint is for log {cp.origin!r}, expected {origin!r}")
    return VerifiedCheckpoint(cp, open_note(note, verifiers))
