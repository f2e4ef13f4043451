"""STIX 2.1 export and import, checked by OASIS's own validator against the official schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_instance

from detente.errors import MalformedJSON, MalformedRecord
from detente.incidents.importers import read_aiid
from detente.incidents.model import IncidentLink
from detente.incidents.stix import INCIDENT_CORE, TLP_MARKINGS, export_bundle, import_bundle
from detente.records.record import TLP

DATA = Path(__file__).resolve().parent.parent / "data"
US, CN = "us.example/log", "cn.example/log"
T = datetime(2026, 11, 1, tzinfo=UTC)
# Best practice 302 asks for a hash of every external URL's content; detente cannot fetch it.
STRICT = ValidationOptions(strict=True, disabled=["302"])


@pytest.fixture(scope="module")
def reports():  # type: ignore[no-untyped-def]
    return read_aiid(DATA / "aiid", US).incidents[:40]


def bundle_of(reports):  # type: ignore[no-untyped-def]
    incidents = [(US if i % 2 else CN, r, TLP.GREEN if i % 3 else TLP.CLEAR, T) for i, r in enumerate(reports)]
    links = [
        (CN, IncidentLink.model_validate({"source": {"origin": CN, "id": reports[0].incident_id},
                                          "target": {"origin": US, "id": reports[1].incident_id}, "relation": rel}), T)
        for rel in ("same-as", "duplicate-of", "related-to")
    ]  # fmt: skip
    return incidents, links, export_bundle(incidents, links, parties={US: "United States", CN: "China"})


def test_export_validates_strictly_and_round_trips(reports) -> None:  # type: ignore[no-untyped-def]
    incidents, links, bundle = bundle_of(reports)
    result = validate_instance(bundle, STRICT)
    assert result.is_valid, [str(e) for e in result.errors] + [str(w) for w in result.warnings]
    assert not result.warnings
    back = import_bundle(json.dumps(bundle), default_origin="other.example/log")
    assert [(o, r, t) for o, r, t, _ in incidents] == back.incidents
    assert [(a, link) for a, link, _ in links] == back.links and back.skipped == []
    inc = next(o for o in bundle["objects"] if o["type"] == "incident")
    assert inc["extensions"][INCIDENT_CORE]["determination"] in ("successful-attempt", "suspected")
    assert {o["id"] for o in bundle["objects"] if o["type"] == "marking-definition"} == {
        TLP_MARKINGS[TLP.CLEAR],
        TLP_MARKINGS[TLP.GREEN],
    }


def test_export_is_deterministic(reports) -> None:  # type: ignore[no-untyped-def]
    assert bundle_of(reports)[2] == bundle_of(reports)[2]


def test_foreign_incidents_and_unknown_objects(reports) -> None:  # type: ignore[no-untyped-def]
    _, _, bundle = bundle_of(reports[:2])
    foreign = {
        "type": "incident", "spec_version": "2.1", "id": "incident--2f5a1b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": "Phishing campaign used a voice clone", "description": "Reported by another tool.",
        "extensions": {INCIDENT_CORE: {"extension_type": "property-extension", "determination": "successful-attempt",
                                       "investigation_status": "closed", "criticality": 80}},
    }  # fmt: skip
    malware = {"type": "malware", "spec_version": "2.1", "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
               "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "x", "is_family": False}  # fmt: skip
    nameless = dict(foreign, id="incident--9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b", name="")
    bundle["objects"] += [foreign, malware, nameless]
    back = import_bundle(bundle, default_origin="other.example/log")
    mapped = next(r for o, r, _ in back.incidents if r.incident_id.startswith("stix-"))
    assert (
        mapped.severity == "critical"
        and mapped.stage == "final"
        and mapped.extra["severity_basis"].startswith("incident-core")
    )
    reasons = dict(back.skipped)
    assert "is not imported" in reasons[malware["id"]] and "without a name" in reasons[nameless["id"]]
    assert len(back.incidents) == 3


def test_not_a_bundle() -> None:
    with pytest.raises(MalformedJSON):
        import_bundle(b"{not json", default_origin=US)
    with pytest.raises(MalformedRecord, match=r"not a STIX 2\.1 bundle") as info:
        import_bundle({"type": "incident"}, default_origin=US)
    assert info.value.hint
