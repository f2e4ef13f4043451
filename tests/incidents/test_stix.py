"""STIX 2.1 export and import (detente.incidents.stix), on hand-built reports: lossless round trip,
OASIS's validator run offline, TLP 2.0 markings, same-as, deterministic ids, foreign and broken input.

The validator runs with ``strict``, ``strict_types``, ``strict_properties`` and ``enforce_refs`` (a
relationship's ends are in the bundle) on and no check disabled (external references carry no URL
without a hash: supporting material's URLs travel in detente's extension); its ``interop`` profile
objects only to the official TLP 2.0 marking definitions, which STIX 2.1 fixes without the
``modified`` and ``created_by_ref`` the profile asks of every object, so ``interop_profile`` leaves
them out (test_stix_profiles.py runs both profiles). With no
``schema_dir`` it only uses the schemas bundled in the package (all ``$ref`` relative): it has no
schema for an extension-definition's contents, and fetches nothing. Given a ``schema_dir``, it
validates each ``extension-definition--<id>`` extension against ``<id>.json`` found there, so
detente's own extension is checked against the IncidentReport JSON Schema from a local file. Every
validator test blocks sockets and ``requests``, so a fetch attempt would fail the test.
"""

from __future__ import annotations

import copy
import json
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_instance

from detente.errors import MalformedError, MalformedJSON, MalformedRecord
from detente.incidents.model import IncidentLink, IncidentReport, Severity
from detente.incidents.stix import (
    DETENTE_EXTENSION,
    INCIDENT_CORE,
    TLP_EXTENSION,
    TLP_MARKINGS,
    export_bundle,
    import_bundle,
)
from detente.records.record import TLP

US, CN, OTHER = "us.example/log", "cn.example/log", "other.example/log"
PARTIES = {US: "United States", CN: "People's Republic of China"}
ISSUED = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
OPTIONS = {"strict": True, "strict_types": True, "strict_properties": True, "enforce_refs": True}
# Property names of the Incident Core 2.0 extension (its JSON schema has additionalProperties false).
INCIDENT_CORE_PROPERTIES = {
    "extension_type", "determination", "investigation_status", "criticality", "detection_methods", "events",
    "impact_refs", "impacted_entity_counts", "incident_types", "recoverability", "scores", "tasks",
}  # fmt: skip


def report(incident_id: str, **changes: Any) -> IncidentReport:
    body: dict[str, Any] = {
        "incident_id": incident_id,
        "category": "ai-incident",
        "title": {"original": {"lang": "en", "text": f"Grid balancing model tripped feeders ({incident_id})"}},
        "description": {"original": {"lang": "en", "text": "A load forecaster cut power to two districts."}},
        "ai_relation": "the forecaster's output drove the automatic load shedding",
        "submitter": "grid operator incident desk",
        "supporting_materials": ["https://example.org/reports/1", "sha256:" + "ab" * 32],
        "severity": "high",
        "harm_types": ["critical-infrastructure"],
    }
    body.update(changes)
    return IncidentReport.model_validate(body)


RICH = report(
    "us-2026-0001",
    stage="final",
    category="serious-ai-incident",
    title={
        "original": {"lang": "en", "text": "Grid balancing model tripped feeders"},
        "translations": {"zh-Hans": "电网平衡模型导致馈线跳闸"},
    },
    severity="critical",
    harm_types=["critical-infrastructure", "health"],
    occurred_at="2026-10-30T22:15:00Z",
    aware_at="2026-10-31T01:00:00.250Z",
    reported_at="2026-10-31T02:00:00Z",
    countries=["US"],
    ai_systems=[{"name": "LoadCast", "version": "4.2"}],
    developers=["LoadCast Inc."],
    deployers=["Example Grid"],
    harmed_parties=["residents of two districts"],
    sectors=["energy"],
    critical_infrastructure=True,
    injuries=3,
    jurisdictions=["US-CA"],
    reporter_type="cii-operator",
    handling_ended_at="2026-11-02T00:00:00Z",
    actions_taken="model rolled back; manual dispatch",
    source={"database": "AIID", "id": "9999", "url": "https://incidentdatabase.ai/cite/9999/"},
    extra={"note": "nested", "numbers": [1, 2.5], "flag": True},
)
HAZARD = report(
    "cn-2026-0002",
    category="ai-hazard",
    severity="low",
    title={
        "original": {"lang": "zh-Hans", "text": "调度模型可能误判负荷"},
        "translations": {"en": "Dispatch model may misjudge load"},
    },
    description={"original": {"lang": "zh-Hans", "text": "测试中发现的隐患。"}},
)
PLAIN = report("us-2026-0003", severity="medium", harm_types=["society"])


