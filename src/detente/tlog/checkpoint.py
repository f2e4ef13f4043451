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
from detente.errors import MalformedCheckpoint, MalformedError, MalformedNote, UnknownKey
from detente.tlog.hashing import HASH_SIZE

__all__ = [
    "MAX_CHECKPOINT_TEXT",
    "MAX_SIZE",
    "Checkpoint",
    "VerifiedCheckpoint",
    "open_checkpoint",
    "parse_size",
    "sign_checkpoint",
]

MAX_SIZE = 2**64 - 1
"""The largest tree size a checkpoint may state (an unsigned 64-bit integer, as in transparency-dev's
checkpoint format)."""
MAX_CHECKPOINT_TEXT = 4096
"""The most bytes a checkpoint's text (origin, size, root and extension lines) may have. C2SP sets
no limit; detente needs one so that fork evidence always fits in one log entry."""


def parse_size(text: str, what: str, error: type[MalformedError] = MalformedCheckpoint) -> int:
    """A tree size or index written in decimal without leading zeros, at most :data:`MAX_SIZE`.
    Raises ``error`` (never ``ValueError``: Python's ``int`` refuses over 4,300 digits)."""
    if not text.isascii() or not text.isdigit() or (text != "0" and text.startswith("0")) or len(text) > 20:
        raise error(f"{what} {text[:30]!r} is not a decimal size without leading zeros, at most {MAX_SIZE}")
    value = int(text)
    if value > MAX_SIZE:
        raise error(f"{what} {text!r} is over {MAX_SIZE}")
    return value


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
        if len(text.encode("utf-8")) > MAX_CHECKPOINT_TEXT:
            raise MalformedCheckpoint(f"checkpoint text is over {MAX_CHECKPOINT_TEXT} bytes")
        if not text.endswith("\n"):
            raise MalformedCheckpoint("checkpoint text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint("checkpoint needs origin, size and root lines")
        origin, size, root, *ext = lines
        value = parse_size(size, "checkpoint size")
        raw = b64decode(root, error=MalformedCheckpoint, what="checkpoint root")
        return cls(origin, value, raw, tuple(ext))


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    note: VerifiedNote

    def to_bytes(self) -> bytes:
        return self.note.note.to_bytes()

    def canonical(self) -> bytes:
        """The note as detente keeps it: the text and only the signatures that verified. Lines
        from keys nobody here knows (which anyone may append, up to 100 of them) are dropped, so
        what is stored, cosigned or put in evidence is bounded whatever was received."""
        return Note(self.note.text, tuple(s for s, _ in self.note.verified)).to_bytes()


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
