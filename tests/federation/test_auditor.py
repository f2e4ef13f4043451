"""The outside auditor (``detente.node.auditor.run_audit``) on working logs in SQLite files,
served in-process by a client with PeerClient's methods (the HTTP round trip is covered by
test_federation's audits of real nodes): every bad-reference branch, a record outside the
verified range, a checkpoint signed by a rotated-out key, a rollback and altered entries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import Ed25519NoteSigner
from detente.errors import LogNotFound, StoreUnavailable
from detente.node.auditor import run_audit
from detente.node.tilelog import TileLog
from detente.records.entry import seal_record
from detente.records.keys import KEY_ROTATION
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.store.sqlite import SQLiteStore
from detente.tlog.checkpoint import Checkpoint, sign_checkpoint
from detente.tlog.hashing import leaf_hash, node_hash
from detente.tlog.policy import Policy, parse_policy

NOW = datetime(2026, 12, 1, tzinfo=UTC)
US, CN = "us.detente.example/log", "cn.detente.example/log"


class _Served:
    """A log as a peer serves it; ``note`` and ``alter`` let a test serve something else."""

    def __init__(self, log: TileLog) -> None:
        self.log = log
        self.note: bytes | None = None
        self.alter: dict[int, bytes] = {}
        self.corrupt_tiles = False
        self.tiles_of: TileLog | None = None  # serve another log's hash tiles
        self.fetched: list[tuple[int, int]] = []

    def checkpoint(self) -> bytes:
        return self.note or self.log.signed_checkpoint()

    def entries(self, start: int, end: int) -> list[bytes]:
        self.fetched.append((start, end))
        if end > self.log.size:  # as a tile server: no entry bundle wider than the tree
            raise LogNotFound(f"no entries {start}..{end} in a log of {self.log.size}")
        return [self.alter.get(i, e) for i, e in enumerate(self.log.entries(start, end), start)]

    def cosignatures(self, since: int = 0) -> list[tuple[int, str, int, str]]:
        return []  # witnessed time has its own tests (test_audit_time.py)

    def fetch_nodes(self, size: int) -> Any:
        if self.tiles_of is not None:
            return self.tiles_of._fetch
        if not self.corrupt_tiles:
            return self.log._fetch
        return lambda nodes: [bytes([h[0] ^ 1]) + h[1:] for h in self.log._fetch(nodes)]

    def close(self) -> None:
        pass


def _statement(ident: Ed25519Identity, text: str, refs: tuple[RecordRef, ...] = ()) -> bytes:
    record = Record(type="detente.dev/statement/v1", party=ident.name, issued=NOW, body={"text": text}, refs=refs)
    return seal_record(record, ident)


def _log(tmp_path: Path, ident: Ed25519Identity) -> TileLog:
    return TileLog.create(SQLiteStore(tmp_path / f"{ident.name.split('.')[0]}.db", create=True), ident)


def _policy(*logs: tuple[Ed25519Identity, str]) -> Policy:
    return parse_policy("".join(f"log {i.vkey()} {url}\n" for i, url in logs) + "quorum none\n")


def _audit(policy: Policy, served: dict[str, _Served], state: Path | None = None, **kw: Any) -> Any:
    return run_audit(policy, state, client_factory=lambda url: served[url], **kw)  # type: ignore[arg-type, return-value]


def test_each_bad_reference_is_a_problem_and_a_good_one_is_not(tmp_path: Path) -> None:
    us, cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn)
    cn_entries = [_statement(cn, "zero"), _statement(cn, "one")]
    cn_log.append(cn_entries)
    good = RecordRef(origin=CN, index=1, leaf_hash=leaf_hash(cn_entries[1]).hex())
    refs = {
        "outside": RecordRef(origin="other.example/log", index=0, leaf_hash="00" * 32),
        "beyond": RecordRef(origin=CN, index=2, leaf_hash=leaf_hash(cn_entries[1]).hex()),
        "far beyond": RecordRef(origin=CN, index=5, leaf_hash=leaf_hash(cn_entries[1]).hex()),
        "wrong leaf": RecordRef(origin=CN, index=0, leaf_hash=leaf_hash(cn_entries[1]).hex()),
        "lowest hash": RecordRef(origin=CN, index=0, leaf_hash="00" * 32),
        "highest hash": RecordRef(origin=CN, index=1, leaf_hash="ff" * 32),
    }
    us_log.append([_statement(us, "good", (good,))])
    served = {"mem://us": _Served(us_log), "mem://cn": _Served(cn_log)}
    policy = _policy((us, "mem://us"), (cn, "mem://cn"))
    clean = _audit(policy, served)
    assert clean.clean and clean.references == 1, clean.as_dict()

    us_log.append([_statement(us, name, (ref,)) for name, ref in refs.items()])
    result = _audit(policy, served)
    assert result.references == 7
    assert result.problems == [
        f"{US}#1 refers to other.example/log#0, a log outside the audit",
        f"{US}#2 refers to {CN}#2, beyond its verified size",
        f"{US}#3 refers to {CN}#5, beyond its verified size",
        f"{US}#4 refers to {CN}#0 with a leaf hash the log does not hold",
        f"{US}#5 refers to {CN}#0 with a leaf hash the log does not hold",
        f"{US}#6 refers to {CN}#1 with a leaf hash the log does not hold",
    ]


def test_a_reference_to_a_log_that_failed_its_audit_is_beyond_its_verified_size(tmp_path: Path) -> None:
    us, cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn)
    entry = _statement(cn, "zero")
    cn_log.append([entry])
    us_log.append([_statement(us, "ref", (RecordRef(origin=CN, index=0, leaf_hash=leaf_hash(entry).hex()),))])
    served = {"mem://us": _Served(us_log), "mem://cn": _Served(cn_log)}
    served["mem://cn"].alter[0] = _statement(cn, "another zero")  # validly signed, not the logged one
    result = _audit(_policy((us, "mem://us"), (cn, "mem://cn")), served)
    assert any("do not hash to the signed root" in p for p in result.logs[1].problems)
    assert result.problems == [f"{US}#0 refers to {CN}#0, beyond its verified size"]


def test_records_outside_the_verified_range_are_problems(tmp_path: Path) -> None:
    us = Ed25519Identity.generate(US)
    us_log = _log(tmp_path, us)
    us_log.append([_statement(us, "zero")])
    served = {"mem://us": _Served(us_log)}
    policy = _policy((us, "mem://us"))
    assert _audit(policy, served, records=[(US, 0)]).clean
    result = _audit(policy, served, records=[(US, 1), (US, 7), (CN, 0)])
    assert result.inclusions == 3
    assert result.problems == [
        f"record {US}#1 is not in an audited log's verified range",
        f"record {US}#7 is not in an audited log's verified range",
        f"record {CN}#0 is not in an audited log's verified range",
    ]


def test_a_checkpoint_signed_by_a_rotated_out_key_is_a_problem(tmp_path: Path) -> None:
    old, new = Ed25519Identity.generate(US), Ed25519Identity.generate(US)
    log = _log(tmp_path, old)
    log.append([_statement(old, "zero")])
    rotation = seal_record(Record(type=KEY_ROTATION, party=US, issued=NOW, body={"vkey": str(new.vkey())}), old)
    log.schedule_rotation(rotation, new)
    log.append([rotation])
    log.append([_statement(new, "two")])
    served = {"mem://us": _Served(log)}
    policy = _policy((old, "mem://us"))  # the auditor pins the first key and follows the rotation
    assert _audit(policy, served).clean
    state = tmp_path / "state.json"
    assert _audit(policy, served, state).clean
    assert _audit(policy, served, state).clean  # the next run starts from the kept key history

    cp = log.checkpoint
    served["mem://us"].note = sign_checkpoint(cp, [Ed25519NoteSigner(old)]).to_bytes()
    result = _audit(policy, served)
    assert not result.clean and result.logs[0].size == 0, result.as_dict()
    assert served["mem://us"].note != log.signed_checkpoint()
    served["mem://us"].note = sign_checkpoint(Checkpoint(US, cp.size, cp.root), [Ed25519NoteSigner(new)]).to_bytes()
    assert _audit(policy, served).clean


def test_a_rollback_since_the_last_run_is_a_problem(tmp_path: Path) -> None:
    us = Ed25519Identity.generate(US)
    log = _log(tmp_path, us)
    log.append([_statement(us, "zero")])
    small = log.signed_checkpoint()
    log.append([_statement(us, "one")])
    served = {"mem://us": _Served(log)}
    policy, state = _policy((us, "mem://us")), tmp_path / "state.json"
    assert _audit(policy, served, state).clean
    served["mem://us"].note = small
    result = _audit(policy, served, state)
    assert result.logs[0].problems == ["log went back from size 2 to 1 (fork or rollback)"]


def test_references_and_records_across_entry_bundles(tmp_path: Path) -> None:
    """Logs past two bundles of 256: every reference and inclusion resolves in the right bundle."""
    us, cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn)
    cn_entries = [_statement(cn, f"cn {i}") for i in range(700)]
    cn_log.append(cn_entries)
    picks = [300, 699, 0, 255, 256, 511, 512]  # the first look at bundles 1 and 2 is not at their start
    refs = tuple(RecordRef(origin=CN, index=i, leaf_hash=leaf_hash(cn_entries[i]).hex()) for i in picks)
    us_log.append([_statement(us, f"us {i}") for i in range(600)] + [_statement(us, "refs", refs)])
    served = {"mem://us": _Served(us_log), "mem://cn": _Served(cn_log)}
    policy = _policy((us, "mem://us"), (cn, "mem://cn"))
    records = [(CN, i) for i in picks] + [(US, i) for i in (0, 257, 599, 600)]
    result = _audit(policy, served, tmp_path / "state.json", records=records)
    assert result.clean, result.as_dict()
    assert (result.references, result.inclusions) == (len(picks), len(records))
    assert [(a.size, a.records) for a in result.logs] == [(601, 601), (700, 700)]

    wrong = tuple(RecordRef(origin=CN, index=i, leaf_hash=leaf_hash(cn_entries[i - 1]).hex()) for i in (257, 699))
    us_log.append([_statement(us, "wrong refs", wrong)])
    cn_log.append([_statement(cn, f"cn more {i}") for i in range(300)])  # 1,000: past another bundle
    again = _audit(policy, served, tmp_path / "state.json", records=[(CN, 999), (CN, 1000)])
    assert [(a.old_size, a.size, a.records) for a in again.logs] == [(601, 602, 1), (700, 1000, 300)]
    assert again.problems == [
        f"{US}#601 refers to {CN}#257 with a leaf hash the log does not hold",
        f"{US}#601 refers to {CN}#699 with a leaf hash the log does not hold",
        f"record {CN}#1000 is not in an audited log's verified range",
    ]


def test_a_witness_whose_key_is_a_partys_log_key_follows_its_rotation(tmp_path: Path) -> None:
    """cn witnesses us with its own party key; after cn rotates, its cosignatures on us's
    checkpoints are made with the new key, which the auditor learns from cn's log."""
    from detente.crypto.note import parse_note
    from detente.tlog.cosignature import cosign

    us, cn_old, cn_new = Ed25519Identity.generate(US), Ed25519Identity.generate(CN), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn_old)
    us_log.append([_statement(us, "zero")])
    rotation = seal_record(Record(type=KEY_ROTATION, party=CN, issued=NOW, body={"vkey": str(cn_new.vkey())}), cn_old)
    cn_log.schedule_rotation(rotation, cn_new)
    cn_log.append([rotation])
    served = {"mem://us": _Served(us_log), "mem://cn": _Served(cn_log)}
    policy = parse_policy(
        f"log {us.vkey()} mem://us\nlog {cn_old.vkey()} mem://cn\nwitness cn {cn_old.cosigner_vkey()}\nquorum cn\n"
    )
    signed = parse_note(us_log.signed_checkpoint())
    for witness, expected in ((cn_new, ["cn"]), (cn_old, ["cn"]), (Ed25519Identity.generate(CN), [])):
        cosig = cosign(us_log.checkpoint, witness, 1_800_000_000)
        served["mem://us"].note = signed.with_signatures([cosig]).to_bytes()
        result = _audit(policy, served)
        assert result.logs[0].cosigned_by == expected, (witness.vkey(), result.as_dict())
        assert result.logs[0].problems == ([] if expected else ["witness quorum 'cn' not met (cosigned by: none)"])