def link(source: tuple[str, str], target: tuple[str, str], relation: str, note: str = "") -> IncidentLink:
    return IncidentLink.model_validate(
        {
            "source": {"origin": source[0], "id": source[1]},
            "target": {"origin": target[0], "id": target[1]},
            "relation": relation,
            "note": note,
        }
    )


INCIDENTS = [(US, RICH, TLP.AMBER), (CN, HAZARD, TLP.CLEAR), (US, PLAIN, TLP.GREEN)]
LINKS = [
    (CN, link((CN, HAZARD.incident_id), (US, RICH.incident_id), "same-as", "the same feeder trip")),
    (US, link((US, PLAIN.incident_id), (US, RICH.incident_id), "duplicate-of")),
    (US, link((US, RICH.incident_id), (CN, HAZARD.incident_id), "related-to")),
]


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]


def the_incident(bundle: dict[str, Any], origin: str, incident_id: str) -> dict[str, Any]:
    (found,) = [
        o
        for o in by_type(bundle, "incident")
        if o["extensions"][DETENTE_EXTENSION]["origin"] == origin
        and o["extensions"][DETENTE_EXTENSION]["report"]["incident_id"] == incident_id
    ]
    return found


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr("stix2validator.validator.requests.get", refuse)


def validate(bundle: dict[str, Any], **extra: Any) -> list[str]:
    result = validate_instance(copy.deepcopy(bundle), ValidationOptions(**(OPTIONS | extra)))
    return [str(e) for e in result.errors] + [str(w) for w in result.warnings]


# --- round trip --------------------------------------------------------------------------------


def test_round_trip_is_lossless() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    back = import_bundle(json.dumps(bundle).encode(), default_origin=OTHER)
    assert back.skipped == []
    assert back.incidents == INCIDENTS
    assert back.links == LINKS
    # Equal, not merely similar: the rich report keeps its translations, times and extra.
    assert back.incidents[0][1].title.translations == {"zh-Hans": "电网平衡模型导致馈线跳闸"}
    assert back.incidents[0][1].aware_at == datetime(2026, 10, 31, 1, 0, 0, 250000, tzinfo=UTC)
    assert back.incidents[0][1].extra == {"note": "nested", "numbers": [1, 2.5], "flag": True}


def test_round_trip_with_issued_times_as_the_node_passes_them() -> None:
    later = datetime(2026, 11, 5, tzinfo=UTC)
    bundle = export_bundle(
        [(US, RICH, TLP.AMBER, ISSUED), (US, PLAIN, TLP.GREEN, ISSUED)],
        [(US, LINKS[1][1], later)],
        parties=PARTIES,
    )
    rich = the_incident(bundle, US, RICH.incident_id)
    plain = the_incident(bundle, US, PLAIN.incident_id)
    assert (rich["created"], rich["modified"]) == ("2026-10-31T02:00:00.000Z", "2026-11-03T08:30:00.000Z")
    assert (plain["created"], plain["modified"]) == ("2026-11-03T08:30:00.000Z", "2026-11-03T08:30:00.000Z")
    (rel,) = by_type(bundle, "relationship")
    assert rel["created"] == rel["modified"] == "2026-11-05T00:00:00.000Z"
    back = import_bundle(bundle, default_origin=OTHER)
    assert back.incidents == [(US, RICH, TLP.AMBER), (US, PLAIN, TLP.GREEN)]
    assert back.links == [LINKS[1]]


def test_times_without_issued_come_from_the_report() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    assert the_incident(bundle, US, RICH.incident_id)["created"] == "2026-10-31T02:00:00.000Z"  # reported_at
    # No report times at all: the fixed epoch of the bundle's fixed objects, so output stays deterministic.
    assert the_incident(bundle, CN, HAZARD.incident_id)["created"] == "2022-10-01T00:00:00.000Z"
    rels = {o["extensions"][DETENTE_EXTENSION]["relation"]: o for o in by_type(bundle, "relationship")}
    assert rels["same-as"]["created"] == "2026-10-31T02:00:00.000Z"  # the later of its two incidents


