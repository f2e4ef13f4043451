"""The unexplained-incident notice, after the 1971 Accidents Measures Agreement, and the PRIORITY
level between IMMEDIATE and ROUTINE that an agreement may name."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from detente.errors import MalformedRecord
from detente.protocol.agreement import Agreement, default_agreement
from detente.protocol.threads import Logged, evaluate
from detente.records.catalogue import spec_for, validate_record
from detente.records.hotline import HotlineMessage
from detente.records.notices import UnexplainedIncidentNotification
from detente.records.record import Record

US, CN = "us.example/log", "cn.example/log"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
UNEXPLAINED = "detente.dev/unexplained-incident-notification/v1"
HOTLINE = "detente.dev/hotline-message/v1"
BODY: dict[str, object] = {
    "system": "coastal air-defence sensor fusion model, battery 4",
    "place": "grid square 41N 129E",
    "occurred_at": "2026-11-26T11:20:00Z",
    "deactivated": True,
    "actions_taken": "the model was taken offline and the battery put under manual control",
}


def logged(rtype: str, body: dict[str, object], to: tuple[str, ...] = (CN,), at: datetime = T0) -> Logged:
    rec = Record(type=rtype, party=US, issued=at, body=body, to=to)
    return Logged(US, 0, hashlib.sha256(rec.to_json()).hexdigest(), rec)


def response_due(item: Logged, agreement: Agreement) -> datetime:
    (thread,) = evaluate([item], agreement, T0, US).threads
    return next(o.due for o in thread.obligations if o.kind == "response")


def test_the_notice_says_the_system_the_place_the_time_whether_deactivated_and_what_was_done() -> None:
    """1971 Agreement on Measures to Reduce the Risk of Outbreak of Nuclear War, Art. 2 (signed and in
    force 30 September 1971): the parties "notify each other immediately in the event of an
    accidental, unauthorized or any other unexplained incident involving a possible detonation of a
    nuclear weapon"."""
    body = UnexplainedIncidentNotification.model_validate(BODY)
    assert body.deactivated is True and body.cross_border_effects is False
    assert UnexplainedIncidentNotification.model_validate(BODY | {"deactivated": None}).deactivated is None
    for field in ("system", "place", "occurred_at", "deactivated", "actions_taken"):
        with pytest.raises(ValidationError, match=field):
            UnexplainedIncidentNotification.model_validate({k: v for k, v in BODY.items() if k != field})


def test_it_is_catalogued_owes_an_acknowledgement_and_names_its_recipients() -> None:
    spec = spec_for(UNEXPLAINED)
    assert spec is not None and spec.response == "ack" and spec.addressed
    assert validate_record(logged(UNEXPLAINED, BODY).record) is not None
    with pytest.raises(MalformedRecord, match="must name its recipients"):
        validate_record(logged(UNEXPLAINED, BODY, to=()).record)


def test_it_is_answered_within_the_immediate_priority_window_by_default() -> None:
    """ "Immediately" (1971 Art. 2): acknowledged at immediate priority, the default agreement's
    hotline_response_by_priority["immediate"] (6 hours); an agreement may set its own window."""
    agreement = default_agreement(US, CN)
    assert agreement.response_within[UNEXPLAINED] == agreement.hotline_response_by_priority["immediate"]
    assert response_due(logged(UNEXPLAINED, BODY), agreement) == T0 + timedelta(hours=6)
    faster = Agreement.model_validate({"parties": [US, CN], "response_within": {UNEXPLAINED: 3600}})
    assert response_due(logged(UNEXPLAINED, BODY), faster) == T0 + timedelta(hours=1)


def test_a_priority_level_between_immediate_and_routine_runs_on_the_agreements_window() -> None:
    """The research notes' message header (cbm-protocols.md §7) has FLASH / IMMEDIATE / ROUTINE; an
    agreement may add PRIORITY between IMMEDIATE and ROUTINE. The schema accepts it; it is judged on
    the agreement's hotline_response_by_priority["priority"], and, where the agreement names none,
    on the hotline message's own window (48 h by default: as routine)."""
    message = {"priority": "priority", "topic": "urgent-concern"}
    assert HotlineMessage.model_validate(message).priority == "priority"
    with pytest.raises(ValidationError, match="priority"):
        HotlineMessage.model_validate(message | {"priority": "urgent"})
    named = Agreement.model_validate({"parties": [US, CN], "hotline_response_by_priority": {"priority": 24 * 3600}})
    assert response_due(logged(HOTLINE, message), named) == T0 + timedelta(hours=24)
    unnamed = default_agreement(US, CN)
    assert "priority" not in unnamed.hotline_response_by_priority
    assert response_due(logged(HOTLINE, message), unnamed) == T0 + timedelta(hours=48)
    immediate = response_due(logged(HOTLINE, message | {"priority": "immediate"}), named)
    routine = response_due(logged(HOTLINE, message | {"priority": "routine"}), named)
    assert immediate < T0 + timedelta(hours=24) < routine
