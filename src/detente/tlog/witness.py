"""C2SP tlog-witness (https://c2sp.org/tlog-witness) ``add-checkpoint`` requests, as values.

Request body: ``old <size>\\n`` then zero or more base64 consistency-proof lines (at most 63),
an empty line, then the signed checkpoint. The witness's decision is a pure function of the
request, the log's keys and the size it last cosigned; :func:`decide` returns the HTTP status
the spec assigns to each outcome, so the server only has to persist and sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detente._internal.encoding import b64decode, b64encode
from detente.crypto.note import Note, parse_note
from detente.crypto.note_verifiers import NoteVerifier
from detente.errors import MalformedCheckpoint, MalformedNote, MalformedProof, VerificationError
from detente.tlog.checkpoint import Checkpoint, open_checkpoint, parse_size
from detente.tlog.hashing import EMPTY_ROOT
from detente.tlog.proofs import verify_consistency

__all__ = ["AddCheckpoint", "WitnessDecision", "decide", "format_add_checkpoint", "parse_add_checkpoint"]

MAX_PROOF_LINES = 63


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: Note
    checkpoint: Checkpoint


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], signed_checkpoint: bytes) -> bytes:
    head = f"old {old_size}\n" + "".join(b64encode(p) + "\n" for p in proof) + "\n"
    return head.encode() + signed_checkpoint


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body; raise :class:`MalformedProof`/:class:`MalformedCheckpoint` (400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedProof("add-checkpoint body is not UTF-8") from None
    head, sep, rest = text.partition("\n\n")
    if not sep:
        raise MalformedProof("add-checkpoint body has no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old "):
        raise MalformedProof("add-checkpoint body must start with 'old <size>'")
    old_size = parse_size(first[4:], "add-checkpoint old size", MalformedProof)
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedProof(f"consistency proof has more than {MAX_PROOF_LINES} lines")
    proof = []
    for line in lines[1:]:
        raw = b64decode(line, error=MalformedProof, what="consistency proof line")
        if len(raw) != 32:
            raise MalformedProof("consistency proof hashes must be 32 bytes")
        proof.append(raw)
    try:
        note = parse_note(rest)
    except MalformedNote as exc:
        raise MalformedCheckpoint(exc.message) from None
    return AddCheckpoint(old_size, tuple(proof), note, Checkpoint.parse(note.text))


@dataclass(frozen=True)
class WitnessDecision:
    status: int
    """200 cosign; 400 bad request; 403 untrusted; 404 unknown log; 409 stale old size;
    422 inconsistent."""
    reason: str
    latest_size: int | None = None
    canonical: bytes = b""
    """The request's checkpoint as it may be kept: its text and only the signatures that verified
    (set whenever the log's signature verified)."""


def decide(
    request: AddCheckpoint,
    log_verifiers: Sequence[NoteVerifier] | None,
    latest: Checkpoint | None,
) -> WitnessDecision:
    """What a witness must answer. ``log_verifiers`` is ``None`` for an unknown origin;
    ``latest`` is the checkpoint this witness last cosigned for it (``None`` if never)."""
    cp = request.checkpoint
    if log_verifiers is None:
        return WitnessDecision(404, f"unknown log {cp.origin!r}")
    try:
        canonical = open_checkpoint(request.note, log_verifiers, origin=cp.origin).canonical()
    except VerificationError as exc:
        return WitnessDecision(403, exc.message)
    if request.old_size > cp.size:
        return WitnessDecision(400, "old size is larger than the checkpoint size")
    latest_size = latest.size if latest else 0
    if request.old_size != latest_size:
        return WitnessDecision(409, f"witness has size {latest_size}", latest_size)
    if cp.size == 0 and cp.root != EMPTY_ROOT:
        return WitnessDecision(422, "a size-0 checkpoint must have the empty root", canonical=canonical)
    old_root = latest.root if latest else EMPTY_ROOT
    if request.old_size == 0 and request.proof:
        return WitnessDecision(422, "old size 0 needs an empty proof", canonical=canonical)
    try:
        verify_consistency(request.old_size, cp.size, old_root, cp.root, list(request.proof))
    except VerificationError as exc:
        return WitnessDecision(422, exc.message, canonical=canonical)
    return WitnessDecision(200, "consistent", canonical=canonical)
