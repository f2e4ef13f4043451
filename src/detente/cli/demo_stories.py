"""The multilateral story of ``detente demo --parties N`` (N ≥ 3), one function a chapter. Each
reads its outcome back from the nodes' APIs and raises :class:`VerificationError` when it is
not what the story says; what it prints is what it read."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from detente.cli.demo import console
from detente.errors import VerificationError
from detente.node.localnet import LocalNode

__all__ = ["arrangement_flow", "hotline_flow", "incident_flow", "notice_flow", "quorum_flow"]

Wait = Callable[..., None]
_RETRY = {404, 409, 503}  # not synced yet, or a busy SQLite node: asked again


def _names(nodes: Sequence[LocalNode]) -> str:
    return ", ".join(n.name for n in nodes)


def _created(node: LocalNode, path: str, body: dict[str, Any], what: str, wait: Wait) -> dict[str, Any]:
    """POST until the node answers 201 (retrying while the record it names has not synced)."""
    answer: dict[str, Any] = {}

    def once() -> bool:
        resp = node.api("POST", path, json=body)
        if resp.status_code == 201:
            answer.update(resp.json())
            return True
        if resp.status_code not in _RETRY:
            raise VerificationError(f"{what}: {node.name} answered {resp.status_code}: {resp.text[:300]}")
        return False

    wait(what, once)
    return answer


def _states(sender: LocalNode, index: int) -> dict[str, str]:
    return dict(sender.thread(sender.origin, index).get("states") or {})


def pre_test_notice(sender: LocalNode, to: Sequence[str], test_id: str) -> dict[str, Any]:
    """The demo's pre-test notification (a test 72 h from now, a 6 h window), sent to ``to``."""
    start = datetime.now(UTC) + timedelta(days=3)
    return sender.send(
        "detente.dev/pre-test-notification/v1",
        "Pre-test notification: frontier model evaluation on cluster 7, 72 h from now, 6 h window.",
        translations={"zh-Hans": "测试前通知：72小时后在第7集群进行前沿模型评估，时间窗口6小时。"},
        to=list(to),
        body={
            "test_id": test_id,
            "category": "frontier-model-evaluation",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=6)).isoformat(),
            "location": "cluster-7 (us-east)",
            "compute_scale": "3e25 FLOP",
            "human_control_mode": "not-applicable",
            "contact": "AISI duty officer",
        },
    )


def hold(lines: Sequence[str]) -> None:
    """Print where to look next, then keep the nodes up until Ctrl-C or SIGTERM."""
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)  # never wrapped: copied whole
    console.print("nodes keep running; press Ctrl-C (or send SIGTERM) to stop them")
    while True:
        time.sleep(3600)