def test_a_checkpoint_for_another_log_is_a_problem(tmp_path: Path) -> None:
    us = Ed25519Identity.generate(US)
    log = _log(tmp_path, us)
    served = {"mem://us": _Served(log)}
    for other in ("aa.detente.example/log", "zz.detente.example/log"):  # sorting before and after
        stranger = Ed25519Identity.generate(other)
        served["mem://us"].note = sign_checkpoint(
            Checkpoint(other, 0, log.checkpoint.root), [Ed25519NoteSigner(stranger)]
        ).to_bytes()
        result = _audit(_policy((us, "mem://us")), served)
        assert result.logs[0].problems == [f"checkpoint is for {other!r}, not {US!r}"]


def test_a_log_without_a_url_does_not_stop_the_others(tmp_path: Path) -> None:
    us, cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
    cn_log = _log(tmp_path, cn)
    cn_log.append([_statement(cn, "zero")])
    policy = parse_policy(f"log {us.vkey()}\nlog {cn.vkey()} mem://cn\nquorum none\n")
    result = _audit(policy, {"mem://cn": _Served(cn_log)})
    assert [(a.url, a.old_size, a.size, a.problems) for a in result.logs] == [
        ("", 0, 0, ["the policy gives no URL for this log"]),
        ("mem://cn", 0, 1, []),
    ]


