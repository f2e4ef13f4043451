"""Evaluation results as in-toto Statements (v1) in DSSE envelopes, and their verification.

Subjects: the model (OMS digest, or a declared identifier) and the suite (its manifest digest).
Predicate type ``https://detente.dev/eval-result/v1``, modelled on the proposed in-toto
``eval-result`` predicate: the suite (name, version, digest, full manifest), the metrics with
their Wilson intervals, each pass criterion (metric, comparator, threshold, value, passed), the
overall verdict, the sample count, the harness (name, version, digest of its source files) and
the Merkle root over the per-sample records. A result may reference the pre-registration that
committed to the suite and criteria before the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from detente import __version__
from detente.crypto.dsse import Ed25519DSSESigner, Ed25519DSSEVerifier, Envelope, sign_envelope, verify_envelope
from detente.crypto.intoto import Statement
from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.errors import VerificationError
from detente.evals.run import RunResult
from detente.evals.suite import Suite

__all__ = [
    "INTOTO_PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "VerifiedResult",
    "harness_digest",
    "result_statement",
    "sign_result",
    "verify_result",
]

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://detente.dev/eval-result/v1"


def harness_digest() -> str:
    """SHA-256 over the SHA-256 of each source file of ``detente.evals``, in sorted order."""
    package = resources.files("detente.evals")
    h = hashlib.sha256()
    for item in sorted((p for p in package.iterdir() if p.name.endswith(".py")), key=lambda p: p.name):
        h.update(hashlib.sha256(item.read_bytes()).digest())
    return h.hexdigest()


def result_statement(result: RunResult, *, preregistration: dict[str, Any] | None = None) -> Statement:
    suite = result.suite
    predicate: dict[str, Any] = {
        "suite": {
            "name": suite.name,
            "version": suite.version,
            "digest": {"sha256": suite.digest()},
            "manifest": suite.model_dump(mode="json"),
        },
        "model": result.model,
        "metrics": {name: m.as_dict() for name, m in sorted(result.metrics.items())},
        "criteria": result.criteria,
        "passed": result.passed,
        "sampleSize": len(result.records),
        "samplesRoot": {"sha256": result.root.hex(), "hashing": "RFC 9162 over canonical JSON sample records"},
        "harness": {"name": "detente", "version": __version__, "digest": {"sha256": harness_digest()}},
    }
    if preregistration is not None:
        predicate["preregistration"] = preregistration
    subjects = [result.model, {"name": f"suite:{suite.name}@{suite.version}", "digest": {"sha256": suite.digest()}}]
    return Statement.model_validate({"subject": subjects, "predicateType": PREDICATE_TYPE, "predicate": predicate})


def sign_result(statement: Statement, identity: Ed25519Identity) -> Envelope:
    return sign_envelope(INTOTO_PAYLOAD_TYPE, statement.to_json(), [Ed25519DSSESigner(identity)])


@dataclass(frozen=True)
class VerifiedResult:
    statement: Statement
    signer: str
    predicate: dict[str, Any]

    @property
    def suite_digest(self) -> str:
        return str(self.predicate["suite"]["digest"]["sha256"])

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.predicate["samplesRoot"]["sha256"])


def verify_result(envelope: Envelope, keys: Sequence[VerifierKey]) -> VerifiedResult:
    """Check the signature (a trusted key), the statement's shape, and that the suite digest in
    the predicate is the digest of the manifest it carries. Fails closed."""
    verified = verify_envelope(envelope, [Ed25519DSSEVerifier(k) for k in keys], payload_types=[INTOTO_PAYLOAD_TYPE])
    statement = Statement.from_json(verified.payload)
    if statement.predicate_type != PREDICATE_TYPE or statement.predicate is None:
        raise VerificationError(f"not a detente eval result (predicate type {statement.predicate_type!r})")
    predicate = statement.predicate
    try:
        suite = Suite.model_validate(predicate["suite"]["manifest"])
        claimed = predicate["suite"]["digest"]["sha256"]
        bytes.fromhex(predicate["samplesRoot"]["sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"eval result predicate is malformed: {exc}") from None
    if suite.digest() != claimed:
        raise VerificationError("the suite manifest does not hash to the digest the result names")
    if not any(s.digest.get("sha256") == claimed for s in statement.subject):
        raise VerificationError("the suite is not a subject of the statement")
    return VerifiedResult(statement, verified.keyids[0], predicate)
