"""A rival peer's records against this party's desks, in process: two real nodes (SQLite files,
real keys), the rival's records sealed with its own key into its own log and mirrored into the
victim's store exactly as a sync stores them (signature and party verified by the mirror).

Issue #17 item 4: a party's own authority comes from its own log (rule packs, labeling
guidelines, C2PA trust anchors, glossary wording); item 5, desk side: a validly signed but
malformed peer record never breaks an operator read."""

from __future__ import annotations

import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.exportctl import builtin_packs
from detente.exportctl.catalogue import lookup
from detente.media.guidelines import packaged_guidelines
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.store.node_protocol import PeerRow

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
H100 = "NVIDIA H100 SXM5"


@dataclass
class Pair:
    us: Node
    cn: Node
    row: PeerRow

    def rival_logs(self, record_type: str, body: dict[str, Any], **kw: Any) -> int:
        """``cn`` signs and logs a record as it likes (no schema check: a hostile node skips its
        own), and ``us`` mirrors it; returns its index in cn's log."""
        record = Record(type=record_type, party=self.cn.signer.identity.name, issued=datetime.fromtimestamp(NOW, UTC),
                        body=body, **kw)  # fmt: skip
        result = self.cn.log.append([seal_record(record, self.cn.signer.identity)])
        self.mirror()
        return result.first_index

    def mirror(self) -> None:
        mirror = self.us.peering.mirror(self.row)
        mirror.extend(self.cn.log.entries(mirror.size, self.cn.log.size), self.cn.log.signed_checkpoint())

    def client(self) -> TestClient:
        token = issue_token(self.us.state, "officer", "rival test", int(NOW))
        return TestClient(create_app(self.us), headers={"Authorization": f"Bearer {token}"})


PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    """``us`` (the victim) and ``cn`` (the rival), each with its own store on the driver."""
    schemas: list[str] = []
    if request.param == "postgres":
        import psycopg

        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
        except psycopg.Error as exc:
            if os.environ.get("DETENTE_REQUIRE_PG") == "1":
                raise
            pytest.skip(f"PostgreSQL not reachable: {exc}")
    nodes = []
    for name in ("us", "cn"):
        store = "detente.db"
        if request.param == "postgres":
            schemas.append(f"d_{name}_{uuid.uuid4().hex[:10]}")
            store = f"{PG_URL}#{schemas[-1]}"
        local = LocalNode(name, f"{name}.detente.example/log", tmp_path / name, store=store).init()
        config, base = load_config(local.directory)
        nodes.append(Node(config, base, clock=lambda: NOW))
    us, cn = nodes
    row = PeerRow(name="cn", url="http://127.0.0.1:9", vkey=str(cn.signer.identity.vkey()), cosigner_vkey=None, added=0)
    us.state.add_peer(row)
    us.peering.reload()
    yield Pair(us, cn, row)
    for n in nodes:
        n.stop()
        close_stores(n)
    if schemas:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def close_stores(node: Node) -> None:
    """The node's store connections (``Node.stop`` leaves them to the process's exit)."""
    if node._incidents is not None:
        node._incidents.index.close()
    node.state.close()
    node.logs.close()


def us_ear_entries(result: dict[str, Any]) -> list[str]:
    return [e for r in result["regimes"] if r["regime"] == "us-ear" for e in r["entries"]]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


# --- item 4: rule packs ---------------------------------------------------------------------


def rival_us_ear_pack() -> dict[str, Any]:
    """China's pack relabeled as the US EAR: under it an H100 is not controlled."""
    cn_pack = next(p for p in builtin_packs() if p.regime == "cn-ecl")
    return {**cn_pack.as_json(), "regime": "us-ear", "version": "9999.1", "publisher": "us"}