# --- the validator -----------------------------------------------------------------------------


@pytest.mark.usefixtures("offline")
def test_the_interop_profile_objects_only_to_the_official_tlp_objects() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    problems = validate(bundle, interop=True)
    markings = set(TLP_MARKINGS.values())
    assert problems and all(p.split(":", 1)[0] in markings for p in problems), problems
    assert {p.split(": ", 1)[1] for p in problems} == {
        "'modified' is a required property",
        "created_by_ref is not present in Object",
    }


@pytest.mark.usefixtures("offline")
def test_export_validates_strictly_offline() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    assert validate(bundle) == []
    # The same validator does catch what is wrong, so the clean result above means something.
    broken = copy.deepcopy(bundle)
    del the_incident(broken, US, RICH.incident_id)["created"]
    broken["objects"][-1]["id"] = "marking-definition--not-a-uuid"
    problems = validate(broken)
    assert any("'created' is a required property" in p for p in problems)
    assert any("not-a-uuid" in p for p in problems)
    # enforce_refs: a relationship's ends are in the bundle.
    dangling = copy.deepcopy(bundle)
    gone = the_incident(dangling, CN, HAZARD.incident_id)
    dangling["objects"].remove(gone)
    assert any(gone["id"] in p and "not found in current bundle" in p for p in validate(dangling))
    # enforce_refs looks at relationships only; every other reference resolves in the bundle too.
    ids = {o["id"] for o in bundle["objects"]}
    refs = {
        ref
        for o in bundle["objects"]
        for key, value in o.items()
        if key.endswith(("_ref", "_refs"))
        for ref in (value if isinstance(value, list) else [value])
    }
    assert refs and refs <= ids


@pytest.mark.usefixtures("offline")
def test_detente_extension_validates_against_the_report_schema(tmp_path: Path) -> None:
    schema = IncidentReport.model_json_schema()
    defs = schema.pop("$defs")
    ours = {
        "type": "object",
        "required": ["extension_type"],
        "additionalProperties": False,
        "properties": {
            "extension_type": {"const": "property-extension"},
            "origin": {"type": "string", "minLength": 1},
            "report": schema,
            "relation": {"enum": ["same-as", "duplicate-of", "related-to"]},
        },
    }
    (tmp_path / f"{DETENTE_EXTENSION}.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "detente-extension",
                "$defs": defs,
                "type": "object",
                "properties": {"extensions": {"type": "object", "properties": {DETENTE_EXTENSION: ours}}},
            }
        )
    )
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    assert validate(bundle, schema_dir=str(tmp_path)) == []
    broken = copy.deepcopy(bundle)
    the_incident(broken, US, RICH.incident_id)["extensions"][DETENTE_EXTENSION]["report"]["severity"] = "apocalyptic"
    assert any("apocalyptic" in p for p in validate(broken, schema_dir=str(tmp_path)))


# --- what the bundle says ----------------------------------------------------------------------


def test_identities_and_the_extension_definition() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    parties = {
        o["extensions"][DETENTE_EXTENSION]["origin"]: o for o in by_type(bundle, "identity") if o.get("extensions")
    }
    assert {o: p["name"] for o, p in parties.items()} == PARTIES
    assert {p["identity_class"] for p in parties.values()} == {"organization"}
    rich = the_incident(bundle, US, RICH.incident_id)
    assert rich["created_by_ref"] == parties[US]["id"]
    (definition,) = by_type(bundle, "extension-definition")
    assert definition["id"] == DETENTE_EXTENSION and definition["extension_types"] == ["property-extension"]
    assert definition["schema"].startswith("https://") and "incident report" in definition["description"]
    assert definition["created_by_ref"] in {o["id"] for o in by_type(bundle, "identity")}
    # Without display names, a party is named by its origin.
    (named,) = [o for o in by_type(export_bundle([INCIDENTS[1]]), "identity") if o.get("extensions")]
    assert named["name"] == CN


