"""The witness's decision (``detente.tlog.witness.decide``), outcome by outcome, at the pure
layer: each refusal the C2SP tlog-witness spec assigns a status to has a request that gets it,
so removing the check that produces it fails a test here."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from detente._internal.encoding import b64encode
from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import Ed25519NoteSigner
from detente.crypto.note_verifiers import verifier_for
from detente.errors import MalformedCheckpoint, MalformedProof
from detente.tlog.checkpoint import Checkpoint, sign_checkpoint
from detente.tlog.hashing import EMPTY_ROOT, leaf_hash, node_hash
from detente.tlog.proofs import consistency_proof, tree_root
from detente.tlog.witness import decide, format_add_checkpoint, parse_add_checkpoint

ORIGIN = "us.detente.example/log"
LOG = Ed25519Identity.generate(ORIGIN)
LEAVES = [f"entry {i}".encode() for i in range(11)]


def _fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
    out = []
    for level, index in nodes:
        row = [leaf_hash(e) for e in LEAVES[index << level : (index + 1) << level]]
        while len(row) > 1:
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        out.append(row[0])
    return out


def _cp(size: int, root: bytes | None = None) -> Checkpoint:
    return Checkpoint(ORIGIN, size, tree_root(size, _fetch) if root is None else root)


def _request(old: int, proof: Sequence[bytes], cp: Checkpoint, signer: Ed25519Identity = LOG):  # type: ignore[no-untyped-def]
    note = sign_checkpoint(cp, [Ed25519NoteSigner(signer)]).to_bytes()
    return parse_add_checkpoint(format_add_checkpoint(old, proof, note))


VERIFIERS = [verifier_for(LOG.vkey())]


def test_a_consistent_checkpoint_is_cosigned() -> None:
    assert decide(_request(0, [], _cp(5)), VERIFIERS, None).status == 200
    proof = consistency_proof(5, 11, _fetch)
    assert decide(_request(5, proof, _cp(11)), VERIFIERS, _cp(5)).status == 200
    assert decide(_request(11, [], _cp(11)), VERIFIERS, _cp(11)).status == 200  # same checkpoint again


@pytest.mark.parametrize("damage", ["flip", "drop", "extra", "swap"])
def test_a_bad_consistency_proof_is_422(damage: str) -> None:
    proof = consistency_proof(5, 11, _fetch)
    assert len(proof) >= 2
    if damage == "flip":
        proof[0] = bytes([proof[0][0] ^ 1]) + proof[0][1:]
    elif damage == "drop":
        proof = proof[:-1]
    elif damage == "extra":
        proof = [*proof, leaf_hash(b"x")]
    else:
        proof = [proof[1], proof[0], *proof[2:]]
    decision = decide(_request(5, proof, _cp(11)), VERIFIERS, _cp(5))
    assert decision.status == 422, decision


def test_a_proof_from_another_history_is_422() -> None:
    """A valid proof of *some* tree: the new root is not an extension of the one the witness holds."""
    other = Checkpoint(ORIGIN, 5, leaf_hash(b"another history"))
    decision = decide(_request(5, consistency_proof(5, 11, _fetch), _cp(11)), VERIFIERS, other)
    assert decision.status == 422


def test_the_same_size_with_another_root_is_422() -> None:
    decision = decide(_request(11, [], _cp(11, leaf_hash(b"fork"))), VERIFIERS, _cp(11))
    assert decision.status == 422


def test_old_size_zero_with_a_proof_and_a_bad_empty_tree_are_422() -> None:
    """Both are also caught by the proof check; the witness says which rule was broken."""
    with_proof = decide(_request(0, [leaf_hash(b"x")], _cp(5)), VERIFIERS, None)
    assert (with_proof.status, with_proof.reason) == (422, "old size 0 needs an empty proof")
    bad_empty = decide(_request(0, [], _cp(0, leaf_hash(b"x"))), VERIFIERS, None)
    assert (bad_empty.status, bad_empty.reason) == (422, "a size-0 checkpoint must have the empty root")
    assert decide(_request(0, [], _cp(0, EMPTY_ROOT)), VERIFIERS, None).status == 200


@pytest.mark.parametrize(("old", "latest"), [(0, 5), (3, 5), (5, None), (11, 5)])
def test_a_wrong_old_size_is_409_with_the_witness_size(old: int, latest: int | None) -> None:
    proof = consistency_proof(old, 11, _fetch) if old else []
    decision = decide(_request(old, proof, _cp(11)), VERIFIERS, _cp(latest) if latest is not None else None)
    assert decision.status == 409, decision
    assert decision.latest_size == (latest or 0)


def test_an_old_size_above_the_checkpoint_is_400() -> None:
    assert decide(_request(11, [], _cp(5)), VERIFIERS, _cp(11)).status == 400


def test_unknown_log_404_and_wrong_key_403() -> None:
    assert decide(_request(0, [], _cp(5)), None, None).status == 404
    impostor = Ed25519Identity.generate(ORIGIN)
    assert decide(_request(0, [], _cp(5), impostor), VERIFIERS, None).status == 403


def test_a_checkpoint_signed_by_a_rotated_out_key_is_403() -> None:
    """After a rotation the witness pins the new key; the old key can no longer get a cosignature."""
    new = Ed25519Identity.generate(ORIGIN)
    after_rotation = [verifier_for(new.vkey())]
    assert decide(_request(5, consistency_proof(5, 11, _fetch), _cp(11), new), after_rotation, _cp(5)).status == 200
    old_signed = _request(5, consistency_proof(5, 11, _fetch), _cp(11), LOG)
    assert decide(old_signed, after_rotation, _cp(5)).status == 403


NOTE = sign_checkpoint(_cp(5), [Ed25519NoteSigner(LOG)]).to_bytes()
HASH_LINE = b64encode(leaf_hash(b"x")).encode() + b"\n"


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"old 5\nno empty line, no checkpoint", MalformedProof, "no empty line"),
        (b"old x\n\n" + NOTE, MalformedProof, None),
        (b"old 05\n\n" + NOTE, MalformedProof, None),
        (b"new 5\n\n" + NOTE, MalformedProof, "must start with 'old <size>'"),
        (b"\xff\n\n" + NOTE, MalformedProof, "not UTF-8"),
        (b"old 5\nnot base64!\n\n" + NOTE, MalformedProof, None),
        (b"old 5\nAAAA\n\n" + NOTE, MalformedProof, "32 bytes"),  # 3 bytes
        (b"old 5\n" + b64encode(bytes(33)).encode() + b"\n\n" + NOTE, MalformedProof, "32 bytes"),
        (b"old 5\n" + HASH_LINE * 64 + b"\n" + NOTE, MalformedProof, "more than 63 lines"),
        (b"old 5\n" + HASH_LINE + b"\nnot a signed note", MalformedCheckpoint, None),
        (b"old 5\n\n" + NOTE.replace(b"\n5\n", b"\n05\n"), MalformedCheckpoint, None),
    ],
)
def test_malformed_requests_are_refused_with_a_typed_error(
    body: bytes, error: type[Exception], message: str | None
) -> None:
    with pytest.raises(error, match=message):
        parse_add_checkpoint(body)


def test_the_proof_line_limit_is_63() -> None:
    request = parse_add_checkpoint(b"old 5\n" + HASH_LINE * 63 + b"\n" + NOTE)
    assert len(request.proof) == 63 and request.old_size == 5 and request.checkpoint == _cp(5)
    assert parse_add_checkpoint(format_add_checkpoint(0, [], NOTE)).proof == ()


def test_sizes_are_compared_by_value() -> None:
    """Sizes past CPython's small-int cache: an identity comparison would call them different."""
    leaves = [f"big {i}".encode() for i in range(301)]

    def fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        out = []
        for level, index in nodes:
            row = [leaf_hash(e) for e in leaves[index << level : (index + 1) << level]]
            while len(row) > 1:
                row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
            out.append(row[0])
        return out

    old, new = Checkpoint(ORIGIN, 300, tree_root(300, fetch)), Checkpoint(ORIGIN, 301, tree_root(301, fetch))
    decision = decide(_request(int("300"), consistency_proof(300, 301, fetch), new), VERIFIERS, old)
    assert decision.status == 200, decision


@pytest.mark.parametrize("root", [bytes(32), b"\xff" * 32])
def test_a_size_0_checkpoint_with_any_other_root_is_422(root: bytes) -> None:
    decision = decide(_request(0, [], _cp(0, root)), VERIFIERS, None)
    assert (decision.status, decision.reason) == (422, "a size-0 checkpoint must have the empty root")


def test_requests_and_decisions_are_immutable() -> None:
    request = _request(0, [], _cp(5))
    decision = decide(request, VERIFIERS, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.old_size = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.status = 200  # type: ignore[misc]
