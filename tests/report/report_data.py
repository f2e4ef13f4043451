"""A hand-built busy quarter (2026Q4) between two parties, plus records just outside it.

US is the reporting party. Every record is a real :class:`Record` placed in a log by
:class:`Logs` (indices per origin; leaf hashes are the RFC 9162 hash of the record's JSON), and
every reply references its subject's exact leaf, as a node would. The expected figures are
counted by hand in the tests, not computed from this file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from detente.crypto.dsse import Ed25519DSSESigner, sign_envelope
from detente.crypto.intoto import Statement
from detente.crypto.keys import Ed25519Identity
from detente.exportctl.records import RecognitionArrangement, arrangement_digest
from detente.protocol.threads import Logged
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.records.text import BilingualText, LangText

US = "us.example/log"
CN = "cn.example/log"
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def text(original: str, lang: str, translation: str | None = None, to: str = "zh") -> BilingualText:
    return BilingualText(
        original=LangText(lang=lang, text=original), translations={to: translation} if translation else {}
    )


@dataclass
class Logs:
    records: list[Logged] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        origin: str,
        kind: str,
        issued: datetime,
        body: dict[str, Any] | None = None,
        *,
        to: tuple[str, ...] = (),
        refs: tuple[RecordRef, ...] = (),
        text: BilingualText | None = None,
    ) -> Logged:
        record = Record(
            type=f"detente.dev/{kind}/v1", party=origin, issued=issued, to=to, body=body or {}, refs=refs, text=text
        )
        index = self.sizes.get(origin, 0)
        self.sizes[origin] = index + 1
        leaf = hashlib.sha256(b"\x00" + record.to_json()).hexdigest()
        item = Logged(origin, index, leaf, record)
        self.records.append(item)
        return item

    def reply(
        self,
        origin: str,
        subject: Logged,
        kind: str,
        issued: datetime,
        body: dict[str, Any] | None = None,
        rel: str = "reply-to",
    ) -> Logged:
        ref = RecordRef(origin=subject.origin, index=subject.index, leaf_hash=subject.leaf_hash, rel=rel)
        return self.add(origin, kind, issued, body, to=(subject.origin,), refs=(ref,))

    def receipt(self, origin: str, subject: Logged, after: timedelta) -> Logged:
        t = subject.record.issued + after
        return self.reply(origin, subject, "receipt", t, {"received_at": t.isoformat()}, "receipt-of")

    def ack(self, origin: str, subject: Logged, after: timedelta) -> Logged:
        return self.reply(
            origin, subject, "acknowledgement", subject.record.issued + after, {"note": "noted"}, "ack-of"
        )

    def missed(self, origin: str, subject: Logged, party: str, deadline: str, due: datetime) -> Logged:
        others = tuple(sorted({subject.origin, *subject.record.to} - {origin}))
        ref = RecordRef(origin=subject.origin, index=subject.index, leaf_hash=subject.leaf_hash, rel="missed")
        body = {"deadline": deadline, "party": party, "due": due.isoformat()}
        return self.add(origin, "deadline-missed", due + MIN, body, to=others, refs=(ref,))


def withheld_quarter() -> Logs:
    """Withheld notifications of 2026 (the default quota: 2 a year). US: one in Q3, two in Q4 (its
    third of the year is over the quota, and says so), one early in 2027 (a new year). CN: one
    in Q4, addressed to US."""
    g = Logs()
    for issued, over in (("2026-08-01T00:00", False), ("2026-10-05T00:00", False), ("2026-12-01T00:00", True)):
        body = {"category": "frontier-model-evaluation", "reason_class": "national-security", "occurred": issued}
        g.add(US, "withheld-notification", at(issued), body | ({"over_quota": True} if over else {}))
    body = {"category": "ai-enabled-weapon-test", "reason_class": "operational-security", "occurred": "2026-11-01"}
    g.add(CN, "withheld-notification", at("2026-11-02T00:00"), body, to=(US,))
    g.add(US, "withheld-notification", at("2027-01-02T00:00"), body)
    return g


def pre_test(test_id: str, start: datetime) -> dict[str, Any]:
    return {
        "test_id": test_id,
        "category": "frontier-model-evaluation",
        "window_start": (start + 3 * DAY).isoformat(),
        "window_end": (start + 4 * DAY).isoformat(),
        "location": "cluster-7",
        "human_control_mode": "not-applicable",
        "contact": "duty@us.example",
    }


def incident(
    incident_id: str,
    stage: str,
    category: str,
    severity: str,
    harms: list[str],
    sectors: list[str],
    title: BilingualText,
    injuries: int = 0,
) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "stage": stage,
        "category": category,
        "title": title.model_dump(mode="json"),
        "description": title.model_dump(mode="json"),
        "ai_relation": "the model's output caused it",
        "submitter": "duty office",
        "supporting_materials": ["sha256:" + "0" * 64],
        "severity": severity,
        "harm_types": harms,
        "sectors": sectors,
        "injuries": injuries,
    }


def eval_result(identity: Ed25519Identity, suite: str, model: str, passed: bool, prereg: bool) -> dict[str, Any]:
    predicate: dict[str, Any] = {
        "suite": {"name": suite, "version": "1.0", "digest": {"sha256": "1" * 64}, "manifest": {}},
        "model": {"name": model, "digest": {"sha256": "2" * 64}},
        "passed": passed,
        "sampleSize": 200,
    }
    if prereg:
        predicate["preregistration"] = {"origin": US, "index": 0}
    statement = Statement.model_validate(
        {
            "subject": [{"name": model, "digest": {"sha256": "2" * 64}}],
            "predicateType": "https://detente.dev/eval-result/v1",
            "predicate": predicate,
        }
    )
    env = sign_envelope("application/vnd.in-toto+json", statement.to_json(), [Ed25519DSSESigner(identity)])
    return {"envelope": env.to_dict(), "sample_count": 200}


def build_busy() -> Logs:
    g = Logs()
    us_key, cn_key = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)

    # --- before the quarter: a notice and its replies (all excluded) ---
    a1 = g.add(US, "pre-test-notification", at("2026-09-20T09:00"), pre_test("old", at("2026-09-20T09:00")), to=(CN,))
    g.receipt(CN, a1, 2 * MIN)
    g.ack(CN, a1, HOUR)
    g.add(
        US,
        "incident-report",
        at("2026-09-30T23:59:59"),
        incident("inc-0", "initial", "ai-incident", "low", ["society"], ["media"], text("Old", "en")),
    )

    # --- notices ---
    n1 = g.add(US, "pre-test-notification", at("2026-10-05T09:00"), pre_test("t-1", at("2026-10-05T09:00")), to=(CN,))
    g.receipt(CN, n1, 5 * MIN)  # 300 s, in time
    g.ack(CN, n1, 2 * HOUR)  # 7200 s, in time (24 h)
    n3 = g.add(
        CN,
        "policy-development-notification",
        at("2026-10-20T12:00"),
        {"document_title": "Measures", "issuing_body": "CAC", "publication_date": "2026-10-19T00:00:00Z"},
        to=(US,),
    )
    g.receipt(US, n3, MIN)  # 60 s
    n2 = g.add(US, "pre-test-notification", at("2026-11-02T10:00"), pre_test("t-2", at("2026-11-02T10:00")), to=(CN,))
    g.missed(US, n2, CN, "receipt", at("2026-11-02T10:15"))
    g.receipt(CN, n2, 20 * MIN)  # 1200 s: late
    g.missed(US, n2, CN, "response", at("2026-11-03T10:00"))  # never acknowledged
    esc = RecordRef(origin=US, index=n2.index, leaf_hash=n2.leaf_hash, rel="escalation-of")
    g.add(
        US,
        "escalation",
        at("2026-11-03T10:02"),
        {"step": 1, "action": "resend", "outcome": "resent"},
        to=(CN,),
        refs=(esc,),
    )

    # --- hotline ---
    h1 = g.add(
        US,
        "hotline-message",
        at("2026-10-10T08:00"),
        {"priority": "flash", "topic": "urgent-concern", "code": "ALPHA-1"},
        to=(CN,),
        text=text("Unexpected launch detected", "en", "检测到意外发射"),
    )
    g.receipt(CN, h1, 2 * MIN)  # 120 s
    g.ack(CN, h1, 30 * MIN)  # 1800 s, in time (1 h)
    h2 = g.add(
        CN,
        "hotline-message",
        at("2026-11-15T14:00"),
        {"priority": "immediate", "topic": "critical-infrastructure-early-warning", "sector": "energy"},
        to=(US,),
        text=text("电网异常", "zh", "Grid anomaly", to="en"),
    )
    g.receipt(US, h2, MIN)  # 60 s
    g.ack(US, h2, 8 * HOUR)  # 28800 s: late (6 h)
    g.missed(CN, h2, US, "response", at("2026-11-15T20:00"))
    h3 = g.add(US, "hotline-message", at("2026-12-01T09:00"), {"priority": "routine", "topic": "crisis"}, to=(CN,))
    g.receipt(CN, h3, 3 * MIN)  # 180 s
    g.ack(CN, h3, DAY)  # 86400 s, in time (48 h)
    h4 = g.add(
        US,
        "hotline-message",
        at("2026-12-10T10:00"),
        {"priority": "immediate", "topic": "inadvertent-export-control-violation"},
        to=(CN,),
        text=text("Two boards shipped without a licence", "en", "两块板卡未经许可出口"),
    )
    g.receipt(CN, h4, 4 * MIN)  # 240 s
    g.ack(CN, h4, HOUR)  # 3600 s, in time (6 h)
    narrative = {
        "discovered_at": "2026-12-09T00:00:00Z",
        "items": ["3A090.a"],
        "account": text("What happened", "en").model_dump(mode="json"),
        "corrective_actions": text("Training", "en").model_dump(mode="json"),
    }
    ref = RecordRef(origin=US, index=h4.index, leaf_hash=h4.leaf_hash, rel="narrative-of")
    v1 = g.add(US, "violation-narrative", at("2026-12-20T10:00"), narrative, to=(CN,), refs=(ref,))  # 864000 s
    g.receipt(CN, v1, 5 * MIN)

    # --- takedowns ---
    def takedown(origin: str, to: str, issued: str, category: str) -> Logged:
        body = {
            "content_sha256": "a" * 64,
            "url": "https://v.example/1",
            "platform": "V",
            "category": category,
            "legal_basis": "rule 1",
        }
        return g.add(origin, "takedown-request", at(issued), body, to=(to,))

    t1 = takedown(US, CN, "2026-10-25T10:00", "deepfake-impersonation")
    g.receipt(CN, t1, 5 * MIN)
    g.reply(CN, t1, "takedown-response", at("2026-10-25T13:00"), {"action": "acted", "measures": ["removed"]})
    t2 = takedown(US, CN, "2026-12-28T10:00", "fraud")
    g.receipt(CN, t2, 5 * MIN)
    g.reply(CN, t2, "takedown-response", at("2026-12-30T10:00"), {"action": "declined", "reason": "lawful"})
    t3 = takedown(CN, US, "2026-12-31T20:00", "election-disinformation")
    g.receipt(US, t3, 5 * MIN)

    # --- incidents ---
    g.add(
        US,
        "incident-report",
        at("2026-10-12T10:00"),
        incident(
            "inc-1",
            "initial",
            "ai-incident",
            "medium",
            ["health"],
            ["healthcare"],
            text("Triage model misranked patients", "en", "分诊模型错误排序患者"),
        ),
    )
    g.add(
        US,
        "incident-report",
        at("2026-10-20T10:00"),
        incident(
            "inc-1",
            "update",
            "ai-incident",
            "high",
            ["health", "human-rights"],
            ["healthcare"],
            text("Triage model misranked patients", "en", "分诊模型错误排序患者"),
        ),
    )
    g.add(
        CN,
        "incident-report",
        at("2026-11-05T10:00"),
        incident(
            "cn-7",
            "initial",
            "serious-ai-incident",
            "critical",
            ["critical-infrastructure"],
            ["energy", "transport"],
            text("调度系统故障", "zh", "Dispatch failure", to="en"),
            injuries=3,
        ),
    )
    g.add(
        CN,
        "incident-report",
        at("2026-12-02T10:00"),
        incident("cn-8", "initial", "ai-hazard", "low", ["society"], [], text("深度伪造风险", "zh")),
    )
    g.add(
        US,
        "incident-classification",
        at("2026-11-06T10:00"),
        {
            "incident": {"origin": CN, "id": "cn-7"},
            "namespace": "OECD",
            "taxonomy_version": "1",
            "attributes": {"harm": "critical-infrastructure"},
        },
    )
    g.add(
        US,
        "incident-comment",
        at("2026-11-07T10:00"),
        {"incident": {"origin": CN, "id": "cn-7"}, "comment": text("Seen", "en").model_dump(mode="json")},
    )

    # --- evaluations ---
    g.add(CN, "eval-result", at("2026-11-20T10:00"), eval_result(cn_key, "cyber-uplift", "cn-model-x", True, False))
    g.add(
        US,
        "eval-recheck",
        at("2026-11-25T10:00"),
        {
            "suite_digest": "1" * 64,
            "positions": [1, 2],
            "matched": 2,
            "root_recomputed": True,
            "local_model": {"name": "cn-model-x"},
            "verdict": "consistent",
        },
    )
    g.add(US, "eval-result", at("2026-12-05T10:00"), eval_result(us_key, "cyber-uplift", "us-model-y", False, True))
    g.add(US, "eval-result", at("2026-12-06T10:00"), {"envelope": {"payload": "!!"}, "sample_count": 1})

    # --- label checks ---
    for origin, issued, verdicts in (
        (US, "2026-10-30T10:00", {"cn-aigc": "fail", "c2pa": "pass"}),
        (CN, "2026-11-30T10:00", {"cn-aigc": "pass", "c2pa": "not-applicable"}),
        (US, "2026-12-15T10:00", {"cn-aigc": "fail", "c2pa": "fail"}),
    ):
        g.add(origin, "label-check", at(issued), {"sha256": "b" * 64, "mime": "image/png", "verdicts": verdicts})

    # --- export controls: suppliers and recognition ---
    supplier = {"supplier_id": "acme-fab", "name": "ACME", "country": "US", "effective": "2026-10-01"}
    g.add(US, "trusted-supplier", at("2026-10-15T10:00"), supplier)
    g.add(
        CN,
        "trusted-supplier",
        at("2026-10-16T10:00"),
        {**supplier, "supplier_id": "hx-semi", "name": "华芯", "country": "CN"},
    )
    g.add(US, "trusted-supplier", at("2026-12-18T10:00"), {**supplier, "status": "delisted"})
    arrangement = RecognitionArrangement.model_validate(
        {
            "arrangement_id": "mra-1",
            "parties": [US, CN],
            "recognizes": {US: [CN], CN: [US]},
            "scope": text("3A090 suppliers", "en").model_dump(mode="json"),
            "effective": "2026-11-01",
        }
    )
    proposal = g.add(US, "supplier-recognition", at("2026-11-01T10:00"), arrangement.model_dump(mode="json"))
    sig = RecordRef(origin=US, index=proposal.index, leaf_hash=proposal.leaf_hash, rel="signs")
    g.add(
        CN,
        "supplier-recognition-signature",
        at("2026-11-03T10:00"),
        {"arrangement_id": "mra-1", "version": 1, "digest": arrangement_digest(arrangement)},
        refs=(sig,),
    )

    # --- after the quarter (all excluded) ---
    g.reply(US, t3, "takedown-response", at("2027-01-01T10:00"), {"action": "acted", "measures": ["labelled"]})
    g.add(CN, "hotline-message", at("2027-01-02T10:00"), {"priority": "flash", "topic": "crisis"}, to=(US,))
    g.add(
        US,
        "incident-report",
        at("2027-01-01T00:00"),
        incident("inc-1", "final", "ai-incident", "critical", ["health"], ["healthcare"], text("T", "en")),
    )
    return g


VERIFICATION = {
    "logs": [
        {
            "name": "us",
            "origin": US,
            "role": "own",
            "size": 61,
            "root": "ab" * 32,
            "cosigned_by": ["cn.example/witness"],
        },
        {
            "name": "cn",
            "origin": CN,
            "role": "peer",
            "size": 33,
            "root": "cd" * 32,
            "last_sync": 1798761600.0,
            "last_error": None,
            "witness_size": 61,
        },
    ],
    "alarms": [{"origin": CN, "kind": "equivocation", "detail": "two roots for size 12", "at": 1798761600}],
}