def test_incident_core_and_standard_fields() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    rich, hazard = the_incident(bundle, US, RICH.incident_id), the_incident(bundle, CN, HAZARD.incident_id)
    plain = the_incident(bundle, US, PLAIN.incident_id)
    for obj in (rich, hazard, plain):
        core = obj["extensions"][INCIDENT_CORE]
        assert set(core) <= INCIDENT_CORE_PROPERTIES
        assert {"extension_type", "determination", "investigation_status"} <= set(core)
        assert core["extension_type"] == "property-extension"
    assert [rich["extensions"][INCIDENT_CORE][k] for k in ("determination", "investigation_status", "criticality")] == [
        "successful-attempt",
        "closed",
        100,
    ]
    assert [
        hazard["extensions"][INCIDENT_CORE][k] for k in ("determination", "investigation_status", "criticality")
    ] == [
        "suspected",
        "open",
        25,
    ]
    assert plain["extensions"][INCIDENT_CORE]["criticality"] == 50
    # name, description and lang are the authoritative original, not a translation; lang is the primary
    # subtag, as the validator rejects zh-Hans (its list of tags is fixed) while zh is valid everywhere.
    assert (hazard["name"], hazard["lang"]) == ("调度模型可能误判负荷", "zh")
    assert hazard["description"] == "测试中发现的隐患。"
    assert (rich["name"], rich["lang"]) == ("Grid balancing model tripped feeders", "en")
    refs = rich["external_references"]
    assert {"source_name": "detente", "external_id": f"{US}#{RICH.incident_id}"} in refs
    # No URL without a hash of what it names (best practice 302): URLs travel in the report itself.
    assert not any("url" in r for r in refs)
    assert {"source_name": "AIID", "external_id": "9999"} in refs
    report = rich["extensions"][DETENTE_EXTENSION]["report"]
    assert "https://example.org/reports/1" in report["supporting_materials"]
    assert report["source"]["url"] == "https://incidentdatabase.ai/cite/9999/"


def test_same_as_travels_as_related_to_with_the_exact_relation() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    rels = {o["extensions"][DETENTE_EXTENSION]["relation"]: o for o in by_type(bundle, "relationship")}
    assert {r: o["relationship_type"] for r, o in rels.items()} == {
        "same-as": "related-to",
        "duplicate-of": "duplicate-of",
        "related-to": "related-to",
    }
    same = rels["same-as"]
    assert same["source_ref"] == the_incident(bundle, CN, HAZARD.incident_id)["id"]
    assert same["target_ref"] == the_incident(bundle, US, RICH.incident_id)["id"]
    assert same["description"] == "the same feeder trip"
    # A tool that drops the detente extension still has a true statement: related-to.
    for obj in bundle["objects"]:
        if obj["type"] == "relationship":
            del obj["extensions"]
    back = import_bundle(bundle, default_origin=OTHER)
    assert [(a, x.relation.value) for a, x in back.links] == [
        (CN, "related-to"),
        (US, "duplicate-of"),
        (US, "related-to"),
    ]


# --- TLP ---------------------------------------------------------------------------------------


def test_tlp_markings_round_trip_with_the_official_objects() -> None:
    incidents = [(US, report(f"us-tlp-{i}"), tlp) for i, tlp in enumerate(TLP)]
    bundle = export_bundle(incidents, [])
    markings = {o["id"]: o for o in by_type(bundle, "marking-definition")}
    assert set(markings) == set(TLP_MARKINGS.values())
    assert TLP_MARKINGS[TLP.AMBER_STRICT] == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    # As published in oasis-open/cti-stix-common-objects (tlp-2.0/examples/tlp-amber+strict.json).
    assert markings["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"] == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER+STRICT",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "amber+strict",
            }
        },
    }
    assert {m["extensions"][TLP_EXTENSION]["tlp_2_0"] for m in markings.values()} == {
        "clear",
        "green",
        "amber",
        "amber+strict",
        "red",
    }
    for origin, rep, tlp in incidents:
        assert the_incident(bundle, origin, rep.incident_id)["object_marking_refs"] == [TLP_MARKINGS[tlp]]
    assert [t for _, _, t in import_bundle(bundle, default_origin=OTHER).incidents] == list(TLP)