def test_an_unreadable_state_file_is_a_config_error(tmp_path: Path) -> None:
    from detente.errors import ConfigError

    us = Ed25519Identity.generate(US)
    served = {"mem://us": _Served(_log(tmp_path, us))}
    (tmp_path / "a folder").mkdir()
    (tmp_path / "list.json").write_text("[]")
    (tmp_path / "broken.json").write_text("{")
    for state in ("a folder", "list.json", "broken.json"):
        with pytest.raises(ConfigError, match="audit state"):
            _audit(_policy((us, "mem://us")), served, tmp_path / state)


def test_an_entry_that_does_not_open_is_a_problem_and_the_audit_goes_on(tmp_path: Path) -> None:
    us = Ed25519Identity.generate(US)
    log = _log(tmp_path, us)
    log.append([_statement(us, "zero"), _statement(us, "one")])
    served = {"mem://us": _Served(log)}
    served["mem://us"].alter[0] = b"not an envelope"
    result = _audit(_policy((us, "mem://us")), served)
    problems = result.logs[0].problems
    assert problems[0].startswith("entry 0: ") and result.logs[0].records == 1
    assert "do not hash to the signed root" in problems[-1]


def test_hash_tiles_that_do_not_match_the_entries_fail_the_inclusion(tmp_path: Path) -> None:
    us = Ed25519Identity.generate(US)
    log = _log(tmp_path, us)
    log.append([_statement(us, f"r{i}") for i in range(5)])
    served = {"mem://us": _Served(log)}
    served["mem://us"].corrupt_tiles = True
    result = _audit(_policy((us, "mem://us")), served, records=[(US, 3)])
    assert [p.split(":")[0] for p in result.problems] == [f"inclusion of {US}#3"]


