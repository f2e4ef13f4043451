"""Sealed incidents between real nodes (issue #24): ``us`` files TLP:AMBER and TLP:RED incident
reports to ``cn``; ``cn`` indexes them for the roles that may read each marking (search, show,
working group, STIX export); ``eu``, a neutral node mirroring both logs, holds none of it; a report
without recipients, or to a recipient without a published key, is refused before signing. Then a
property test: no answer of any GET route to a non-recipient (eu, any role), nor to a viewer for a
TLP:RED record (at cn and at us), holds a byte of a sealed content, whatever it says."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.node.localnet import LocalNode

HOTLINE = "detente.dev/hotline-message/v1"
WAIT = 90.0  # generous: the checks poll, they do not sleep
SECRET_AMBER = "Reactor cooling model drifted at plant Kestrel-4"
SECRET_RED = "Weights of Halcyon exfiltrated through the staging bucket"
TWIN = "Cooling model drifted at a reactor plant, Sealed incident reported in the open"
CLASSIFIED_SCALE = "regional"
SKIP = ("/api/v1/events", "/docs", "/redoc", "/console", "/healthz")


def _report(incident_id: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "category": "ai-incident",
        "title": {"original": {"lang": "en", "text": f"Sealed incident {incident_id}"}},
        "description": {"original": {"lang": "en", "text": description}},
        "ai_relation": "model output",
        "submitter": "duty officer",
        "supporting_materials": ["https://example.org/sealed"],
        "severity": "high",
        "harm_types": ["critical-infrastructure"],
        "jurisdictions": ["EU"],
        **extra,
    }


def _file(node: LocalNode, report: dict[str, Any], tlp: str, to: list[str]) -> Any:
    return node.api("POST", "/api/v1/incidents", json={"report": report, "tlp": tlp, "to": to})


def _token(node: LocalNode, role: str) -> str:
    return str(node.api("POST", "/api/v1/tokens", json={"role": role, "label": role}).json()["token"])


def _mirrored(node: LocalNode, peer: str) -> int:
    return int(next(p for p in node.status()["peers"] if p["name"] == peer)["mirrored_size"])


def _get_routes(node: LocalNode) -> list[str]:
    """Every GET route of the node without a path parameter (its own OpenAPI document)."""
    paths = node.api("GET", "/openapi.json").json()["paths"]
    return sorted(p for p, ops in paths.items() if "get" in ops and "{" not in p and not p.startswith(SKIP))


def _answers(node: LocalNode, token: str, extra: list[str]) -> list[tuple[str, bytes]]:
    out = []
    for path in _get_routes(node) + extra:
        resp = node.api("GET", path, token=token)
        assert resp.status_code < 500, (node.name, path, resp.text)
        out.append((path, resp.content))
    return out


def _forms(secret: str) -> list[bytes]:
    """The secret as raw UTF-8 and as JSON writes it with ASCII escapes."""
    return [secret.encode(), json.dumps(secret)[1:-1].encode()]


def _leaks(answers: list[tuple[str, bytes]], secret: str) -> list[str]:
    return [path for path, raw in answers if any(form in raw for form in _forms(secret))]


def _quarter() -> str:
    now = datetime.now(UTC)
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


def test_sealed_incidents_are_read_only_where_and_by_whom_their_marking_allows(
    make_node: Callable[..., LocalNode], wait: Callable[..., None]
) -> None:
    us, cn, eu = make_node("us"), make_node("cn"), make_node("eu")
    # eu is pinned by nobody, so nobody pushes to it: it pulls, every 0.5 s here (30 s by default)
    config = eu.directory / "detente.toml"
    config.write_text(re.sub(r"(?m)^sync_interval = .*$", "sync_interval = 0.5", config.read_text()))
    us.pin(cn)
    cn.pin(us)
    eu.pin(us, witness=False)
    eu.pin(cn, witness=False)
    for node in (us, cn, eu):
        node.start()

    # Refused before anything is signed: no recipient, a recipient without a key, recipients on CLEAR.
    size = us.status()["size"]
    nobody = _file(us, _report("us-2026-0100", SECRET_AMBER), "TLP:AMBER", [])
    assert nobody.status_code == 422 and "name them" in nobody.json()["detail"] and nobody.json()["hint"]
    keyless = _file(us, _report("us-2026-0100", SECRET_AMBER), "TLP:AMBER", ["cn"])
    assert keyless.status_code == 422 and "published no encryption key" in keyless.json()["detail"]
    assert "detente key encryption" in keyless.json()["hint"]
    clear = _file(us, _report("us-2026-0100", SECRET_AMBER), "TLP:CLEAR", ["cn"])
    assert clear.status_code == 422 and "recipients are for TLP:AMBER" in clear.json()["detail"]
    assert us.status()["size"] == size

    cn_key = cn.api("POST", "/api/v1/keys/encryption").json()["key_id"]
    wait("cn's key at us", lambda: us.api("GET", "/api/v1/keys/encryption").json()["published"].get(cn.origin)
         == cn_key, timeout=WAIT)  # fmt: skip
    amber = _file(us, _report("us-2026-0100", SECRET_AMBER, critical_infrastructure=True), "TLP:AMBER", ["cn"])
    assert amber.status_code == 201, amber.text
    assert amber.json()["early_warning"] is not None  # sealed like its report, to cn
    red = _file(us, _report("us-2026-0101", SECRET_RED), "TLP:RED", ["cn"])
    assert red.status_code == 201, red.text
    update = _file(us, _report("us-2026-0100", SECRET_AMBER + " (update)", stage="update"), "TLP:AMBER", ["cn"])
    assert update.status_code == 201, update.text  # us reads back its own sealed report (its key was published)
    own = us.api("GET", "/api/v1/incidents", params={"q": "Kestrel"}).json()
    assert [(h["incident_id"], h["tlp"]) for h in own["hits"]] == [("us-2026-0100", "TLP:AMBER")]

    twin = _file(us, _report("us-2026-0102", TWIN), "TLP:CLEAR", [])  # open, for the duplicate suggestions
    assert twin.status_code == 201, twin.text
    size = us.status()["size"]
    wait("cn mirrors us", lambda: _mirrored(cn, "us") >= size, timeout=WAIT)
    wait("eu mirrors us", lambda: _mirrored(eu, "us") >= size, timeout=WAIT)
    viewer, officer = _token(cn, "viewer"), _token(cn, "officer")

    # At cn: TLP:AMBER for every role, TLP:RED for officers only.
    seen = cn.api("GET", "/api/v1/incidents", token=viewer).json()
    assert [(h["incident_id"], h.get("tlp")) for h in seen["hits"]] == [("us-2026-0100", "TLP:AMBER"),
                                                                          ("us-2026-0102", None)], seen  # fmt: skip
    assert seen["total"] == 2 and seen["hits"][0]["sealed_to"] == [cn.origin]  # the frame: to whom
    both = cn.api("GET", "/api/v1/incidents", token=officer).json()
    assert {(h["incident_id"], h.get("tlp")) for h in both["hits"]} == {("us-2026-0100", "TLP:AMBER"),
                                                                        ("us-2026-0101", "TLP:RED"),
                                                                        ("us-2026-0102", None)}  # fmt: skip
    assert both["hits"][0]["tlp"] == "TLP:RED"  # the strictest first
    key = {"origin": us.origin, "id": "us-2026-0101"}
    assert cn.api("GET", "/api/v1/incident", params=key, token=viewer).status_code == 404
    shown = cn.api("GET", "/api/v1/incident", params=key, token=officer)
    assert shown.status_code == 200 and shown.json()["tlp"] == "TLP:RED"
    assert shown.json()["report"]["description"]["original"]["text"] == SECRET_RED
    stages = cn.api("GET", "/api/v1/incident", params=key | {"id": "us-2026-0100"}, token=viewer).json()["stages"]
    assert [s["report"].get("stage", "initial") for s in stages] == ["initial", "update"]
    group = cn.api("GET", "/api/v1/working-group", token=viewer).json()
    assert set(group["sealed"]) == {"TLP:AMBER"} and group["sealed"]["TLP:AMBER"]["total"] == 1
    assert set(cn.api("GET", "/api/v1/working-group", token=officer).json()["sealed"]) == {"TLP:AMBER", "TLP:RED"}
    bundle = cn.api("GET", "/api/v1/incidents/stix", token=viewer).content
    assert SECRET_AMBER.encode() in bundle and SECRET_RED.encode() not in bundle
    assert b"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" in bundle  # TLP:AMBER (TLP 2.0)
    assert SECRET_RED.encode() in cn.api("GET", "/api/v1/incidents/stix", token=officer).content
    assert shown.json()["sealed_to"] == [cn.origin]

    # At cn, a recipient, the sealed incidents are compared, classified, linked and commented on over
    # their opened bodies; what cn says of them is sealed like them, to their readers.
    sealed_key = {"origin": us.origin, "id": "us-2026-0100"}
    similar = cn.api("GET", "/api/v1/incident/similar", params=sealed_key, token=viewer)
    assert similar.status_code == 200, similar.text
    assert "us-2026-0102" in [s["incident_id"] for s in similar.json()]  # the open twin
    assert b"TLP:RED" not in similar.content and SECRET_RED.encode() not in similar.content  # not a viewer's
    red_similar = cn.api("GET", "/api/v1/incident/similar", params=key, token=viewer)
    assert red_similar.status_code == 404 and red_similar.json()["detail"].startswith("no incident")
    assert cn.api("GET", "/api/v1/incident/similar", params=key, token=officer).status_code == 200
    classification = {"incident": {"origin": "us", "id": "us-2026-0100"}, "namespace": "OECD",
                      "taxonomy_version": "2024.05", "attributes": {"geographic_scale": CLASSIFIED_SCALE}}  # fmt: skip
    classified = cn.api("POST", "/api/v1/incident/classifications", json=classification)
    assert classified.status_code == 201, classified.text
    assert classified.json()["tlp"] == "TLP:AMBER" and classified.json()["sealed_to"] == [us.origin]
    linked = cn.api("POST", "/api/v1/incident/links", json={"source": sealed_key, "target": {"origin": us.origin,
                    "id": "us-2026-0102"}, "relation": "related-to"})  # fmt: skip
    assert linked.status_code == 201 and linked.json()["tlp"] == "TLP:AMBER", linked.text
    red_link = cn.api("POST", "/api/v1/incident/links", json={"source": sealed_key, "target": key,
                      "relation": "related-to"})  # fmt: skip
    assert red_link.status_code == 201 and red_link.json()["tlp"] == "TLP:RED", red_link.text  # the strictest
    after = cn.api("GET", "/api/v1/incident", params=sealed_key, token=viewer).json()
    assert [c["attributes"]["geographic_scale"] for c in after["classifications"]] == [CLASSIFIED_SCALE]
    assert [(lk["target"]["id"], lk["relation"]) for lk in after["links"]] == [("us-2026-0102", "related-to")]
    logged = cn.api("GET", "/api/v1/records", params={"start": classified.json()["index"], "limit": 1}).json()
    assert "sealed" in logged[0]["record"] and CLASSIFIED_SCALE not in json.dumps(logged)  # never in the open
    twin_page = cn.api("GET", "/api/v1/incident", params={"origin": us.origin, "id": "us-2026-0102"}).json()
    assert twin_page["links"] == []  # the open twin's page tells nobody of the sealed link
    cn_size = cn.status()["size"]
    wait("us mirrors cn", lambda: _mirrored(us, "cn") >= cn_size, timeout=WAIT)
    wait("eu mirrors cn", lambda: _mirrored(eu, "cn") >= cn_size, timeout=WAIT)
    at_us = us.api("GET", "/api/v1/incident", params=sealed_key).json()  # us, the reporter, reads it too
    assert [c["attributes"]["geographic_scale"] for c in at_us["classifications"]] == [CLASSIFIED_SCALE]

    # The early warning is sealed to cn and reads there.
    warning = amber.json()["early_warning"]
    opened = cn.api("GET", f"/api/v1/records/{us.origin}/{warning['index']}/open", token=viewer)
    assert opened.status_code == 200 and opened.json()["body"]["topic"] == "critical-infrastructure-early-warning"

    # eu mirrors both logs and reads nothing of it, whatever it asks.
    assert [h["incident_id"] for h in eu.api("GET", "/api/v1/incidents").json()["hits"]] == ["us-2026-0102"]
    for method, path, body in (("GET", "/api/v1/incident/similar", None),
                               ("POST", "/api/v1/incident/classifications", classification),
                               ("POST", "/api/v1/incident/links", {"source": sealed_key, "target": key,
                                                                   "relation": "related-to"})):  # fmt: skip
        kw: dict[str, Any] = {"params": sealed_key} if body is None else {"json": body}
        there = eu.api(method, path, **kw)
        problem = there.json()
        assert there.status_code == 404 and there.headers["content-type"] == "application/problem+json", there.text
        assert "incident record(s) to other parties" in problem["detail"] and "recipient" in problem["hint"]
    extra = [f"/api/v1/records?origin={us.origin}&limit=1000", f"/api/v1/reports/quarterly/{_quarter()}",
             f"/api/v1/reports/quarterly/{_quarter()}.html", "/api/v1/incidents?q=Kestrel"]  # fmt: skip
    answers = _answers(eu, eu.token, extra)
    assert not _leaks(answers, SECRET_AMBER) and not _leaks(answers, SECRET_RED)

    # The property: for any content, no GET answer to a non-recipient or a viewer of a RED record
    # holds it. Each example sends a TLP:RED hotline message and a TLP:AMBER incident to cn.
    us_viewer, counter = _token(us, "viewer"), iter(range(200, 1000))
    words = st.text(st.characters(categories=("L", "N")), min_size=4, max_size=12)

    @settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(red_words=st.lists(words, min_size=2, max_size=5), amber_words=st.lists(words, min_size=2, max_size=5))
    def nothing_leaks(red_words: list[str], amber_words: list[str]) -> None:
        red_secret, amber_secret = "zqr " + " ".join(red_words), "zqa " + " ".join(amber_words)
        message = {"type": HOTLINE, "to": [cn.origin], "tlp": "TLP:RED",
                   "body": {"priority": "routine", "topic": "urgent-concern", "sector": red_secret[:128]},
                   "text": {"original": {"lang": "en", "text": red_secret}}}  # fmt: skip
        sent = us.api("POST", "/api/v1/records", json=message | {"force_lang": True})
        assert sent.status_code == 201, sent.text
        incident_id = f"us-2026-{next(counter):04d}"
        filed = _file(us, _report(incident_id, amber_secret), "TLP:AMBER", ["cn"])
        assert filed.status_code == 201, filed.text
        end = us.status()["size"]
        wait("cn and eu mirror us", lambda: _mirrored(cn, "us") >= end and _mirrored(eu, "us") >= end, timeout=WAIT)
        at = [f"/api/v1/records?origin={us.origin}&limit=1000", f"/api/v1/records/{us.origin}/{sent.json()['index']}/open",
              f"/api/v1/incident?origin={us.origin}&id={incident_id}", f"/api/v1/reports/quarterly/{_quarter()}"]  # fmt: skip
        outsider = _answers(eu, eu.token, at)
        assert not _leaks(outsider, red_secret) and not _leaks(outsider, amber_secret)
        assert not _leaks(_answers(cn, viewer, at), red_secret)
        assert not _leaks(_answers(us, us_viewer, at), red_secret)
        assert any(red_secret.encode() in raw for _, raw in _answers(cn, officer, at[1:2]))  # the check can fail

    nothing_leaks()
