"""STIX 2.1 export and import of incidents and their links. Pure: no I/O.

A bundle holds:

- an ``identity`` for each party (``created_by_ref`` of its incidents and links);
- an ``incident`` per incident with the OASIS **Incident Core** property extension
  (``extension-definition--ef765651-680c-498d-9894-99799f2fa126``: ``determination``,
  ``investigation_status``, ``criticality``) and a detente property extension carrying the full
  report, so that a detente node imports it without loss while other tools read the standard
  fields; the extension's own ``extension-definition`` object is in the bundle;
- the **TLP 2.0** marking definitions (FIRST; extension
  ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``, fixed ids) the objects use;
- a ``relationship`` per link: ``duplicate-of`` (the Incident Core extension's own example),
  ``related-to`` (a STIX common relationship); ``same-as`` (the same event reported by two
  parties) is exported as ``related-to``, which other tools read, with the detente extension on
  the relationship naming the exact relation.

Identifiers are UUIDv5 over the incident key or link, so exporting twice gives the same ids.
Import takes any STIX 2.1 bundle: incidents without the detente extension are mapped from their
standard fields with stated defaults (noted in ``extra``); other objects are skipped with a reason.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.errors import MalformedJSON, MalformedRecord
from detente.incidents.model import Category, IncidentLink, IncidentReport, LinkRelation, Severity, Stage
from detente.records.record import TLP

__all__ = ["DETENTE_EXTENSION", "INCIDENT_CORE", "TLP_MARKINGS", "StixImport", "export_bundle", "import_bundle"]

_NS = uuid.UUID("6f0b1d2a-6c1e-5d7e-9a53-6b7a3f4d2c10")
INCIDENT_CORE = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
DETENTE_EXTENSION = "extension-definition--3c1f2b8e-5d0a-4c7b-9e4f-2a6d8b1c0e57"
_DETENTE_IDENTITY = "identity--8a2e6c4d-1f3b-4d5e-a7c9-0b2d4f6e8a1c"
TLP_MARKINGS = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP_BY_ID = {v: k for k, v in TLP_MARKINGS.items()}
_EPOCH = datetime(2022, 10, 1, tzinfo=UTC)
_CRITICALITY = {Severity.LOW: 25, Severity.MEDIUM: 50, Severity.HIGH: 75, Severity.CRITICAL: 100}


def _uuid(name: str) -> uuid.UUID:
    """A deterministic identifier in UUIDv4 form (STIX recommends v4 for SDOs): the bytes of a
    UUIDv5 over ``name`` with the version and variant bits of version 4."""
    raw = bytearray(uuid.uuid5(_NS, name).bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(raw))


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _identity_id(origin: str) -> str:
    return f"identity--{_uuid('party:' + origin)}"


def _incident_id(origin: str, incident_id: str) -> str:
    return f"incident--{_uuid(f'incident:{origin}#{incident_id}')}"


def _marking(tlp: TLP) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKINGS[tlp],
        "created": _ts(_EPOCH),
        "name": tlp.value,
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value[4:].lower()}},
    }


def export_bundle(
    incidents: Sequence[tuple[str, IncidentReport, TLP, datetime]],
    links: Sequence[tuple[str, IncidentLink, datetime]] = (),
    *,
    parties: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A STIX 2.1 bundle of ``(origin, report, tlp, issued)`` incidents and ``(asserted_by, link,
    issued)`` links; ``parties`` maps an origin to a display name."""
    names = parties or {}
    objects: list[dict[str, Any]] = []
    origins = sorted({o for o, *_ in incidents} | {a for a, *_ in links})
    for origin in origins:
        objects.append(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": _identity_id(origin),
                "created": _ts(_EPOCH),
                "modified": _ts(_EPOCH),
                "name": names.get(origin, origin),
                "identity_class": "organization",
                "description": f"detente party, log origin {origin}",
            }
        )
    objects.append(
        {
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": DETENTE_EXTENSION,
            "created_by_ref": _DETENTE_IDENTITY,
            "created": _ts(_EPOCH),
            "modified": _ts(_EPOCH),
            "name": "detente incident report",
            "description": "The full detente incident report (detente.dev/incident-report/v1), for lossless exchange.",
            "schema": "https://detente.dev/schemas/incident-report/v1.json",
            "version": "1.0.0",
            "extension_types": ["property-extension"],
        }
    )
    objects.append(
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": _DETENTE_IDENTITY,
            "created": _ts(_EPOCH),
            "modified": _ts(_EPOCH),
            "name": "detente",
            "identity_class": "system",
        }
    )
    used: set[TLP] = set()
    for origin, report, tlp, issued in incidents:
        used.add(tlp)
        created = _ts(report.reported_at or issued)
        references = [
            {"source_name": "detente", "external_id": f"{origin}#{report.incident_id}"},
            *[
                {"source_name": "supporting-material", "url": m}
                for m in report.supporting_materials
                if m.startswith("http")
            ],
        ]
        if report.source is not None:
            ref = {"source_name": report.source.database, "external_id": report.source.id}
            references.append(ref | ({"url": report.source.url} if report.source.url else {}))
        objects.append(
            {
                "type": "incident",
                "spec_version": "2.1",
                "id": _incident_id(origin, report.incident_id),
                "created_by_ref": _identity_id(origin),
                "created": created,
                "modified": _ts(issued) if _ts(issued) >= created else created,
                "name": report.title.original.text,
                "description": report.description.original.text,
                "lang": report.title.original.lang,
                "external_references": references,
                "object_marking_refs": [TLP_MARKINGS[tlp]],
                "extensions": {
                    INCIDENT_CORE: {
                        "extension_type": "property-extension",
                        "determination": "suspected"
                        if report.category in (Category.AI_HAZARD, Category.SERIOUS_AI_HAZARD)
                        else "successful-attempt",
                        "investigation_status": "closed" if report.stage == Stage.FINAL else "open",
                        "criticality": _CRITICALITY[report.severity],
                    },
                    DETENTE_EXTENSION: {
                        "extension_type": "property-extension",
                        "origin": origin,
                        "report": report.model_dump(mode="json", exclude_defaults=True),
                    },
                },
            }
        )
    for asserted_by, link, issued in links:
        key = f"link:{asserted_by}|{link.source}|{link.relation.value}|{link.target}"
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": f"relationship--{_uuid(key)}",
                "created_by_ref": _identity_id(asserted_by),
                "created": _ts(issued),
                "modified": _ts(issued),
                # same-as has no STIX relationship type: it travels as related-to (true, and what other
                # tools read) with the detente extension naming the exact relation.
                "relationship_type": "related-to" if link.relation == LinkRelation.SAME_AS else link.relation.value,
                "source_ref": _incident_id(link.source.origin, link.source.id),
                "target_ref": _incident_id(link.target.origin, link.target.id),
                **({"description": link.note} if link.note else {}),
                "object_marking_refs": [TLP_MARKINGS[TLP.CLEAR]],
                "extensions": {
                    DETENTE_EXTENSION: {"extension_type": "property-extension", "relation": link.relation.value}
                },
            }
        )
        used.add(TLP.CLEAR)
    objects += [_marking(t) for t in sorted(used, key=list(TLP).index)]
    body = json.dumps(objects, sort_keys=True).encode()
    return {
        "type": "bundle",
        "id": f"bundle--{_uuid(hashlib.sha256(body).hexdigest())}",
        "objects": objects,
    }