def test_a_rivals_us_ear_pack_does_not_change_our_classification(pair: Pair) -> None:
    item = lookup(H100).item()
    before = pair.us.exportctl.classify(item)
    assert us_ear_entries(before) == ["3A090.a"]
    index = pair.rival_logs("detente.dev/export-rule-pack/v1", rival_us_ear_pack())

    after = pair.us.exportctl.classify(item)
    assert us_ear_entries(after) == ["3A090.a"], "a peer's pack replaced this party's own"
    assert {p["regime"]: p["from"] for p in after["packs"]}["us-ear"] == "built-in"
    # shown as cn's, not in use; classifying as cn would uses it
    listed = [p for p in pair.us.exportctl.all_packs() if p["party"] == pair.cn.signer.identity.name]
    assert [(p["from"], p["in_use"]) for p in listed] == [(f"{pair.cn.signer.identity.name}#{index}", False)]
    as_cn = pair.us.exportctl.classify(item, as_party="cn")
    assert us_ear_entries(as_cn) == [] and as_cn["as_party"] == pair.cn.signer.identity.name
    # the same pack published in this party's own log does govern (the operator's own choice)
    from detente.exportctl.rules import load_pack

    pair.us.exportctl.publish_pack(load_pack(rival_us_ear_pack()))
    assert us_ear_entries(pair.us.exportctl.classify(item)) == []


# --- item 4: labeling guidelines --------------------------------------------------------------


def lax_us_c2pa(effective: str, party: str = "us") -> dict[str, Any]:
    g = next(g for g in packaged_guidelines() if g.guideline_id == "us-c2pa").model_dump(mode="json")
    return {**g, "party": party, "version": "9999.1", "effective": effective,
            "rules": [{**r, "level": "should"} for r in g["rules"]]}  # fmt: skip


def test_a_rivals_guidelines_do_not_pass_an_unlabeled_png(pair: Pair) -> None:
    pytest.importorskip("c2pa")
    png = tiny_png()

    def c2pa_verdict(**kw: Any) -> tuple[str, str]:
        report = pair.us.media.check(png, "image/png", **kw)
        regime = next(r for r in report["regimes"] if r["regime"] == "c2pa")
        return regime["verdict"], regime["guideline"]["version"]

    assert c2pa_verdict() == ("fail", "2026.1")
    # the attack as found: party "us" in the body, every rule "should", effective 9999-12-31
    pair.rival_logs("detente.dev/label-guideline/v1", lax_us_c2pa("9999-12-31"))
    # and the same in effect today, and in cn's own name
    pair.rival_logs("detente.dev/label-guideline/v1", {**lax_us_c2pa("2026-11-01"), "version": "9999.2"})
    pair.rival_logs("detente.dev/label-guideline/v1", {**lax_us_c2pa("2026-11-01", "cn"), "version": "9999.3"})
    assert c2pa_verdict() == ("fail", "2026.1"), "a peer's guideline judged this party's check"
    notes = {
        g["version"]: g for g in pair.us.media.all_guidelines() if g["published_by"] == pair.cn.signer.identity.name
    }
    assert not any(g["in_use"] for g in notes.values()) and len(notes) == 3
    assert all("shown as that party's" in g["note"] for g in notes.values())
    # as cn would judge it: cn's own-named guideline in effect today; the ones naming "us" never count
    assert c2pa_verdict(as_party=pair.cn.signer.identity.name) == ("pass", "9999.3")
    # through the API: the same verdict, and the listing says whose each guideline is
    api = pair.client()
    if True:
        answer = api.post("/api/v1/labels/check", content=png, headers={"Content-Type": "image/png"})
        assert answer.status_code == 200
        assert next(r for r in answer.json()["regimes"] if r["regime"] == "c2pa")["verdict"] == "fail"
        listed = api.get("/api/v1/labels/guidelines").json()
        assert {g["from"] for g in listed if not g["in_use"]} >= {
            f"{pair.cn.signer.identity.name}#{i}" for i in (0, 1, 2)
        }


def test_own_guidelines_apply_only_within_their_effective_dates(pair: Pair) -> None:
    pytest.importorskip("c2pa")
    png = tiny_png()
    pair.us.media.publish_guideline(packaged_guidelines()[1].model_copy(update={"version": "x"}).model_validate(
        lax_us_c2pa("9999-12-31")))  # fmt: skip
    regime = next(r for r in pair.us.media.check(png, "image/png")["regimes"] if r["regime"] == "c2pa")
    assert (regime["verdict"], regime["guideline"]["version"]) == ("fail", "2026.1")
    future = next(g for g in pair.us.media.all_guidelines() if g["version"] == "9999.1")
    assert future["in_use"] is False and "effective only from 9999-12-31" in future["note"]
    pair.us.media.publish_guideline(packaged_guidelines()[1].model_validate({**lax_us_c2pa("2026-11-30"),
                                                                             "version": "9999.2"}))  # fmt: skip
    regime = next(r for r in pair.us.media.check(png, "image/png")["regimes"] if r["regime"] == "c2pa")
    assert (regime["verdict"], regime["guideline"]["version"]) == ("pass", "9999.2")