def test_only_a_witness_holding_a_partys_own_key_and_name_follows_its_rotation(tmp_path: Path) -> None:
    """cn rotates; its new key's cosignature on us's checkpoint counts for no witness that is not
    exactly cn's pinned key: not one with cn's name and another key, nor cn's key under another name."""
    from detente.crypto.keys import SIG_COSIGNATURE_V1, VerifierKey, key_id
    from detente.crypto.note import parse_note
    from detente.tlog.cosignature import cosign

    us, cn_old, cn_new = Ed25519Identity.generate(US), Ed25519Identity.generate(CN), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn_old)
    us_log.append([_statement(us, "zero")])
    rotation = seal_record(Record(type=KEY_ROTATION, party=CN, issued=NOW, body={"vkey": str(cn_new.vkey())}), cn_old)
    cn_log.schedule_rotation(rotation, cn_new)
    cn_log.append([rotation])

    def cosigner(name: str, key: bytes) -> VerifierKey:
        return VerifierKey(name, key_id(name, SIG_COSIGNATURE_V1, key), SIG_COSIGNATURE_V1, key)

    impostors = {
        "low": cosigner(CN, bytes(31) + b"\x01"),  # cn's name, a key sorting below cn's
        "high": cosigner(CN, b"\xff" * 32),  # ... above
        "before": cosigner("aa.witness.example", cn_old.public_bytes),  # cn's key, a name sorting before
        "after": cosigner("zz.witness.example", cn_old.public_bytes),  # ... after
    }
    lines = "".join(f"witness {name} {vk}\n" for name, vk in impostors.items())
    policy = parse_policy(
        f"log {us.vkey()} mem://us\nlog {cn_old.vkey()} mem://cn\n{lines}group g any {' '.join(impostors)}\nquorum g\n"
    )
    served = {"mem://us": _Served(us_log), "mem://cn": _Served(cn_log)}
    signed = parse_note(us_log.signed_checkpoint())
    served["mem://us"].note = signed.with_signatures([cosign(us_log.checkpoint, cn_new, 1_800_000_000)]).to_bytes()
    result = _audit(policy, served)
    assert result.logs[0].cosigned_by == [], result.as_dict()