@dataclass
class StixImport:
    incidents: list[tuple[str, IncidentReport, TLP]] = field(default_factory=list)
    links: list[tuple[str, IncidentLink]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _load(data: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, dict):
        obj: Any = data
    else:
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedJSON(f"not JSON: {exc}", hint="export a STIX 2.1 bundle as JSON") from None
    if not isinstance(obj, dict) or obj.get("type") != "bundle" or not isinstance(obj.get("objects"), list):
        raise MalformedRecord("not a STIX 2.1 bundle", hint='expected {"type": "bundle", "objects": [...]}')
    return obj


def import_bundle(data: bytes | str | dict[str, Any], *, default_origin: str) -> StixImport:
    """Incidents and links from a STIX 2.1 bundle. Incidents another tool wrote (without the
    detente extension) are reported under ``default_origin`` with stated defaults."""
    bundle = _load(data)
    out = StixImport()
    by_stix_id: dict[str, tuple[str, str]] = {}
    parties: dict[str, str] = {}
    for obj in bundle["objects"]:
        if isinstance(obj, dict) and obj.get("type") == "identity":
            parties[str(obj.get("id"))] = str(obj.get("description", "")).removeprefix("detente party, log origin ")
    for obj in bundle["objects"]:
        if not isinstance(obj, dict):
            out.skipped.append(("?", "not a STIX object"))
            continue
        kind, ident = obj.get("type"), str(obj.get("id", "?"))
        if kind in ("identity", "marking-definition", "extension-definition", "relationship"):
            continue
        if kind != "incident":
            out.skipped.append((ident, f"object type {kind!r} is not imported (incidents and their links are)"))
            continue
        try:
            origin, report, tlp = _incident(obj, default_origin)
        except MalformedRecord as exc:
            out.skipped.append((ident, exc.message))
            continue
        by_stix_id[ident] = (origin, report.incident_id)
        out.incidents.append((origin, report, tlp))
    for obj in bundle["objects"]:
        if not isinstance(obj, dict) or obj.get("type") != "relationship":
            continue
        ident = str(obj.get("id", "?"))
        exact = (obj.get("extensions") or {}).get(DETENTE_EXTENSION) or {}
        rtype = (
            exact.get("relation") if isinstance(exact, dict) and exact.get("relation") else obj.get("relationship_type")
        )
        source, target = by_stix_id.get(str(obj.get("source_ref"))), by_stix_id.get(str(obj.get("target_ref")))
        if rtype not in {r.value for r in LinkRelation}:
            out.skipped.append((ident, f"relationship type {rtype!r} is not an incident link"))
        elif source is None or target is None:
            out.skipped.append((ident, "the relationship names an incident that is not in the bundle"))
        else:
            asserted_by = parties.get(str(obj.get("created_by_ref"))) or default_origin
            link = IncidentLink.model_validate(
                {
                    "source": {"origin": source[0], "id": source[1]},
                    "target": {"origin": target[0], "id": target[1]},
                    "relation": rtype,
                    "note": str(obj.get("description", ""))[:4096],
                }
            )
            out.links.append((asserted_by, link))
    return out


def _incident(obj: dict[str, Any], default_origin: str) -> tuple[str, IncidentReport, TLP]:
    marks = [_TLP_BY_ID[m] for m in obj.get("object_marking_refs") or [] if m in _TLP_BY_ID]
    tlp = max(marks, key=list(TLP).index) if marks else TLP.CLEAR
    extensions = obj.get("extensions") or {}
    mine = extensions.get(DETENTE_EXTENSION)
    try:
        if isinstance(mine, dict) and "report" in mine:
            return str(mine.get("origin") or default_origin), IncidentReport.model_validate(mine["report"]), tlp
        core = extensions.get(INCIDENT_CORE) or {}
        name = str(obj.get("name") or "").strip()
        if not name:
            raise MalformedRecord("an incident without a name")
        criticality = core.get("criticality")
        severity = "medium"
        if isinstance(criticality, int):
            severity = (
                "critical"
                if criticality > 75
                else "high"
                if criticality > 50
                else "medium"
                if criticality > 25
                else "low"
            )
        lang = str(obj.get("lang") or "en")
        refs = [str(r["url"]) for r in obj.get("external_references") or [] if isinstance(r, dict) and r.get("url")]
        report = IncidentReport.model_validate(
            {
                "incident_id": "stix-" + str(obj["id"]).removeprefix("incident--"),
                "category": "ai-hazard" if core.get("determination") == "suspected" else "ai-incident",
                "title": {"original": {"lang": lang, "text": name}},
                "description": {"original": {"lang": lang, "text": str(obj.get("description") or name)}},
                "ai_relation": "as described in the STIX incident",
                "submitter": str(obj.get("created_by_ref") or "STIX producer"),
                "supporting_materials": refs or [str(obj["id"])],
                "severity": severity,
                "harm_types": ["property-communities-environment"],
                "stage": "final" if core.get("investigation_status") == "closed" else "initial",
                "occurred_at": obj.get("first_seen") or None,
                "extra": {
                    "stix_id": obj["id"],
                    "imported_from": "STIX 2.1 without the detente extension",
                    "severity_basis": "incident-core criticality" if isinstance(criticality, int) else "default",
                    "harm_basis": "default (STIX has no harm type)",
                },
            }
        )
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, f"STIX {obj.get('id')}")) from None
    except KeyError as exc:
        raise MalformedRecord(f"missing property {exc}") from None
    return default_origin, report, tlp