def test_only_used_markings_and_links_take_the_stricter_end() -> None:
    red = report("us-red", severity="low")
    incidents = [(US, red, TLP.RED), (CN, HAZARD, TLP.CLEAR)]
    bundle = export_bundle(incidents, [(CN, link((CN, HAZARD.incident_id), (US, red.incident_id), "same-as"))])
    assert {o["id"] for o in by_type(bundle, "marking-definition")} == {TLP_MARKINGS[TLP.RED], TLP_MARKINGS[TLP.CLEAR]}
    (rel,) = by_type(bundle, "relationship")
    assert rel["object_marking_refs"] == [TLP_MARKINGS[TLP.RED]]


def test_foreign_tlp_markings_are_read() -> None:
    tlp1_amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    own_green = "marking-definition--0f2c33a1-1c44-4d5c-8b8e-6d8e2f1b9a10"
    objects = [
        foreign_incident("incident--11111111-2222-4333-8444-555555555555", object_marking_refs=[tlp1_amber]),
        foreign_incident("incident--21111111-2222-4333-8444-555555555555", object_marking_refs=[own_green]),
        foreign_incident(
            "incident--31111111-2222-4333-8444-555555555555",
            object_marking_refs=[own_green, TLP_MARKINGS[TLP.RED], "marking-definition--unknown"],
        ),
        foreign_incident("incident--41111111-2222-4333-8444-555555555555"),
        {
            "type": "marking-definition", "spec_version": "2.1", "id": own_green, "created": "2020-01-01T00:00:00Z",
            "definition_type": "tlp", "definition": {"tlp": "green"},
        },
    ]  # fmt: skip
    back = import_bundle(
        {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objects}, default_origin=OTHER
    )
    assert [t for _, _, t in back.incidents] == [TLP.AMBER, TLP.GREEN, TLP.RED, TLP.CLEAR]


# --- identifiers -------------------------------------------------------------------------------


def test_ids_are_deterministic() -> None:
    first = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    again = export_bundle(list(INCIDENTS), list(LINKS), parties=dict(PARTIES))
    assert first == again
    ids = [o["id"] for o in first["objects"]] + [first["id"]]
    assert len(ids) == len(set(ids))
    for ident in ids:
        kind, _, value = ident.partition("--")
        if kind != "marking-definition":
            assert uuid.UUID(value).version == 4, ident
    # An incident's id depends on its key only, not on what else is exported or on its content.
    alone = export_bundle([(US, RICH.model_copy(update={"severity": Severity.LOW}), TLP.RED)], [])
    assert the_incident(alone, US, RICH.incident_id)["id"] == the_incident(first, US, RICH.incident_id)["id"]
    moved = export_bundle([(CN, RICH, TLP.AMBER)], [])
    assert the_incident(moved, CN, RICH.incident_id)["id"] != the_incident(first, US, RICH.incident_id)["id"]
    # The bundle's own id follows its content.
    assert alone["id"] != first["id"] and export_bundle(INCIDENTS[:2], LINKS[:1])["id"] != first["id"]
    # A link's id names who asserted which relation between which incidents.
    flipped = export_bundle(INCIDENTS, [(US, LINKS[0][1])], parties=PARTIES)
    assert by_type(flipped, "relationship")[0]["id"] != by_type(first, "relationship")[0]["id"]


# --- foreign and broken input ------------------------------------------------------------------


def foreign_incident(ident: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "incident",
        "spec_version": "2.1",
        "id": ident,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Voice clone used in a phishing call",
        **props,
    }


