"""An outside auditor: verify a set of party logs from their public URLs and keys alone.

For each log named in a C2SP tlog-policy file (``log <vkey> <url>``), the auditor fetches the
cosigned checkpoint, verifies the log's signature and every trusted witness's cosignature, checks
the witness quorum, then fetches every entry since its last run, verifies each record's signature
and party, and folds the leaf hashes into a compact range kept in its state file: the new root
must equal the signed one, which proves both that the entries are authentic and that the log
only grew since the last run. Key rotations are followed from the pinned key (each new key only
through a rotation record signed by the key before it, ``detente.records.keys``) and kept in the
state file; entries signed by a revoked key after its revocation are problems, entries it disowns
are listed under ``flagged``; a witness key that is a party's key follows that party's rotations.
Finally every cross-log reference (``refs``: origin, index, leaf
hash) must resolve to the exact leaf it names in an audited log.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from detente.crypto.keys import VerifierKey
from detente.crypto.note import parse_note
from detente.crypto.note_verifiers import NoteVerifier, verifier_for
from detente.errors import ConfigError, DetenteError, MalformedCheckpoint, UnknownKey, VerificationError
from detente.node.audit_time import TimeAudit, replay, verify_rows
from detente.node.client import PeerClient
from detente.protocol.agreement import Agreement
from detente.protocol.threads import PROTOCOL_TYPES, Logged
from detente.records.catalogue import validate_record
from detente.records.entry import open_entry
from detente.records.keys import KeyEvent, KeyHistory
from detente.records.record import Record
from detente.records.sealing import verify_disclosure
from detente.tlog.checkpoint import Checkpoint, open_checkpoint
from detente.tlog.compact import CompactRange
from detente.tlog.cosignature import verify_cosignatures
from detente.tlog.hashing import leaf_hash
from detente.tlog.policy import Policy
from detente.tlog.proofs import inclusion_proof, tree_root, verify_inclusion

__all__ = ["AuditResult", "LogAudit", "check_disclosure", "run_audit"]


@dataclass
class LogAudit:
    origin: str
    url: str
    old_size: int = 0
    size: int = 0
    root: str = ""
    records: int = 0
    cosigned_by: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    """Entries the party disowned by revoking the key that signed them (kept: the log cannot change)."""


@dataclass
class _Seen:
    """What one log's pass gathered for the replay of time: its protocol records, the cosignature
    rows it serves, and the roots this pass computed at their sizes."""

    rows: list[tuple[int, str, int, str]] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)
    logged: list[Logged] = field(default_factory=list)


@dataclass
class AuditResult:
    logs: list[LogAudit]
    references: int = 0
    inclusions: int = 0
    problems: list[str] = field(default_factory=list)
    time: TimeAudit = field(default_factory=TimeAudit)

    @property
    def clean(self) -> bool:
        return not self.problems and all(not log.problems for log in self.logs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "references_checked": self.references,
            "problems": self.problems,
            "logs": [log.__dict__ for log in self.logs],
            "time": self.time.as_dict(),
        }


def _load_state(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read audit state {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"audit state {path} is not a JSON object")
    return data


def _compact_from(state: dict[str, Any]) -> CompactRange:
    return CompactRange.restore(int(state.get("size", 0)), [base64.b64decode(h) for h in state.get("compact", [])])


def run_audit(
    policy: Policy,
    state_path: Path | None = None,
    *,
    records: Sequence[tuple[str, int]] = (),
    client_factory: Callable[[str], PeerClient] = PeerClient,
    progress: Callable[[str, int, int], None] | None = None,
    now: datetime | None = None,
    agreement: Agreement | None = None,
) -> AuditResult:
    """Audit every log in ``policy``; ``records`` names (origin, index) pairs whose inclusion is
    also proved from the log's own hash tiles against its signed checkpoint. Threads are replayed on
    witnessed time under ``agreement`` (its deadlines, and which witnesses' time counts; the
    defaults when ``None``), as of ``now``."""
    state = _load_state(state_path)
    by_origin: dict[str, tuple[VerifierKey, PeerClient]] = {}
    audits: list[LogAudit] = []
    refs: list[tuple[str, str, int, str]] = []  # (from, origin, index, leaf hash)
    new_state: dict[str, Any] = dict(state)
    verified: list[tuple[LogAudit, bytes, KeyHistory]] = []
    seen: dict[str, _Seen] = {}
    for vk, url in policy.logs:
        audit = LogAudit(vk.name, url or "")
        audits.append(audit)
        if not url:
            audit.problems.append("the policy gives no URL for this log")
            continue
        client = client_factory(url)
        by_origin[vk.name] = (vk, client)
        try:
            seen[vk.name] = _Seen()
            checked = _audit_log(vk, client, audit, state.get(vk.name, {}), new_state, refs, progress, seen[vk.name])
        except DetenteError as exc:
            audit.problems.append(exc.message)
            continue
        if checked is not None:
            verified.append((audit, *checked))
    witnesses = _check_quorum(policy, verified)
    result = AuditResult(audits)
    evidence = {o: verify_rows(o, x.rows, x.roots, witnesses, result.time) for o, x in seen.items()}
    logged = [item for x in seen.values() for item in x.logged]
    replay(logged, evidence, now or datetime.now(UTC), result.time, agreement)
    sizes = {a.origin: a.size for a in audits}
    _check_references(result, refs, by_origin, sizes)
    roots = {a.origin: a.root for a in audits}
    for origin, index in records:
        _check_inclusion(result, origin, index, by_origin, sizes, roots)
    for _, client in by_origin.values():
        client.close()
    if state_path is not None and result.clean:
        state_path.write_text(json.dumps(new_state, indent=1))
    return result


def _check_quorum(policy: Policy, verified: list[tuple[LogAudit, bytes, KeyHistory]]) -> list[NoteVerifier]:
    """Each verified log's witnesses whose cosignatures verify, and whether the policy's quorum is
    met; returns the witness keys (those that follow a party's rotations included)."""
    witnesses = {name: verifier_for(vk) for name, (vk, _) in policy.witnesses.items()}
    # A witness whose key is a party's log key (type 0x04 form) follows that party's rotations.
    for _audit, _, history in verified:
        for name, w in list(witnesses.items()):
            if w.vkey.name == history.origin and w.vkey.key == history.pinned.key:
                witnesses.update({f"{name}\x00{k}": verifier_for(k.as_cosigner()) for k in history.keys[1:]})
    names = {(w.name, w.key_id): name.split("\x00")[0] for name, w in witnesses.items()}
    for audit, note, _ in verified:
        cosigs = verify_cosignatures(parse_note(note), list(witnesses.values()))
        audit.cosigned_by = sorted({names[(c.signature.name, c.signature.key_id)] for c in cosigs})
        try:
            policy.check(audit.cosigned_by)
        except DetenteError as exc:
            audit.problems.append(exc.message)
    return list(witnesses.values())


def _check_references(
    result: AuditResult,
    refs: list[tuple[str, str, int, str]],
    by_origin: dict[str, tuple[VerifierKey, PeerClient]],
    sizes: dict[str, int],
) -> None:
    """Every cross-log reference must name the exact leaf an audited log holds, within its verified
    size. A bundle the log fails to serve again is a problem of each reference into it, and the
    audit of the others goes on (one log cannot stop the report on every log)."""
    bundles: dict[tuple[str, int], list[bytes] | str] = {}
    for source, origin, index, expected in refs:
        result.references += 1
        if origin not in by_origin:
            result.problems.append(f"{source} refers to {origin}#{index}, a log outside the audit")
            continue
        if index >= sizes.get(origin, 0):
            result.problems.append(f"{source} refers to {origin}#{index}, beyond its verified size")
            continue
        _, client = by_origin[origin]
        key = (origin, index // 256)
        if key not in bundles:
            try:
                bundles[key] = client.entries(index - index % 256, min(index - index % 256 + 256, sizes[origin]))
            except DetenteError as exc:
                bundles[key] = exc.message
        bundle = bundles[key]
        if isinstance(bundle, str):
            result.problems.append(f"{source} refers to {origin}#{index}, which could not be read again: {bundle}")
            continue
        if leaf_hash(bundle[index % 256]).hex() != expected:
            result.problems.append(f"{source} refers to {origin}#{index} with a leaf hash the log does not hold")


def _check_inclusion(
    result: AuditResult,
    origin: str,
    index: int,
    by_origin: dict[str, tuple[VerifierKey, PeerClient]],
    sizes: dict[str, int],
    roots: dict[str, str],
) -> None:
    """Prove record ``origin#index`` is in its log from the log's own hash tiles and signed root."""
    result.inclusions += 1
    if origin not in by_origin or index >= sizes.get(origin, 0):
        result.problems.append(f"record {origin}#{index} is not in an audited log's verified range")
        return
    _, client = by_origin[origin]
    size = sizes[origin]
    try:
        root = tree_root(size, client.fetch_nodes(size))
        leaf = leaf_hash(client.entries(index, index + 1)[0])
        verify_inclusion(leaf, index, size, inclusion_proof(index, size, client.fetch_nodes(size)), root)
        if root != bytes.fromhex(roots[origin]):
            raise VerificationError("the hash tiles do not produce the signed root")
    except DetenteError as exc:
        result.problems.append(f"inclusion of {origin}#{index}: {exc.message}")


def _history(vk: VerifierKey, old: dict[str, Any]) -> KeyHistory:
    """The key history kept from the last run, if it starts at the key the policy pins."""
    kept = old.get("keys", {})
    if kept.get("pinned") != str(vk):
        return KeyHistory(vk)
    return KeyHistory(vk, [KeyEvent(e["index"], e["kind"], e["vkey"], e.get("last_index")) for e in kept["events"]])


def _evidence_of_time(client: PeerClient, audit: LogAudit, size: int, old: dict[str, Any], seen: _Seen) -> set[int]:
    """Fetch the cosignatures the log serves (checked later against the roots this pass computes,
    :mod:`detente.node.audit_time`); the sizes whose roots the pass must keep."""
    try:
        seen.rows = client.cosignatures(size)
    except DetenteError as exc:
        audit.problems.append(f"its cosignatures: {exc.message}")
    wanted = {row[0] for row in seen.rows}
    if size == 0:
        seen.roots[0] = hashlib.sha256(b"").digest()  # the empty tree's root (RFC 9162 2.1.1)
    elif size in wanted and old.get("root"):
        seen.roots[size] = bytes.fromhex(old["root"])
    return wanted


def _check_entry(history: KeyHistory, audit: LogAudit, i: int, entry: bytes) -> Record | None:
    """Entry ``i``'s record, its signature and party verified with the key in force, key events
    applied; problems noted (``None`` when it does not open)."""
    try:
        record = history.open_entry(entry, i).record
        applied = history.apply(i, record)
    except DetenteError as exc:
        revoked = history.revoked_signer(entry, i)
        audit.problems.append(
            f"entry {i}: signed by the revoked key {revoked}" if revoked else f"entry {i}: {exc.message}"
        )
        return None
    if applied is not None and applied[1] is not None:
        d = applied[1]
        audit.flagged.append(f"entries {d.first}..{d.last}: signed by {d.key}, disowned by #{i}")
    try:  # validly signed is not enough: a record must be a valid record of its type
        validate_record(record)
    except DetenteError as exc:
        audit.problems.append(f"entry {i}: {record.type} does not match its catalogue schema: {exc.message}")
    audit.records += 1
    return record


def _audit_log(
    vk: VerifierKey,
    client: PeerClient,
    audit: LogAudit,
    old: dict[str, Any],
    new_state: dict[str, Any],
    refs: list[tuple[str, str, int, str]],
    progress: Callable[[str, int, int], None] | None,
    seen: _Seen,
) -> tuple[bytes, KeyHistory] | None:
    note = client.checkpoint()
    claimed = Checkpoint.parse(parse_note(note).text)
    if claimed.origin != vk.name:
        raise MalformedCheckpoint(f"checkpoint is for {claimed.origin!r}, not {vk.name!r}")
    history = _history(vk, old)
    compact = _compact_from(old)
    audit.old_size = compact.size
    if claimed.size < compact.size:
        open_checkpoint(note, [verifier_for(history.check_signer(claimed.size))], origin=vk.name)
        audit.problems.append(f"log went back from size {compact.size} to {claimed.size} (fork or rollback)")
        return None
    # Verify before fetching: a checkpoint a known key signed badly costs no entries (one signed by
    # a key not known yet is checked after the entries, which must announce it by a rotation).
    with contextlib.suppress(UnknownKey):
        open_checkpoint(note, [verifier_for(history.check_signer(claimed.size))], origin=vk.name)
    wanted = _evidence_of_time(client, audit, compact.size, old, seen)
    for start in range(compact.size, claimed.size, 256):
        end = min(start + 256, claimed.size)
        for i, entry in enumerate(client.entries(start, end), start):
            compact.append(leaf_hash(entry))
            if i + 1 in wanted:
                seen.roots[i + 1] = compact.root()
            record = _check_entry(history, audit, i, entry)
            if record is None:
                continue
            if record.type in PROTOCOL_TYPES:
                seen.logged.append(Logged(vk.name, i, leaf_hash(entry).hex(), record))
            refs.extend((f"{vk.name}#{i}", r.origin, r.index, r.leaf_hash) for r in record.refs)
        if progress is not None:
            progress(vk.name, end, claimed.size)
    verified = open_checkpoint(note, [verifier_for(history.check_signer(claimed.size))], origin=vk.name)
    cp = verified.checkpoint
    if compact.root() != cp.root:
        audit.problems.append(
            f"entries up to {cp.size} do not hash to the signed root: the log was rewritten since size "
            f"{audit.old_size}, or served altered entries"
        )
        return None
    audit.size = cp.size
    audit.root = cp.root.hex()
    new_state[vk.name] = {
        "size": cp.size,
        "root": cp.root.hex(),
        "checkpoint": note.decode(),
        "compact": [base64.b64encode(h).decode() for h in compact.hashes()],
        "keys": {"pinned": str(vk), "events": [e.__dict__ for e in history.events]},
    }
    return note, history


def check_disclosure(
    policy: Policy, disclosed: dict[str, Any], client_factory: Callable[[str], PeerClient] = PeerClient
) -> tuple[AuditResult, dict[str, Any]]:
    """Audit the logs, prove the disclosed record's inclusion, and check that the disclosed content is
    exactly what its sender sealed (the signed commitment); the audit and the content. Raises
    :class:`VerificationError` when it is not."""
    try:
        ref = disclosed["record"]
        origin, index, leaf = str(ref["origin"]), int(ref["index"]), str(ref["leaf_hash"])
    except (KeyError, TypeError, ValueError):
        raise VerificationError("a disclosure names its record: origin, index and leaf hash") from None
    result = run_audit(policy, None, records=[(origin, index)], client_factory=client_factory)
    if not result.clean:
        problems = "; ".join(result.problems + [p for log in result.logs for p in log.problems])
        raise VerificationError(f"the logs do not verify, so the disclosure cannot be checked: {problems}")
    url = next((u for vk, u in policy.logs if vk.name == origin), None)
    if url is None:
        raise VerificationError(f"{origin} is not a log of the policy")
    client = client_factory(url)
    try:
        entry = client.entries(index, index + 1)[0]
    finally:
        client.close()
    if leaf_hash(entry).hex() != leaf:
        raise VerificationError(f"{origin}#{index} holds another record than the one disclosed")
    vk = next(vk for vk, _ in policy.logs if vk.name == origin)
    record = open_entry(entry, [vk]).record
    return result, verify_disclosure(record, disclosed)