def stop_all(nodes: Sequence[LocalNode]) -> None:
    """Stop every node the demo started; a second SIGTERM does not cut the stopping short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for node in nodes:
        node.stop()


def notice_flow(parties: Sequence[LocalNode], wait: Wait) -> None:
    """A pre-test notification to every other party: an automatic receipt from each, an
    acknowledgement from each but the last, whose missing acknowledgement is reported."""
    console.rule("a notice to several parties")
    sender, to = parties[0], list(parties[1:])
    notice = pre_test_notice(sender, [p.origin for p in to], "US-2026-042")
    index = notice["index"]
    console.print(f"{sender.name} → {_names(to)}  pre-test notification #{index}")
    wait("every recipient's automatic receipt", lambda: _states(sender, index) == {p.origin: "received" for p in to})
    states = _states(sender, index)
    for p in to:
        console.print(f"         receipt from {p.name}: [bold]{states[p.origin]}[/] (automatic, in {p.name}'s log)")
    acking, silent = to[:-1], to[-1]
    for p in acking:
        _created(p, f"/api/v1/threads/{sender.origin}/{index}/ack", {"note": "noted"}, f"{p.name}'s ack", wait)
    want = {p.origin: "answered" for p in acking} | {silent.origin: "received"}
    wait("the acknowledgements", lambda: _states(sender, index) == want)
    states = _states(sender, index)
    for p in acking:
        console.print(f"         acknowledged by {p.name}: [bold]{states[p.origin]}[/]")
    console.print(
        f"         no acknowledgement from {silent.name} (on purpose): [bold yellow]{states[silent.origin]}[/], "
        "still pending"
    )


def hotline_flow(parties: Sequence[LocalNode], wait: Wait) -> None:
    """A FLASH hotline message from the second party to all the others, received by each."""
    console.rule("a hotline message to all")
    sender, to = parties[1], [p for p in parties if p is not parties[1]]
    flash = sender.send(
        "detente.dev/hotline-message/v1",
        "紧急：检测到针对电网调度系统的人工智能驱动攻击迹象。",
        lang="zh-Hans",
        translations={"en": "Urgent: signs of an AI-driven attack on grid dispatch systems."},
        to=[p.origin for p in to],
        body={"priority": "flash", "topic": "critical-infrastructure-early-warning", "sector": "energy"},
    )
    want = {p.origin: "received" for p in to}
    wait("every party's receipt of the flash message", lambda: _states(sender, flash["index"]) == want)
    console.print(
        f"{sender.name} → all  [bold red]FLASH[/] hotline message #{flash['index']}: "
        f"received by {_names(to)} ({len(to)} of {len(to)})"
    )


def _report(incident_id: str, lang: str, title: str, submitter: str, critical: bool) -> dict[str, Any]:
    at = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    return {
        "incident_id": incident_id,
        "category": "serious-ai-incident",
        "title": {"original": {"lang": lang, "text": title}},
        "description": {
            "original": {
                "lang": "en",
                "text": "A machine-learning load forecast fed automatic dispatch; in a cold snap it under-predicted "
                "demand by 18 % and operators shed load for 40 minutes.",
            }
        },
        "ai_relation": "the model's forecast drove automatic dispatch decisions",
        "submitter": submitter,
        "supporting_materials": ["https://example.org/grid/2026-11-20-outage"],
        "severity": "high",
        "harm_types": ["critical-infrastructure"],
        "critical_infrastructure": critical,
        "sectors": ["energy"],
        "occurred_at": at,
        "aware_at": at,
    }


def _filed(node: LocalNode, report: dict[str, Any]) -> dict[str, Any]:
    resp = node.api("POST", "/api/v1/incidents", json={"report": report})
    if resp.status_code != 201:
        raise VerificationError(f"{node.name} did not file {report['incident_id']}: {resp.text[:300]}")
    return dict(resp.json())


def incident_flow(parties: Sequence[LocalNode], wait: Wait) -> None:
    """An incident filed by the first party reaches every party; two others file their own reports
    of the same event and link them to it (same-as), and the first party confirms both links."""
    console.rule("an incident shared with all, linked by two")
    owner, linkers = parties[0], list(parties[1:3])
    report = _report(
        "us-2026-0008", "en", "Load-forecasting model under-predicted demand; grid shed load", "US grid desk", True
    )
    filed = _filed(owner, report)
    console.print(
        f"{owner.name}       incident {report['incident_id']} filed as #{filed['index']}; critical "
        f"infrastructure: early-warning hotline message #{filed['early_warning']['index']} to every peer"
    )
    key = {"origin": owner.origin, "id": report["incident_id"]}

    def known(p: LocalNode) -> bool:
        return p.api("GET", "/api/v1/incident", params=key).status_code == 200

    wait("the incident at every party", lambda: all(known(p) for p in parties[1:]))
    console.print(f"         found at {_names(parties[1:])} ({len(parties) - 1} of {len(parties) - 1})")
    links = []
    for p in linkers:
        own = _report(f"{p.name}-2026-0113", "en", f"Grid load shedding seen from {p.name}", f"{p.name} CERT", False)
        _filed(p, own)
        body = {"source": {"origin": p.origin, "id": own["incident_id"]}, "target": key, "relation": "same-as"}
        links.append((p, _created(p, "/api/v1/incident/links", body, f"{p.name}'s link", wait)))
    for p, link in links:
        confirm = {"origin": p.origin, "index": link["index"], "verdict": "confirm", "note": "same event"}
        _created(owner, "/api/v1/incident/links/confirm", confirm, f"{owner.name} to confirm {p.name}'s link", wait)
    want = sorted((p.origin, link["index"]) for p, link in links)

    def confirmed_at(p: LocalNode) -> bool:
        shown = p.api("GET", "/api/v1/incident", params=key).json()
        done = [
            (x["asserted_by"], x["index"])
            for x in shown.get("links", [])
            if any(c["by"] == owner.origin and c["verdict"] == "confirm" for c in x["confirmations"])
        ]
        return sorted(done) == want

    wait("both links, confirmed, at every party", lambda: all(confirmed_at(p) for p in parties))
    console.print(
        f"{_names(linkers)}  link their own reports to {report['incident_id']} (same-as); "
        f"{owner.name} [bold]confirmed[/] both, as every party's node shows; nothing merged or deleted"
    )


def _version(node: LocalNode, document_id: str) -> dict[str, Any]:
    resp = node.api("GET", "/api/v1/commitments/document", params={"document_id": document_id})
    if resp.status_code != 200:
        return {}
    return dict(resp.json()["versions"][0])


def quorum_flow(parties: Sequence[LocalNode], wait: Wait, *, k: int) -> None:
    """A statement open to all N parties with ``quorum: k`` in the document: not adopted after
    k−1 signatures, adopted at the k-th, at every party's node; it binds the signers only."""
    console.rule(f"a statement adopted when {k} of {len(parties)} co-sign")
    drafter, n = parties[0], len(parties)
    document = {
        "document_id": "forum-statement-human-control",
        "version": 1,
        "kind": "statement",
        "title": {"original": {"lang": "en", "text": "Human control over AI in nuclear command and control"}},
        "parties": [p.origin for p in parties],
        "quorum": k,
        "clauses": [
            {
                "id": "1",
                "text": {
                    "original": {
                        "lang": "en",
                        "text": "Decisions to employ nuclear weapons remain under human control.",
                    },
                    "translations": {"zh": "使用核武器的决定始终由人类控制。"},
                },
            }
        ],
    }
    drafted = _created(drafter, "/api/v1/commitments/draft", document, "the draft", wait)
    doc_id = drafted["document_id"]
    console.print(f"{drafter.name}       drafts {doc_id} for all {n} parties; its rule: {k} of {n}")
    sign = {"document_id": doc_id, "version": drafted["version"], "digest": drafted["digest"]}
    signers = list(parties[1 : k + 1])
    for i, p in enumerate(signers, 1):
        _created(p, "/api/v1/commitments/sign", sign, f"{p.name}'s signature", wait)
        wait(f"{p.name}'s signature at {drafter.name}", lambda i=i: len(_version(drafter, doc_id)["signed_by"]) == i)
        v = _version(drafter, doc_id)
        if i < k:
            if v["rule_met"] or v["adopted_at"]:
                raise VerificationError(f"{doc_id} adopted after {i} of the {k} signatures its quorum needs")
            state = "adopted" if v["rule_met"] else "not adopted"
            console.print(f"         {p.name} signs: {i} of {n} signed ({k} needed): [bold]{state}[/]")
    wait("the statement adopted at every party", lambda: all(_version(p, doc_id).get("rule_met") for p in parties))
    v = _version(drafter, doc_id)
    if sorted(v["bound"]) != sorted(p.origin for p in signers):
        raise VerificationError(f"{doc_id} binds {v['bound']}, not its {k} signers")
    console.print(
        f"         {signers[-1].name} signs: {k} of {len(parties)} signed: [bold green]adopted[/] "
        f"(rule {v['rule']} met at every node); binds {_names(signers)} only"
    )