def test_a_guideline_naming_another_party_is_refused_at_publication(pair: Pair) -> None:
    from detente.errors import MalformedRecord

    with pytest.raises(MalformedRecord) as info:
        pair.us.media.publish_guideline(packaged_guidelines()[0].model_validate(lax_us_c2pa("2026-11-01", "cn")))
    assert info.value.hint


# --- item 4: C2PA trust anchors -----------------------------------------------------------------


def test_a_peers_anchor_vouches_only_for_that_peer(pair: Pair) -> None:
    pytest.importorskip("c2pa")
    from detente.media.c2pa_credentials import make_party_chain, sign_c2pa
    from detente.media.records import C2paTrustAnchor

    jpeg = (Path(__file__).resolve().parent.parent / "data" / "c2pa" / "no_manifest.jpg").read_bytes()
    cn_origin, us_origin = pair.cn.signer.identity.name, pair.us.signer.identity.name

    def publish(root: bytes) -> None:
        import hashlib

        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        cert = x509.load_pem_x509_certificate(root)
        body = C2paTrustAnchor(certificate_pem=root.decode(),
                               sha256=hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest())  # fmt: skip
        pair.rival_logs("detente.dev/c2pa-trust-anchor/v1", body.model_dump())

    # cn's own credentials, under the root cn published: Trusted, and said to be through cn's anchor
    cn_chain = make_party_chain(cn_origin)
    publish(cn_chain.root_pem)
    c2pa = pair.us.media.check(sign_c2pa(jpeg, "image/jpeg", cn_chain), "image/jpeg")["c2pa"]
    assert (c2pa["state"], c2pa["trusted_by"]) == ("Trusted", cn_origin)
    # cn issues itself a chain in us's name and publishes that root as its anchor: a file signed
    # "as us" under it must not be Trusted at us
    forged = make_party_chain(us_origin)
    publish(forged.root_pem)
    c2pa = pair.us.media.check(sign_c2pa(jpeg, "image/jpeg", forged), "image/jpeg")["c2pa"]
    assert c2pa["state"] == "Valid" and "signingCredential.untrusted" in c2pa["failure"]
    assert f"vouches only for {cn_origin}" in c2pa["detail"]
    # us's own credentials stay Trusted through us's own root
    own = pair.us.media.apply(jpeg, _label(), "image/jpeg")
    c2pa = pair.us.media.check(own, "image/jpeg")["c2pa"]
    assert (c2pa["state"], c2pa["trusted_by"]) == ("Trusted", "")
    listed = {a["party"]: a["vouches_for"] for a in pair.us.media.anchors()}
    assert listed == {cn_origin: cn_origin, us_origin: "any signer"}


def _label() -> Any:
    from detente.media.aigc import AigcLabel

    return AigcLabel(label="1", content_producer="001191110102MACQD9K64010000", produce_id="us-1")


# --- item 4: glossary wording ----------------------------------------------------------------------


def test_a_peers_term_never_replaces_our_own(pair: Pair) -> None:
    from detente.commitments.model import GlossaryDefinition

    mine = {"term_id": "frontier-model", "term": {"en": "frontier model"},
            "definition": {"original": {"lang": "en", "text": "A model at the capability frontier."}}}  # fmt: skip
    pair.us.commitments.define(GlossaryDefinition.model_validate(mine))
    theirs = {**mine, "term": {"en": "toy model", "zh": "前沿模型"},
              "definition": {"original": {"lang": "zh", "text": "玩具。"}}}  # fmt: skip
    pair.rival_logs("detente.dev/glossary-definition/v1", theirs)
    entry = pair.us.commitments.glossary("frontier-model")[0]
    assert entry["term"] == {"en": "frontier model", "zh": "前沿模型"}
    assert set(entry["by_party"]) == {pair.us.signer.identity.name, pair.cn.signer.identity.name}


# --- item 5: malformed peer records never break a read ------------------------------------------

