"""The quarterly report's content sections hold open records only (issue #24): a sealed incident
report or eval result is counted in the sealed section, never as an incident or result whose fields
read "None" (its body is sealed: the report sees its public frame only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from detente.crypto.sealing import EncryptionKey
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import Logged
from detente.records.record import TLP, Record
from detente.records.sealing import seal_record_content
from detente.report.quarter import quarterly_figures

US, CN = "us.example/log", "cn.example/log"
SECRET = "Reactor cooling model drifted at plant Kestrel-4"


def test_sealed_incidents_and_results_are_counted_as_sealed_only() -> None:
    key = {CN: (EncryptionKey.generate().key_id, EncryptionKey.generate().public_bytes())}
    issued = datetime(2026, 11, 3, tzinfo=UTC)
    report = {"incident_id": "us-2026-0100", "category": "ai-incident", "severity": "high",
              "title": {"original": {"lang": "en", "text": SECRET}}}  # fmt: skip
    incident = Record(type="detente.dev/incident-report/v1", party=US, issued=issued, to=(CN,), tlp=TLP.AMBER,
                      body=report)  # fmt: skip
    result = Record(type="detente.dev/eval-result/v1", party=US, issued=issued, to=(CN,), tlp=TLP.AMBER,
                    body={"envelope": {"payload": "e30="}, "sample_count": 3})  # fmt: skip
    records = [Logged(US, 0, "00" * 32, seal_record_content(incident, key)),
               Logged(US, 1, "11" * 32, seal_record_content(result, key))]  # fmt: skip
    figures = quarterly_figures(
        records, default_agreement(US, CN), US, "2026Q4", verification={"logs": [], "alarms": []},
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    assert figures.sealed.total == 2 and figures.sealed.by_type == {"incident-report": 1, "eval-result": 1}
    assert figures.incidents.reports == 0 and figures.incidents.items == []
    assert figures.incidents.by_severity == {} and figures.incidents.by_category == {}
    assert figures.evaluations.model_dump(mode="json") == quarterly_figures(
        [], default_agreement(US, CN), US, "2026Q4", verification={"logs": [], "alarms": []},
        now=datetime(2026, 12, 1, tzinfo=UTC),
    ).evaluations.model_dump(mode="json")  # fmt: skip
    dumped = json.dumps(figures.model_dump(mode="json"), ensure_ascii=False)
    assert SECRET not in dumped and "#None" not in dumped