def arrangement_flow(parties: Sequence[LocalNode], wait: Wait) -> None:
    """A mutual-recognition arrangement among a subset of the parties: in force once every member
    signed; a party outside it cannot sign it."""
    members = list(parties[: max(2, (len(parties) + 1) // 2)])
    outsider = parties[-1]
    console.rule(f"an arrangement among {len(members)} of {len(parties)}")
    proposer = members[0]
    supplier = {"supplier_id": "acme-fab", "name": "ACME Foundry", "country": "US", "effective": "2026-01-01"}
    _created(proposer, "/api/v1/exportctl/suppliers", supplier, "the supplier listing", wait)
    arrangement = {
        "arrangement_id": "mra-forum",
        "parties": [p.origin for p in members],
        "recognizes": {p.origin: [q.origin for q in members if q is not p] for p in members},
        "scope": {"original": {"lang": "en", "text": "Trusted suppliers"}, "translations": {"zh": "可信供应商"}},
        "effective": "2026-01-01",
    }
    digest = _created(proposer, "/api/v1/exportctl/recognitions", arrangement, "the arrangement", wait)["digest"]
    sign = {"arrangement_id": "mra-forum", "version": 1, "digest": digest}
    for p in members[1:]:
        _created(p, "/api/v1/exportctl/recognitions/sign", sign, f"{p.name}'s signature", wait)
    refused: list[httpx.Response] = []

    def outsider_answered() -> bool:
        resp = outsider.api("POST", "/api/v1/exportctl/recognitions/sign", json=sign)
        if resp.status_code in _RETRY:
            return False
        refused.append(resp)
        return True

    wait(f"{outsider.name}'s attempt to sign", outsider_answered)
    if refused[0].status_code != 422 or "not a party" not in refused[0].text:
        raise VerificationError(f"{outsider.name}, outside the arrangement, could sign it: {refused[0].text[:300]}")

    def recognizers() -> list[str]:
        rows = proposer.api("GET", "/api/v1/exportctl/recognized", params={"supplier_id": "acme-fab"}).json()
        return sorted(r["party"] for r in rows[0]["recognized_by"]) if rows else []

    others = sorted(p.origin for p in members[1:])
    wait("the arrangement in force", lambda: recognizers() == others)
    console.print(
        f"{_names(members)}  mra-forum co-signed by all {len(members)} members: in force; acme-fab (listed by "
        f"{proposer.name}) recognized by {_names(members[1:])}"
    )
    detail = refused[0].json().get("detail", "")
    console.print(f"{outsider.name:>7}  outside the arrangement: its signature [bold]refused[/] ({detail})")
