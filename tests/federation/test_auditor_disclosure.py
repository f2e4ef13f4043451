"""The auditor's check of a sealed record's disclosure (``detente.node.auditor.check_disclosure``)
on logs in SQLite files served in process: the content a recipient shows verifies against what the
sender committed to in its log, and each way a disclosure can be wrong is refused with its own
message (the round trip between real nodes is in test_sealed_exchange.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detente.crypto.canonical import canonical_json
from detente.crypto.keys import Ed25519Identity
from detente.crypto.sealing import EncryptionKey
from detente.errors import LogNotFound, VerificationError
from detente.node.auditor import check_disclosure
from detente.node.tilelog import TileLog
from detente.records.entry import seal_record
from detente.records.record import TLP, Record
from detente.records.sealing import disclosure, open_record, seal_record_content
from detente.records.text import BilingualText, LangText
from detente.store.sqlite import SQLiteStore
from detente.tlog.hashing import leaf_hash
from detente.tlog.policy import parse_policy

US, CN = "us.detente.example/log", "cn.detente.example/log"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SECRET = "Weights of model K-7 copied off-site from facility 12 at 03:10 UTC"


class _Served:
    def __init__(self, log: TileLog) -> None:
        self.log = log
        self.alter: dict[int, bytes] = {}
        self.closed = 0

    def checkpoint(self) -> bytes:
        return self.log.signed_checkpoint()

    def entries(self, start: int, end: int) -> list[bytes]:
        if end > self.log.size:  # as a tile server: no entry bundle wider than the tree
            raise LogNotFound(f"no entries {start}..{end} in a log of {self.log.size}")
        return [self.alter.get(i, e) for i, e in enumerate(self.log.entries(start, end), start)]

    def cosignatures(self, since: int = 0) -> list[tuple[int, str, int, str]]:
        return []

    def fetch_nodes(self, size: int) -> Any:
        return self.log._fetch

    def close(self) -> None:
        self.closed += 1


class _World:
    """us's log holds a public statement, a sealed hotline message to cn, and another statement; the
    policy lists two other (empty) logs before it."""

    def __init__(self, tmp_path: Path, *, last: bool = False) -> None:
        self.us = Ed25519Identity.generate(US)
        self.key = EncryptionKey.generate()
        message = Record(
            type="detente.dev/hotline-message/v1",
            party=US,
            issued=NOW,
            to=(CN,),
            tlp=TLP.AMBER,
            body={"priority": "flash", "topic": "urgent-concern", "sector": "energy"},
            text=BilingualText(original=LangText(lang="en", text=SECRET), translations={"zh": "机密"}),
        )
        self.sealed = seal_record_content(message, {CN: (self.key.key_id, self.key.public_bytes())})
        self.entries = [self._statement("before"), seal_record(self.sealed, self.us), self._statement("after")]
        if last:  # the sealed record last in the log
            self.entries.pop()
        log = TileLog.create(SQLiteStore(tmp_path / "us.db", create=True), self.us)
        log.append(self.entries)
        self.served = {"mem://us": _Served(log)}
        lines = ""
        for name in ("aa", "zz"):  # logs sorting before and after us's, listed before it
            ident = Ed25519Identity.generate(f"{name}.detente.example/log")
            self.served[f"mem://{name}"] = _Served(
                TileLog.create(SQLiteStore(tmp_path / f"{name}.db", create=True), ident)
            )
            lines += f"log {ident.vkey()} mem://{name}\n"
        self.policy = parse_policy(f"{lines}log {self.us.vkey()} mem://us\nquorum none\n")

    def _statement(self, text: str) -> bytes:
        record = Record(type="detente.dev/statement/v1", party=US, issued=NOW, body={"text": text})
        return seal_record(record, self.us)

    def shown(self) -> dict[str, Any]:
        opened = open_record(self.sealed, CN, {self.key.key_id: self.key})
        return disclosure(US, 1, leaf_hash(self.entries[1]).hex(), opened)

    def check(self, disclosed: dict[str, Any]) -> Any:
        return check_disclosure(self.policy, disclosed, client_factory=lambda url: self.served[url])  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize("last", [False, True])
def test_a_true_disclosure_verifies_with_the_records_inclusion(tmp_path: Path, last: bool) -> None:
    w = _World(tmp_path, last=last)
    result, content = w.check(w.shown())
    assert content["text"]["original"]["text"] == SECRET and content["body"]["sector"] == "energy"
    assert result.clean and result.inclusions == 1 and result.problems == []
    assert [(a.origin, a.size) for a in result.logs] == [
        ("aa.detente.example/log", 0),
        ("zz.detente.example/log", 0),
        (US, 2 if last else 3),
    ]
    assert w.served["mem://us"].closed == 2  # the audit's client and the disclosure's own


@pytest.mark.parametrize(
    "record",
    [
        None,  # no "record" at all
        "us#1",  # not an object
        {"index": 1, "leaf_hash": "00"},  # no origin
        {"origin": US, "leaf_hash": "00"},  # no index
        {"origin": US, "index": 1},  # no leaf hash
        {"origin": US, "index": "one", "leaf_hash": "00"},  # an index that is not a number
        {"origin": US, "index": [1], "leaf_hash": "00"},  # ... nor a text
    ],
)
def test_a_disclosure_that_does_not_name_its_record_is_refused(tmp_path: Path, record: Any) -> None:
    w = _World(tmp_path)
    shown = w.shown()
    if record is None:
        del shown["record"]
    else:
        shown["record"] = record
    with pytest.raises(VerificationError) as info:
        w.check(shown)
    assert info.value.message == "a disclosure names its record: origin, index and leaf hash"


def test_logs_that_do_not_verify_refuse_the_disclosure_with_every_problem(tmp_path: Path) -> None:
    w = _World(tmp_path)
    w.served["mem://us"].alter[2] = w._statement("another after")  # validly signed, not the logged one
    with pytest.raises(VerificationError) as info:
        w.check(w.shown())
    assert info.value.message == (
        "the logs do not verify, so the disclosure cannot be checked: "
        f"record {US}#1 is not in an audited log's verified range; "
        f"entries up to 3 do not hash to the signed root: the log was rewritten since size 0, or served "
        "altered entries"
    )


def test_a_record_beyond_the_log_refuses_the_disclosure(tmp_path: Path) -> None:
    w = _World(tmp_path)
    shown = w.shown()
    shown["record"] = shown["record"] | {"index": 3}
    with pytest.raises(VerificationError) as info:
        w.check(shown)
    assert info.value.message == (
        f"the logs do not verify, so the disclosure cannot be checked: record {US}#3 is not in an audited "
        "log's verified range"
    )


@pytest.mark.parametrize("leaf", ["00" * 32, "ff" * 32, "leaf-of-0", "leaf-of-2"])
def test_a_disclosure_naming_another_leaf_is_refused(tmp_path: Path, leaf: str) -> None:
    """Leaf hashes sorting below and above the logged one, and the next entries' own hashes."""
    w = _World(tmp_path)
    shown = w.shown()
    if leaf.startswith("leaf-of-"):
        leaf = leaf_hash(w.entries[int(leaf[-1])]).hex()
    shown["record"] = shown["record"] | {"leaf_hash": leaf}
    with pytest.raises(VerificationError) as info:
        w.check(shown)
    assert info.value.message == f"{US}#1 holds another record than the one disclosed"


def test_a_disclosure_of_a_public_record_is_refused(tmp_path: Path) -> None:
    w = _World(tmp_path)
    shown = w.shown()
    shown["record"] = {"origin": US, "index": 0, "leaf_hash": leaf_hash(w.entries[0]).hex()}
    with pytest.raises(VerificationError, match="not sealed"):
        w.check(shown)


def test_altered_content_is_refused(tmp_path: Path) -> None:
    w = _World(tmp_path)
    forged = w.shown() | {"content": base64.b64encode(canonical_json({"body": {}, "text": None})).decode()}
    with pytest.raises(VerificationError, match="not what the sender committed to"):
        w.check(forged)
