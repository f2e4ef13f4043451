"""Every time in a record body carries a time zone and is kept as UTC (``detente.records.body.UtcTime``):
a naive time is an instant that parties in different zones read differently, and it compares with
no aware time (an incident's clocks then failed on every read). It is refused before signing, and a
peer's record carrying one fails validation, so the node quarantines it instead of reading it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from detente.errors import MalformedRecord
from detente.incidents.model import INCIDENT, IncidentReport
from detente.records.catalogue import CATALOGUE, json_schemas, validate_record
from detente.records.fields import _deref
from detente.records.record import Record

CN = "cn.detente.example/log"
NAIVE = "2026-11-02T00:00:00"
TEXT = {"original": {"lang": "en", "text": "model outage at a hospital"}}
REPORT: dict[str, Any] = {
    "incident_id": "cn-2026-0001",
    "category": "ai-incident",
    "title": TEXT,
    "description": TEXT,
    "ai_relation": "the triage model failed",
    "submitter": "cert",
    "supporting_materials": ["https://example.org/a"],
    "severity": "high",
    "harm_types": ["health"],
}


def _time_paths(schema: dict[str, Any], node: dict[str, Any], path: tuple[int | str, ...] = ()) -> list[tuple]:
    """The path of every date-time field in a body schema (into the first item of a list)."""
    node = _deref(schema, node)
    if node.get("format") == "date-time":
        return [path]
    if len(path) > 6:
        return []
    found: list[tuple] = []
    for name, sub in node.get("properties", {}).items():
        found += _time_paths(schema, sub, (*path, name))
    if isinstance(node.get("items"), dict):
        found += _time_paths(schema, node["items"], (*path, 0))
    return found


def _nested(path: tuple, value: object) -> object:
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return value


TIMES = [(t, p) for t, schema in json_schemas().items() for p in _time_paths(schema, schema)]


def test_the_catalogue_has_times_to_check() -> None:
    named = {(t.split("/")[1], p[-1]) for t, p in TIMES}
    assert {("incident-report", "aware_at"), ("commitment-withdrawal", "effective")} <= named
    assert {("periodic-exchange", "valid_as_of"), ("consultation-meeting-request", "proposed_start")} <= named


@pytest.mark.parametrize(
    ("record_type", "path"), TIMES, ids=[f"{t.split('/')[1]}:{'.'.join(map(str, p))}" for t, p in TIMES]
)
def test_every_body_time_must_carry_a_time_zone(record_type: str, path: tuple) -> None:
    with pytest.raises(ValidationError) as caught:
        CATALOGUE[record_type].body.model_validate(_nested(path, NAIVE))
    assert any(e["loc"] == path and e["type"] == "timezone_aware" for e in caught.value.errors()), caught.value


def test_a_body_time_is_kept_as_utc() -> None:
    report = IncidentReport.model_validate(REPORT | {"aware_at": "2026-11-02T08:00:00+08:00"})
    assert report.aware_at == datetime(2026, 11, 2, tzinfo=UTC) and report.aware_at.tzinfo is UTC
    assert report.model_dump(mode="json")["aware_at"] == "2026-11-02T00:00:00Z"
    with pytest.raises(ValidationError, match="out of range once converted to UTC"):
        IncidentReport.model_validate(REPORT | {"occurred_at": "0001-01-01T00:00:00+01:00"})


def test_mixing_an_aware_and_a_naive_time_is_a_validation_error_not_a_type_error() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        IncidentReport.model_validate(REPORT | {"occurred_at": "2026-11-01T00:00:00Z", "aware_at": NAIVE})


def test_a_peers_record_with_a_naive_time_fails_validation() -> None:
    """What the node's index and every desk run on a mirrored record: it is quarantined, never read."""
    record = Record(
        type=INCIDENT, party=CN, issued=datetime(2026, 12, 1, tzinfo=UTC), body=REPORT | {"aware_at": NAIVE}
    )
    with pytest.raises(MalformedRecord, match="aware_at") as caught:
        validate_record(record)
    assert caught.value.hint and "detente catalogue incident-report" in caught.value.hint