def test_foreign_incidents_map_with_stated_defaults() -> None:
    producer = {
        "type": "identity", "spec_version": "2.1", "id": "identity--5b5f5cb0-3d7e-4a0c-9a5e-8a7b6c5d4e3f",
        "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "CERT-Example",
        "identity_class": "organization",
    }  # fmt: skip
    full = foreign_incident(
        "incident--2f5a1b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        created_by_ref=producer["id"],
        description="Reported by another tool.",
        lang="fr",
        first_seen="2025-12-30T10:00:00Z",
        external_references=[{"source_name": "news", "url": "https://example.org/story"}, {"source_name": "x"}],
        extensions={
            INCIDENT_CORE: {
                "extension_type": "property-extension",
                "determination": "blocked",
                "investigation_status": "closed",
                "criticality": 80,
            }
        },
    )
    bare = foreign_incident("incident--9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b")
    bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": [producer, full, bare]}
    back = import_bundle(json.dumps(bundle), default_origin=OTHER)
    assert back.skipped == []
    (o1, mapped, tlp), (o2, minimal, _) = back.incidents
    assert (o1, o2, tlp) == (OTHER, OTHER, TLP.CLEAR)
    assert mapped.incident_id == "stix-2f5a1b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    assert (mapped.category, mapped.severity, mapped.stage) == ("ai-hazard", "critical", "final")
    assert (mapped.title.original.lang, mapped.description.original.text) == ("fr", "Reported by another tool.")
    assert mapped.submitter == "CERT-Example"
    assert mapped.supporting_materials == ["https://example.org/story"]
    assert mapped.occurred_at == datetime(2025, 12, 30, 10, tzinfo=UTC)
    assert mapped.source is not None and (mapped.source.database, mapped.source.id) == ("STIX", full["id"])
    assert mapped.extra["stix_defaulted"] == ["ai_relation", "harm_types"]
    assert mapped.extra["severity_basis"] == "incident-core criticality"
    assert minimal.extra["stix_defaulted"] == [
        "ai_relation", "category", "description", "harm_types", "lang", "severity", "submitter", "supporting_materials",
    ]  # fmt: skip
    assert (minimal.category, minimal.severity, minimal.stage) == ("ai-incident", "medium", "initial")
    assert minimal.supporting_materials == [bare["id"]] and minimal.title.original.lang == "en"
    # Importing the same bundle again names the same incidents (the node's import is idempotent by id).
    assert [r.incident_id for _, r, _ in import_bundle(bundle, default_origin=OTHER).incidents] == [
        mapped.incident_id,
        minimal.incident_id,
    ]


def test_unknown_and_malformed_objects_are_skipped_with_a_reason() -> None:
    bundle = export_bundle(INCIDENTS, LINKS, parties=PARTIES)
    rich_id = the_incident(bundle, US, RICH.incident_id)["id"]
    malware: dict[str, Any] = {
        "type": "malware", "spec_version": "2.1", "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "x", "is_family": False,
    }  # fmt: skip
    custom: dict[str, Any] = {
        "type": "x-ai-model", "spec_version": "2.1", "id": "x-ai-model--7d6e2c1a-0b9f-4e8d-a7c6-5b4a39281706",
    }  # fmt: skip
    bad_report = foreign_incident("incident--a1a1a1a1-b2b2-4c3c-8d4d-e5e5e5e5e5e5", extensions={
        DETENTE_EXTENSION: {"extension_type": "property-extension", "origin": US, "report": {"incident_id": "x"}},
    })  # fmt: skip
    list_extensions = foreign_incident("incident--b1b1b1b1-b2b2-4c3c-8d4d-e5e5e5e5e5e5", extensions=["oops"])
    nameless = foreign_incident("incident--c1c1c1c1-b2b2-4c3c-8d4d-e5e5e5e5e5e5", name="")
    revoked = foreign_incident("incident--d1d1d1d1-b2b2-4c3c-8d4d-e5e5e5e5e5e5", revoked=True)
    false_positive = foreign_incident("incident--e1e1e1e1-b2b2-4c3c-8d4d-e5e5e5e5e5e5", extensions={
        INCIDENT_CORE: {"extension_type": "property-extension", "determination": "false-positive",
                        "investigation_status": "closed"},
    })  # fmt: skip
    stix20 = foreign_incident("incident--f1f1f1f1-b2b2-4c3c-8d4d-e5e5e5e5e5e5", spec_version="2.0")
    older = copy.deepcopy(the_incident(bundle, US, RICH.incident_id))
    older["modified"], older["name"] = "2026-01-01T00:00:00.000Z", "an earlier version"
    older["extensions"][DETENTE_EXTENSION]["report"]["title"]["original"]["text"] = "an earlier version"

    def relationship(n: int, rtype: str, source: str, target: str) -> dict[str, Any]:
        return {
            "type": "relationship", "spec_version": "2.1", "id": f"relationship--{n}1111111-2222-4333-8444-555555555555",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "relationship_type": rtype, "source_ref": source, "target_ref": target,
        }  # fmt: skip

    to_self = relationship(1, "duplicate-of", rich_id, rich_id)
    targets = relationship(2, "targets", rich_id, "identity--5b5f5cb0-3d7e-4a0c-9a5e-8a7b6c5d4e3f")
    elsewhere = relationship(3, "related-to", rich_id, "incident--00000000-0000-4000-8000-000000000000")
    to_skipped = relationship(4, "related-to", rich_id, nameless["id"])
    first_junk = 1 + len(bundle["objects"]) + 2  # after the older version, the bundle, malware and custom
    bundle["objects"] = [
        older, *bundle["objects"], malware, custom, 42, {"type": "incident"}, bad_report, list_extensions,
        nameless, revoked, false_positive, stix20, to_self, targets, elsewhere, to_skipped,
    ]  # fmt: skip
    back = import_bundle(bundle, default_origin=OTHER)
    # Everything detente wrote still imports, the newer version of the rich report included.
    assert back.incidents == INCIDENTS and back.links == LINKS
    reasons = dict(back.skipped)
    assert len(reasons) == len(back.skipped) == 15, back.skipped
    assert "superseded" in reasons[rich_id]
    assert "'malware' is not imported" in reasons[malware["id"]]
    assert "'x-ai-model' is not imported" in reasons[custom["id"]]
    assert "not a STIX object" in reasons[f"objects[{first_junk}]"]
    assert "not a STIX object" in reasons[f"objects[{first_junk + 1}]"]
    assert reasons[bad_report["id"]].startswith(f"invalid incident {bad_report['id']}: ")
    assert "extensions is not a JSON object" in reasons[list_extensions["id"]]
    assert "without a name" in reasons[nameless["id"]]
    assert reasons[revoked["id"]] == "revoked"
    assert "false-positive" in reasons[false_positive["id"]]
    assert "only STIX 2.1" in reasons[stix20["id"]]
    assert "not linked to itself" in reasons[to_self["id"]]
    assert "'targets' is not an incident link" in reasons[targets["id"]]
    assert "not imported from this bundle" in reasons[elsewhere["id"]]
    assert "not imported from this bundle" in reasons[to_skipped["id"]]