CATALOGUED = [
    "detente.dev/eval-result/v1",
    "detente.dev/eval-preregistration/v1",
    "detente.dev/glossary-definition/v1",
    "detente.dev/label-guideline/v1",
    "detente.dev/c2pa-trust-anchor/v1",
    "detente.dev/label-check/v1",
    "detente.dev/watermark-key/v1",
    "detente.dev/export-rule-pack/v1",
    "detente.dev/trusted-supplier/v1",
    "detente.dev/supplier-recognition/v1",
    "detente.dev/supplier-recognition-signature/v1",
    "detente.dev/commitment-document/v1",
    "detente.dev/commitment-signature/v1",
    "detente.dev/implementation-report/v1",
    "detente.dev/quarterly-report/v1",
    "detente.dev/incident-report/v1",
]


def every_read(pair: Pair) -> list[tuple[str, str, dict[str, Any]]]:
    reads: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/v1/evals", {}),
        ("GET", "/api/v1/glossary", {}),
        ("GET", "/api/v1/commitments", {}),
        ("GET", "/api/v1/labels/guidelines", {}),
        ("GET", "/api/v1/labels/anchors", {}),
        ("GET", "/api/v1/watermark/keys", {}),
        ("GET", "/api/v1/takedowns", {}),
        ("GET", "/api/v1/exportctl/packs", {}),
        ("GET", "/api/v1/exportctl/suppliers", {}),
        ("GET", "/api/v1/exportctl/recognitions", {}),
        ("GET", "/api/v1/exportctl/recognized", {}),
        ("GET", "/api/v1/exportctl/disclosures", {}),
        ("GET", "/api/v1/reports/quarterly/2026Q4", {}),
        ("GET", "/api/v1/reports/quarterly/2026Q4.pdf", {}),
        ("POST", "/api/v1/exportctl/classify", {"json": {"name": H100}}),
    ]
    try:
        import c2pa  # noqa: F401
    except ImportError:
        return reads
    return [*reads, ("POST", "/api/v1/labels/check", {"content": tiny_png(), "headers": {"Content-Type": "image/png"}})]


def log_every_type_malformed(append: Any, to: str) -> dict[str, int]:
    """One record of every catalogued type with ``body: {}``; returns type → index."""
    from detente.records.catalogue import CATALOGUE

    missing = [t for t in CATALOGUED if t not in CATALOGUE]
    assert not missing, missing
    return {t: append(t, {}, to=(to,)) if CATALOGUE[t].addressed else append(t, {}) for t in CATALOGUE}


def test_malformed_peer_records_leave_every_read_2xx(pair: Pair) -> None:
    at = log_every_type_malformed(pair.rival_logs, pair.us.signer.identity.name)
    api = pair.client()
    for method, path, kw in every_read(pair):
        answer = api.request(method, path, **kw)
        assert answer.status_code < 300, (path, answer.status_code, answer.text[:300])
    # a malformed result asked for by name is a typed problem (quarantined at the border: not
    # found; else malformed: 422), never a crash
    index = at["detente.dev/eval-result/v1"]
    shown = api.get("/api/v1/evals/result", params={"origin": pair.cn.signer.identity.name, "index": index})
    assert shown.status_code in (404, 422) and shown.json()["hint"]


def test_malformed_records_that_reach_a_desk_are_skipped(pair: Pair) -> None:
    """The desks' own defense, behind the border quarantine: records in the node's own log are not
    quarantined (a record logged under an older, looser schema, or appended by another tool), so
    here every desk meets ``body: {}`` itself."""
    us = pair.us

    def own_logs(record_type: str, body: dict[str, Any], **kw: Any) -> int:
        record = Record(type=record_type, party=us.signer.identity.name, issued=datetime.fromtimestamp(NOW, UTC),
                        body=body, **kw)  # fmt: skip
        return us.log.append([seal_record(record, us.signer.identity)]).first_index

    at = log_every_type_malformed(own_logs, pair.cn.signer.identity.name)
    api = pair.client()
    for method, path, kw in every_read(pair):
        answer = api.request(method, path, **kw)
        assert answer.status_code < 300, (path, answer.status_code, answer.text[:300])
    shown = api.get(
        "/api/v1/evals/result", params={"origin": us.signer.identity.name, "index": at["detente.dev/eval-result/v1"]}
    )
    assert shown.status_code == 422 and "malformed" in shown.json()["detail"] and shown.json()["hint"]
    assert us.exportctl.classify(lookup(H100).item())["packs"][-1]["from"] == "built-in"
