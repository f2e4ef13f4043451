"""C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature): witnesses' timestamped
Ed25519 signatures over a checkpoint.

On the wire a cosignature is a note signature line whose 76 bytes are
``key ID[4] ‖ u64be timestamp ‖ Ed25519 signature[64]``, the signature covering
``"cosignature/v1\\ntime <timestamp>\\n" ‖ checkpoint text``. The cosigner key ID uses type 0x04,
so the same Ed25519 key has different IDs as a log and as a witness.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from detente.crypto.keys import SIG_COSIGNATURE_V1, Ed25519Identity
from detente.crypto.note import CosignatureSigner, Note, NoteSignature
from detente.crypto.note_verifiers import NoteVerifier
from detente.errors import SignatureError, UnknownKey
from detente.tlog.checkpoint import Checkpoint

__all__ = ["Cosignature", "cosign", "verify_cosignatures"]


@dataclass(frozen=True)
class Cosignature:
    witness: str
    timestamp: int
    signature: NoteSignature


def cosign(checkpoint: Checkpoint, witness: Ed25519Identity, timestamp: int) -> NoteSignature:
    """The witness's cosignature line for ``checkpoint`` at POSIX ``timestamp`` seconds."""
    if not 0 < timestamp <= 2**63 - 1:
        raise SignatureError("cosignature timestamp must be a positive 63-bit POSIX time")
    return CosignatureSigner(witness, timestamp).sign_note_text(checkpoint.body().encode())


def verify_cosignatures(note: Note, witnesses: Sequence[NoteVerifier]) -> list[Cosignature]:
    """Every valid cosignature on ``note`` from a trusted witness key (type 0x04).

    A signature from a trusted witness that fails raises :class:`SignatureError` (fail closed);
    signatures from other keys are ignored. Returns an empty list when no trusted witness signed:
    quorum decisions belong to the caller's policy.
    """
    text = note.text.encode("utf-8")
    by_key = {(w.name, w.key_id): w for w in witnesses if w.vkey.sig_type == SIG_COSIGNATURE_V1}
    if len(by_key) != len(witnesses):
        raise UnknownKey("witness keys must be cosigner keys (signature type 0x04)")
    out: list[Cosignature] = []
    for sig in note.signatures:
        w = by_key.get((sig.name, sig.key_id))
        if w is None:
            continue
        w.verify(text, sig.signature)
        (ts,) = struct.unpack(">Q", sig.signature[:8])
        out.append(Cosignature(sig.name, ts, sig))
    return out
