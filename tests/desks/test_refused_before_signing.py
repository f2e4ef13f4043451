"""Mistakes refused before signing (issue #20), in process on a real node (SQLite, real keys):
a type outside the catalogue, a recipient that is not a followed peer, a body with schema
errors. Each refusal is a typed error with a hint, through the writer (every surface) and the
API, and leaves the log exactly as it was."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.errors import MalformedRecord, UnknownRecipient, UnknownRecordType
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token
from detente.records.catalogue import LOG_ALARM, STATEMENT
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.store.node_protocol import PeerRow

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
US, CN = "us.detente.example/log", "cn.detente.example/log"
HOTLINE = "detente.dev/hotline-message/v1"
TEXT = {"original": {"lang": "en", "text": "Please call the duty officer."}}


@dataclass
class Pair:
    us: Node
    cn: Node
    client: TestClient

    def post(self, payload: dict[str, Any]) -> Any:
        return self.client.post("/api/v1/records", json=payload)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    nodes = []
    for name in ("us", "cn"):
        local = LocalNode(name, f"{name}.detente.example/log", tmp_path / name).init()
        config, base = load_config(local.directory)
        nodes.append(Node(config, base, clock=lambda: NOW))
    us, cn = nodes
    us.syncer.follow(
        PeerRow(name="cn", url="http://127.0.0.1:9", vkey=str(cn.signer.identity.vkey()), cosigner_vkey=None, added=0)
    )
    token = issue_token(us.state, "officer", "refusal test", int(NOW))
    with TestClient(create_app(us), headers={"Authorization": f"Bearer {token}"}) as client:
        yield Pair(us, cn, client)
    for node in nodes:
        node.stop()


def _record(record_type: str, body: dict[str, Any], to: tuple[str, ...] = (), **kw: Any) -> Record:
    return Record(type=record_type, party=US, issued=datetime.fromtimestamp(NOW, UTC), to=to, body=body, **kw)


def _unchanged(node: Node, size: int, root: bytes) -> None:
    node.log.refresh()
    assert (node.log.size, node.log.checkpoint.root) == (size, root)


# --- the record type -------------------------------------------------------------------------


def test_a_misspelt_type_is_refused_with_did_you_mean_and_nothing_is_logged(pair: Pair) -> None:
    size, root = pair.us.log.size, pair.us.log.checkpoint.root
    with pytest.raises(UnknownRecordType) as caught:
        pair.us.writer.append(_record("detente.dev/hotline-mesage/v1", {"priority": "flash", "topic": "crisis"}, (CN,)))
    assert caught.value.hint and "did you mean detente.dev/hotline-message/v1" in caught.value.hint
    resp = pair.post({"type": "detente.dev/hotline-message/v2", "to": ["cn"], "body": {}, "text": TEXT})
    assert resp.status_code == 422, resp.text
    problem = resp.json()
    assert problem["code"] == "unknown-record-type"
    assert "did you mean detente.dev/hotline-message/v1" in problem["hint"]
    for other in ("example.org/custom/v1", "detente.dev/notice/v1"):
        assert pair.post({"type": other, "body": {}}).json()["code"] == "unknown-record-type"
    _unchanged(pair.us, size, root)


def test_free_form_statements_and_the_nodes_own_alarms_are_still_signed(pair: Pair) -> None:
    resp = pair.post({"type": STATEMENT, "body": {"anything": [1, 2]}, "text": TEXT})
    assert resp.status_code == 201, resp.text
    seq = pair.us.writer.append(_record(LOG_ALARM, {"fork": "f", "origin": CN}))
    assert seq.index == resp.json()["index"] + 1


# --- recipients --------------------------------------------------------------------------------


def test_a_peers_short_name_is_resolved_to_its_origin(pair: Pair) -> None:
    body = {"priority": "flash", "topic": "crisis"}
    resp = pair.post({"type": HOTLINE, "to": ["cn", CN], "body": body, "text": TEXT})
    assert resp.status_code == 201, resp.text
    logged = pair.client.get("/api/v1/records", params={"start": resp.json()["index"], "limit": 1}).json()
    assert logged[0]["record"]["to"] == [CN]


@pytest.mark.parametrize("recipient", ["cn.example/log", "uk", "CN", "us"])
def test_a_recipient_that_is_not_a_followed_peer_is_refused_and_nothing_is_logged(pair: Pair, recipient: str) -> None:
    size, root = pair.us.log.size, pair.us.log.checkpoint.root
    resp = pair.post({"type": HOTLINE, "to": [recipient], "body": {"priority": "flash", "topic": "crisis"}})
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "unknown-recipient"
    assert f"cn ({CN})" in resp.json()["hint"]  # the pinned peers, to pick from
    _unchanged(pair.us, size, root)


def test_the_writer_refuses_an_unresolved_name_whatever_the_surface(pair: Pair) -> None:
    size, root = pair.us.log.size, pair.us.log.checkpoint.root
    body = {"priority": "flash", "topic": "crisis"}
    with pytest.raises(UnknownRecipient, match=r"cn\.example/log"):
        pair.us.writer.append(_record(HOTLINE, body, ("cn.example/log",)))
    with pytest.raises(UnknownRecipient):  # one bad record in a batch: nothing of the batch is written
        pair.us.writer.append_many([_record(HOTLINE, body, (CN,)), _record(HOTLINE, body, ("cn",))])
    with pytest.raises(UnknownRecipient):  # a domain desk's own route: an export-control disclosure
        pair.us.exportctl.disclose(("cn.example/log",), _text())
    _unchanged(pair.us, size, root)


def test_domain_routes_resolve_short_names_and_refuse_others(pair: Pair) -> None:
    size = pair.us.log.size
    bad = pair.client.post("/api/v1/exportctl/disclosures", json={"to": ["cn.example/log"], "text": TEXT})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown-recipient", bad.text
    pair.us.log.refresh()
    assert pair.us.log.size == size
    good = pair.client.post("/api/v1/exportctl/disclosures", json={"to": ["cn"], "text": TEXT})
    assert good.status_code == 201, good.text
    logged = pair.client.get("/api/v1/records", params={"start": size, "limit": 1}).json()
    assert logged[0]["record"]["to"] == [CN]


def test_a_party_already_in_a_referenced_thread_may_be_named(pair: Pair) -> None:
    """cn writes to us and to uk, whom us does not follow: us may still record uk's missed
    deadline in that thread (the protocol does), but may not open a thread of its own with uk."""
    uk = "uk.detente.example/log"
    notice = Record(type=HOTLINE, party=CN, issued=datetime.fromtimestamp(NOW, UTC), to=(US, uk),
                    body={"priority": "flash", "topic": "crisis"})  # fmt: skip
    result = pair.cn.log.append([seal_record(notice, pair.cn.signer.identity)])
    row = pair.us.peering.row("cn")
    mirror = pair.us.peering.mirror(row)
    mirror.extend(pair.cn.log.entries(0, pair.cn.log.size), pair.cn.log.signed_checkpoint())
    pair.us.records.catch_up()
    leaf = pair.us.records.at(CN, result.first_index, quarantined=True)[0].leaf_hash
    ref = RecordRef(origin=CN, index=result.first_index, leaf_hash=leaf, rel="missed")
    missed = {"deadline": "receipt", "party": uk, "due": "2026-12-01T12:15:00Z"}
    pair.us.writer.append(_record("detente.dev/deadline-missed/v1", missed, (CN, uk), refs=(ref,)))
    with pytest.raises(UnknownRecipient, match=re.escape(uk)):
        pair.us.writer.append(_record(HOTLINE, {"priority": "flash", "topic": "crisis"}, (uk,)))


# --- the body -----------------------------------------------------------------------------------


def test_every_schema_error_of_a_body_is_reported_at_once_with_meaning_and_example(pair: Pair) -> None:
    size, root = pair.us.log.size, pair.us.log.checkpoint.root
    body = {"priority": "urgent", "code": "amber7", "colour": "red"}
    resp = pair.post({"type": HOTLINE, "to": ["cn"], "body": body, "text": TEXT})
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert detail.startswith(f"invalid {HOTLINE} body (4 errors):")
    lines = detail.splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == ["priority", "topic", "code", "colour"]
    assert 'one of flash, immediate, priority, routine; e.g. "flash"' in lines[0]
    assert "code word and number" in lines[2]
    assert "the fields here are: priority, topic, code, sector" in lines[3]
    assert "detente catalogue hotline-message" in resp.json()["hint"]
    with pytest.raises(MalformedRecord, match="window_start"):
        pair.us.writer.append(_record("detente.dev/pre-test-notification/v1", {}, (CN,)))
    _unchanged(pair.us, size, root)


def _text() -> Any:
    from detente.records.text import BilingualText

    return BilingualText.model_validate(TEXT)


def test_an_early_warning_to_a_party_that_is_not_a_peer_refuses_the_report_before_it_is_signed(
    tmp_path: Path,
) -> None:
    """A critical-infrastructure report warns ``early_warning_to``: a name there that is not a
    followed peer refuses the report itself, rather than logging it and then failing the warning."""
    local = LocalNode("us", US, tmp_path / "us").init()
    toml = local.directory / "detente.toml"
    toml.write_text(toml.read_text().replace("early_warning_to = []", 'early_warning_to = ["uk.detente.example/log"]'))
    config, base = load_config(local.directory)
    node = Node(config, base, clock=lambda: NOW)
    token = issue_token(node.state, "officer", "refusal test", int(NOW))
    report = json.loads((Path(__file__).resolve().parents[2] / "examples/incidents/report-initial.json").read_text())
    try:
        with TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"}) as client:
            resp = client.post("/api/v1/incidents", json={"report": report})
            assert resp.status_code == 422 and resp.json()["code"] == "unknown-recipient", resp.text
            assert "early_warning_to" in resp.json()["hint"]
            assert node.log.size == 0
            calm = client.post("/api/v1/incidents", json={"report": {**report, "critical_infrastructure": False}})
            assert calm.status_code == 201, calm.text  # a report that warns nobody is filed as usual
    finally:
        node.stop()