def test_a_log_that_fails_does_not_stop_the_next(tmp_path: Path) -> None:
    us, cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn)
    cn_log.append([_statement(cn, "zero")])
    served = {"mem://us": _Served(us_log), "mem://cn": _Served(cn_log)}
    served["mem://us"].note = b"not a checkpoint"
    result = _audit(_policy((us, "mem://us"), (cn, "mem://cn")), served)
    assert [(len(a.problems), a.size) for a in result.logs] == [(1, 0), (0, 1)]


def test_references_fetch_each_entry_bundle_once_and_whole(tmp_path: Path) -> None:
    """References into one bundle of 256 entries cost one fetch of that bundle, aligned on it (a
    range across two bundles would ask a tile server for a partial tile it may not have)."""
    us, cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn)
    cn_entries = [_statement(cn, f"cn {i}") for i in range(800)]
    cn_log.append(cn_entries)
    picks = [512, 767, 300, 301, 799, 513]  # 767: the last of bundle 2, after its first look at 512
    refs = tuple(RecordRef(origin=CN, index=i, leaf_hash=leaf_hash(cn_entries[i]).hex()) for i in picks)
    us_log.append([_statement(us, "refs", refs)])
    served = {"mem://us": _Served(us_log), "mem://cn": _Served(cn_log)}
    result = _audit(_policy((us, "mem://us"), (cn, "mem://cn")), served)
    assert result.clean and result.references == len(picks), result.as_dict()
    audit_pass = [(0, 256), (256, 512), (512, 768), (768, 800)]
    assert served["mem://cn"].fetched == [*audit_pass, (512, 768), (256, 512), (768, 800)]


def test_an_entry_that_does_not_match_its_catalogue_schema_is_a_problem(tmp_path: Path) -> None:
    us = Ed25519Identity.generate(US)
    log = _log(tmp_path, us)
    bad = Record(type="detente.dev/hotline-message/v1", party=US, issued=NOW, body={"topic": "crisis"})
    log.append([_statement(us, "zero"), seal_record(bad, us), _statement(us, "two")])
    result = _audit(_policy((us, "mem://us")), {"mem://us": _Served(log)})
    (problem,) = result.logs[0].problems
    assert problem.startswith(
        "entry 1: detente.dev/hotline-message/v1 does not match its catalogue schema: invalid "
    ), problem
    assert "priority: Field required" in problem
    assert (result.logs[0].size, result.logs[0].records) == (3, 3)