def test_links_from_another_tool_are_asserted_by_the_importer() -> None:
    a = foreign_incident("incident--a2a2a2a2-b2b2-4c3c-8d4d-e5e5e5e5e5e5")
    b = foreign_incident("incident--b2b2b2b2-b2b2-4c3c-8d4d-e5e5e5e5e5e5", name="The same call, reported twice")
    rel = {
        "type": "relationship", "spec_version": "2.1", "id": "relationship--c2c2c2c2-b2b2-4c3c-8d4d-e5e5e5e5e5e5",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "relationship_type": "duplicate-of", "source_ref": b["id"], "target_ref": a["id"],
        "created_by_ref": "identity--5b5f5cb0-3d7e-4a0c-9a5e-8a7b6c5d4e3f", "description": "x" * 5000,
    }  # fmt: skip
    back = import_bundle(
        {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": [a, b, rel]}, default_origin=OTHER
    )
    ((by, found),) = back.links
    assert by == OTHER
    assert (found.source.id, found.target.id) == (
        "stix-b2b2b2b2-b2b2-4c3c-8d4d-e5e5e5e5e5e5",
        "stix-a2a2a2a2-b2b2-4c3c-8d4d-e5e5e5e5e5e5",
    )
    assert found.relation == "duplicate-of" and len(found.note) == 4096


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (b"{not json", MalformedJSON, "not valid JSON"),
        (b"\xff\xfe", MalformedJSON, "not valid JSON"),
        ('{"type": "bundle", "type": "bundle", "objects": []}', MalformedJSON, "duplicate key"),
        ("[]", MalformedRecord, r"not a STIX 2\.1 bundle: a JSON list"),
        ({"type": "incident", "id": "incident--x"}, MalformedRecord, r"not a STIX 2\.1 bundle: a 'incident' object"),
        ({"type": "bundle", "objects": {}}, MalformedRecord, "'objects' is not a list"),
    ],
)
def test_not_a_bundle_raises_a_typed_error_with_a_hint(data: Any, error: type[MalformedError], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        import_bundle(data, default_origin=US)
    assert info.value.hint is not None and "bundle" in info.value.hint


def test_an_empty_bundle_imports_nothing() -> None:
    back = import_bundle({"type": "bundle", "id": "bundle--" + str(uuid.uuid4())}, default_origin=US)
    assert (back.incidents, back.links, back.skipped) == ([], [], [])
