"""The quarterly report counts sealed exchanges and reveals nothing of them (issue #24), and covers
every pair of parties (issue #25)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from detente.crypto.sealing import EncryptionKey
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import Logged
from detente.records.record import TLP, Record
from detente.records.sealing import seal_record_content
from detente.records.text import BilingualText, LangText
from detente.report.quarter import quarterly_figures

US, CN = "us.example/log", "cn.example/log"
SECRET = "pump station 4 controller compromised"


def test_sealed_records_are_counted_never_shown() -> None:
    key = EncryptionKey.generate()
    plain = Record(
        type="detente.dev/hotline-message/v1",
        party=US,
        issued=datetime(2026, 11, 3, tzinfo=UTC),
        to=(CN,),
        tlp=TLP.RED,
        body={"priority": "immediate", "topic": "critical-infrastructure-early-warning", "sector": "water"},
        text=BilingualText(original=LangText(lang="en", text=SECRET)),
    )
    sealed = seal_record_content(plain, {CN: (key.key_id, key.public_bytes())})
    clear = plain.model_copy(update={"tlp": TLP.CLEAR, "text": None})
    records = [Logged(US, 0, "00" * 32, sealed), Logged(US, 1, "11" * 32, clear)]
    figures = quarterly_figures(
        records, default_agreement(US, CN), US, "2026Q4", verification={"logs": [], "alarms": []},
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    assert figures.sealed.total == 1
    assert figures.sealed.by_tlp == {"TLP:RED": 1} and figures.sealed.by_sender == {US: 1}
    assert figures.sealed.by_type == {"hotline-message": 1}
    assert SECRET not in json.dumps(figures.model_dump(mode="json"), ensure_ascii=False)


def test_responsiveness_between_every_pair_of_parties() -> None:
    """Issue #25: the report covers N parties: who answered whom in time, who is silent to whom."""
    import hashlib

    from detente.records.ref import RecordRef

    eu = "eu.example/log"
    t0 = datetime(2026, 11, 3, 12, tzinfo=UTC)
    test = Record(type="detente.dev/link-test/v1", party=US, issued=t0, to=(CN, eu))
    subject = Logged(US, 0, hashlib.sha256(b"0").hexdigest(), test)
    ref = RecordRef(origin=US, index=0, leaf_hash=subject.leaf_hash)
    receipt = Record(type="detente.dev/receipt/v1", party=CN, issued=t0, to=(US,), refs=(ref,),
                     body={"received_at": t0.isoformat()})  # fmt: skip
    ack = Record(type="detente.dev/acknowledgement/v1", party=CN, issued=t0, to=(US,), refs=(ref,))
    records = [subject, Logged(CN, 0, "aa" * 32, receipt), Logged(CN, 1, "bb" * 32, ack)]
    figures = quarterly_figures(
        records, default_agreement(US, CN, eu), US, "2026Q4", verification={"logs": [], "alarms": []},
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    pairs = {(p.sender, p.to): p for p in figures.pairs}
    assert (pairs[(US, CN)].received_in_time, pairs[(US, CN)].answered_in_time, pairs[(US, CN)].silent) == (1, 1, False)
    assert (pairs[(US, eu)].received_in_time, pairs[(US, eu)].missed, pairs[(US, eu)].silent) == (0, 2, True)