def test_a_revocation_flags_what_it_disowns_and_refuses_later_signatures_by_the_revoked_key(tmp_path: Path) -> None:
    from detente.records.keys import KEY_REVOCATION

    old, new = Ed25519Identity.generate(US), Ed25519Identity.generate(US)
    log = _log(tmp_path, old)
    log.append([_statement(old, "vouched for"), _statement(old, "by whoever held the stolen key")])
    rotation = seal_record(Record(type=KEY_ROTATION, party=US, issued=NOW, body={"vkey": str(new.vkey())}), old)
    log.schedule_rotation(rotation, new)
    log.append([rotation])
    body = {"vkey": str(old.vkey()), "effective": NOW.isoformat(), "last_index": 0, "reason": "stolen"}
    log.append([seal_record(Record(type=KEY_REVOCATION, party=US, issued=NOW, body=body), new)])
    served = {"mem://us": _Served(log)}
    policy = _policy((old, "mem://us"))
    result = _audit(policy, served)
    assert result.clean, result.as_dict()
    assert result.logs[0].flagged == [f"entries 1..1: signed by {old.vkey()}, disowned by #3"]

    log.append([_statement(old, "signed with the revoked key"), _statement(new, "five")])
    again = _audit(policy, served)
    assert again.logs[0].problems == [f"entry 4: signed by the revoked key {old.vkey()}"]
    assert again.logs[0].records == 5


def test_hash_tiles_of_another_tree_holding_the_record_fail_the_inclusion(tmp_path: Path) -> None:
    """Tiles consistent among themselves, in which the record is at its index, but whose root is
    not the signed one: roots sorting below and above the signed root are both refused."""
    us = Ed25519Identity.generate(US)
    log = _log(tmp_path, us)
    entries = [_statement(us, f"r{i}") for i in range(5)]
    log.append(entries)
    served = {"mem://us": _Served(log)}
    policy = _policy((us, "mem://us"))
    assert _audit(policy, served, records=[(US, 1)]).clean
    leaves = [leaf_hash(e) for e in entries[:4]]
    first_four = node_hash(node_hash(leaves[0], leaves[1]), node_hash(leaves[2], leaves[3]))
    below: bytes | None = None
    above: bytes | None = None
    for n in range(10_000):  # roots computed in memory until one sorts on each side of the signed root
        candidate = _statement(us, f"another r4 {n}")
        if node_hash(first_four, leaf_hash(candidate)) < log.checkpoint.root:
            below = below or candidate
        else:
            above = above or candidate
        if below and above:
            break
    assert below and above
    for n, fifth in enumerate((below, above)):
        other = TileLog.create(SQLiteStore(tmp_path / f"other{n}.db", create=True), us)
        other.append([*entries[:4], fifth])
        assert (other.checkpoint.root < log.checkpoint.root) == (fifth is below)
        served["mem://us"].tiles_of = other
        result = _audit(policy, served, records=[(US, 1)])
        assert result.problems == [f"inclusion of {US}#1: the hash tiles do not produce the signed root"]


class _Flaky(_Served):
    """Serves every entry once, then fails: the audit pass reads them, a later look at a bundle fails."""

    def entries(self, start: int, end: int) -> list[bytes]:
        if any(s <= start < e for s, e in self.fetched):
            self.fetched.append((start, end))
            raise StoreUnavailable(f"entries {start}..{end} are gone")
        return super().entries(start, end)


def test_a_log_that_fails_to_serve_a_referenced_bundle_again_is_a_problem_and_the_audit_goes_on(
    tmp_path: Path,
) -> None:
    us, cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
    us_log, cn_log = _log(tmp_path, us), _log(tmp_path, cn)
    cn_entries = [_statement(cn, f"cn {i}") for i in range(3)]
    cn_log.append(cn_entries)
    refs = tuple(RecordRef(origin=CN, index=i, leaf_hash=leaf_hash(cn_entries[i]).hex()) for i in (0, 2))
    us_log.append([_statement(us, "refs", refs)])
    served = {"mem://us": _Served(us_log), "mem://cn": _Flaky(cn_log)}
    result = _audit(_policy((us, "mem://us"), (cn, "mem://cn")), served)
    assert [(a.size, a.problems) for a in result.logs] == [(1, []), (3, [])]  # both logs audited
    assert result.problems == [
        f"{US}#0 refers to {CN}#{i}, which could not be read again: entries 0..3 are gone" for i in (0, 2)
    ]
    assert served["mem://cn"].fetched == [(0, 3), (0, 3)]  # the failed bundle was asked for once
