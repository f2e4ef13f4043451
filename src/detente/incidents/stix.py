"""STIX 2.1 export and import of incidents and their links. Pure: no I/O.

A bundle holds:

- an ``identity`` (``identity_class`` ``organization``) for each party: the ``created_by_ref`` of
  its incidents and links, with the party's log origin in the detente property extension;
- an ``incident`` per incident: ``name`` and ``description`` are the original texts, ``lang`` the
  primary language subtag of the original's tag (``zh-Hans`` is written ``zh``: OASIS's validator,
  like other tools, knows a fixed list of tags; the exact tag travels in the report); the OASIS
  **Incident Core** property extension (``extension-definition--ef765651-680c-498d-9894-99799f2fa126``,
  version 2.0: ``determination`` ``successful-attempt`` for incidents and ``suspected`` for hazards,
  ``investigation_status`` ``closed`` after a final report and ``open`` before, ``criticality``
  25/50/75/100 by severity); and the detente property extension (:data:`DETENTE_EXTENSION`)
  carrying the full report, so that a detente node imports it without loss while other tools read
  the standard fields. The detente ``extension-definition`` object itself is in the bundle;
- the **TLP 2.0** marking definitions (FIRST; extension
  ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``, the fixed ids and objects of
  oasis-open/cti-stix-common-objects) the objects use, in ``object_marking_refs``. A relationship
  carries the stricter marking of the two incidents it links;
- a ``relationship`` per link: ``duplicate-of`` and ``related-to`` are STIX common relationship
  types. ``same-as`` (the same event reported by two parties) has no STIX type: it is exported as
  ``related-to``, which is true and what other tools read, and the detente extension on the
  relationship names the exact relation, which import restores.

Identifiers are deterministic: UUIDv5 over the party, incident key or link, written in UUIDv4 form
(STIX asks SDOs and SROs for v4), so exporting twice gives the same bundle.

Import takes any STIX 2.1 bundle. Incidents with the detente extension come back exactly. Incidents
another tool wrote are mapped from their standard fields, with the defaults for what STIX does not
say listed in ``extra["stix_defaulted"]``. Other object types, revoked or superseded versions and
malformed objects are skipped with a reason; the rest of the bundle still imports.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import parse_json
from detente.errors import MalformedJSON, MalformedRecord
from detente.incidents.model import Category, IncidentLink, IncidentReport, LinkRelation, Severity, Stage
from detente.records.record import TLP

__all__ = [
    "DETENTE_EXTENSION",
    "INCIDENT_CORE",
    "TLP_EXTENSION",
    "TLP_MARKINGS",
    "IncidentEntry",
    "LinkEntry",
    "StixImport",
    "export_bundle",
    "import_bundle",
]

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
# Read on import: the TLP 1.0 markings predefined by STIX 2.1 (section 7.2.1.4), WHITE read as CLEAR.
_TLP1_MARKINGS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
}
_TLP_BY_NAME = {t.value[4:].lower(): t for t in TLP} | {"white": TLP.CLEAR}
_EPOCH = datetime(2022, 10, 1, tzinfo=UTC)  # the TLP 2.0 objects' created; also the fixed objects' times
_CRITICALITY = {Severity.LOW: 25, Severity.MEDIUM: 50, Severity.HIGH: 75, Severity.CRITICAL: 100}
_HAZARDS = (Category.AI_HAZARD, Category.SERIOUS_AI_HAZARD)
# Incident Core 2.0 determinations. Its JSON schema lists successful-attempt and low-value, its prose
# table confirmed; all are read as incidents. blocked and failed-attempt caused no harm: hazards.
_DETERMINATION = {
    "successful-attempt": Category.AI_INCIDENT,
    "confirmed": Category.AI_INCIDENT,
    "low-value": Category.AI_INCIDENT,
    "suspected": Category.AI_HAZARD,
    "blocked": Category.AI_HAZARD,
    "failed-attempt": Category.AI_HAZARD,
}
_LANG = re.compile(r"\A[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
_PARTY_PREFIX = "detente party, log origin "

IncidentEntry = tuple[str, IncidentReport, TLP] | tuple[str, IncidentReport, TLP, datetime]
"""``(origin, report, tlp)``, optionally with the record's ``issued`` time (``created``/``modified``)."""
LinkEntry = tuple[str, IncidentLink] | tuple[str, IncidentLink, datetime]
"""``(asserted_by, link)``, optionally with the link record's ``issued`` time."""


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


def _link_id(asserted_by: str, link: IncidentLink) -> str:
    return f"relationship--{_uuid(f'link:{asserted_by}|{link.source}|{link.relation.value}|{link.target}')}"


def _strictest(marks: Sequence[TLP]) -> TLP:
    return max(marks, key=list(TLP).index) if marks else TLP.CLEAR


def _marking(tlp: TLP) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object, as oasis-open/cti-stix-common-objects has it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKINGS[tlp],
        "created": _ts(_EPOCH),
        "name": tlp.value,
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value[4:].lower()}},
    }


def _mine(**properties: Any) -> dict[str, Any]:
    return {DETENTE_EXTENSION: {"extension_type": "property-extension", **properties}}


def export_bundle(
    incidents: Sequence[IncidentEntry],
    links: Sequence[LinkEntry] = (),
    *,
    parties: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A STIX 2.1 bundle of ``(origin, report, tlp[, issued])`` incidents and ``(asserted_by,
    link[, issued])`` links; ``parties`` maps a log origin to a display name (default: the origin).

    An incident's ``created`` is its ``reported_at``, else ``issued``, else when its reporter became
    aware or it occurred; ``modified`` is ``issued`` when later. A link's times are ``issued``, else
    the later ``created`` of its two incidents.
    """
    names = parties or {}
    objects: list[dict[str, Any]] = []
    origins = sorted({e[0] for e in incidents} | {e[0] for e in links})
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
                "description": _PARTY_PREFIX + origin,
                "extensions": _mine(origin=origin),
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
            "description": (
                "detente's own properties, for lossless exchange between detente nodes: on an incident, the full "
                "incident report (record type detente.dev/incident-report/v1) as 'report' and the reporting party's "
                "log origin as 'origin'; on an identity, the party's log origin as 'origin'; on a relationship, the "
                "exact link relation (same-as, duplicate-of, related-to) as 'relation'."
            ),
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
    tlp_of: dict[str, TLP] = {}
    created_of: dict[str, str] = {}
    for entry in incidents:
        origin, report, tlp = entry[0], entry[1], entry[2]
        issued = entry[3] if len(entry) == 4 else None
        used.add(tlp)
        ident = _incident_id(origin, report.incident_id)
        tlp_of[ident] = tlp
        created = _ts(report.reported_at or issued or report.aware_at or report.occurred_at or _EPOCH)
        modified = max(created, _ts(issued)) if issued else created
        created_of[ident] = created
        references = [
            {"source_name": "detente", "external_id": f"{origin}#{report.incident_id}"},
            *[
                {"source_name": "supporting-material", "url": m}
                for m in report.supporting_materials
                if m.startswith(("https://", "http://"))
            ],
        ]
        if report.source is not None:
            ref = {"source_name": report.source.database, "external_id": report.source.id}
            references.append(ref | ({"url": report.source.url} if report.source.url else {}))
        objects.append(
            {
                "type": "incident",
                "spec_version": "2.1",
                "id": ident,
                "created_by_ref": _identity_id(origin),
                "created": created,
                "modified": modified,
                "name": report.title.original.text,
                "description": report.description.original.text,
                "lang": report.title.original.lang.split("-")[0],
                "external_references": references,
                "object_marking_refs": [TLP_MARKINGS[tlp]],
                "extensions": {
                    INCIDENT_CORE: {
                        "extension_type": "property-extension",
                        "determination": "suspected" if report.category in _HAZARDS else "successful-attempt",
                        "investigation_status": "closed" if report.stage == Stage.FINAL else "open",
                        "criticality": _CRITICALITY[report.severity],
                    },
                    **_mine(origin=origin, report=report.model_dump(mode="json", exclude_defaults=True)),
                },
            }
        )
    for item in links:
        asserted_by, link = item[0], item[1]
        source, target = (
            _incident_id(link.source.origin, link.source.id),
            _incident_id(link.target.origin, link.target.id),
        )
        if len(item) == 3:
            when = _ts(item[2])
        else:
            when = max(created_of.get(source, _ts(_EPOCH)), created_of.get(target, _ts(_EPOCH)))
        marking = _strictest([tlp_of[i] for i in (source, target) if i in tlp_of])
        used.add(marking)
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": _link_id(asserted_by, link),
                "created_by_ref": _identity_id(asserted_by),
                "created": when,
                "modified": when,
                "relationship_type": "related-to" if link.relation == LinkRelation.SAME_AS else link.relation.value,
                "source_ref": source,
                "target_ref": target,
                **({"description": link.note} if link.note else {}),
                "object_marking_refs": [TLP_MARKINGS[marking]],
                "extensions": _mine(relation=link.relation.value),
            }
        )
    objects += [_marking(t) for t in sorted(used, key=list(TLP).index)]
    body = json.dumps(objects, sort_keys=True).encode()
    return {"type": "bundle", "id": f"bundle--{_uuid(hashlib.sha256(body).hexdigest())}", "objects": objects}


@dataclass
class StixImport:
    """What a bundle held: ``(origin, report, tlp)`` incidents, ``(asserted_by, link)`` links, and
    ``(object id, reason)`` for every object that was not imported."""

    incidents: list[tuple[str, IncidentReport, TLP]] = field(default_factory=list)
    links: list[tuple[str, IncidentLink]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


_BUNDLE_HINT = 'a STIX 2.1 bundle is a JSON object {"type": "bundle", "id": "bundle--<uuid>", "objects": [...]}'


def _load(data: bytes | str | dict[str, Any]) -> list[Any]:
    if isinstance(data, dict):
        obj: Any = data
    else:
        try:
            obj = parse_json(data, what="STIX bundle")
        except MalformedJSON as exc:
            raise MalformedJSON(exc.message, hint=_BUNDLE_HINT) from None
    if not isinstance(obj, dict) or obj.get("type") != "bundle":
        found = f"a {obj.get('type')!r} object" if isinstance(obj, dict) else f"a JSON {type(obj).__name__}"
        raise MalformedRecord(f"not a STIX 2.1 bundle: {found}", hint=_BUNDLE_HINT)
    objects = obj.get("objects", [])
    if not isinstance(objects, list):
        raise MalformedRecord("not a STIX 2.1 bundle: 'objects' is not a list", hint=_BUNDLE_HINT)
    return objects


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRecord(f"{what} is not a JSON object")
    return value


def _time(obj: dict[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class _Context:
    """What the bundle says about parties and markings, read before its incidents."""

    default_origin: str
    origins: dict[str, str]  # identity id -> log origin (detente parties)
    names: dict[str, str]  # identity id -> name
    markings: dict[str, TLP]  # marking-definition id -> TLP

    def tlp(self, obj: dict[str, Any]) -> TLP:
        refs = obj.get("object_marking_refs")
        refs = refs if isinstance(refs, list) else []
        return _strictest([self.markings[r] for r in refs if isinstance(r, str) and r in self.markings])


def _context(objects: list[Any], default_origin: str) -> _Context:
    ctx = _Context(default_origin, {}, {}, dict(_TLP1_MARKINGS) | {v: k for k, v in TLP_MARKINGS.items()})
    for obj in objects:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            continue
        ident, extensions = obj["id"], obj.get("extensions")
        extensions = extensions if isinstance(extensions, dict) else {}
        if obj.get("type") == "identity":
            mine = extensions.get(DETENTE_EXTENSION)
            origin = mine.get("origin") if isinstance(mine, dict) else None
            description = obj.get("description")
            if not isinstance(origin, str) and isinstance(description, str) and description.startswith(_PARTY_PREFIX):
                origin = description.removeprefix(_PARTY_PREFIX)  # written by detente before the extension
            if isinstance(origin, str) and origin:
                ctx.origins[ident] = origin
            if isinstance(obj.get("name"), str):
                ctx.names[ident] = obj["name"]
        elif obj.get("type") == "marking-definition" and ident not in ctx.markings:
            tlp2 = extensions.get(TLP_EXTENSION)
            definition = obj.get("definition")
            level = (
                tlp2.get("tlp_2_0")
                if isinstance(tlp2, dict)
                else definition.get("tlp")
                if obj.get("definition_type") == "tlp" and isinstance(definition, dict)
                else None
            )
            if isinstance(level, str) and level.lower() in _TLP_BY_NAME:
                ctx.markings[ident] = _TLP_BY_NAME[level.lower()]
    return ctx


_SUPPORTING = frozenset({"identity", "marking-definition", "extension-definition"})


def import_bundle(data: bytes | str | dict[str, Any], *, default_origin: str) -> StixImport:
    """Incidents and links from a STIX 2.1 bundle. Incidents another tool wrote (without the
    detente extension) are reported under ``default_origin``; links another tool wrote are asserted
    by ``default_origin`` unless their ``created_by_ref`` is a detente party in the bundle.

    Raises :class:`MalformedJSON` for bytes that are not JSON and :class:`MalformedRecord` for JSON
    that is not a bundle; anything wrong with one object only skips that object.
    """
    objects = _load(data)
    ctx = _context(objects, default_origin)
    out = StixImport()
    latest: dict[str, tuple[int, dict[str, Any]]] = {}  # id -> (position, newest version)
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) or not isinstance(obj.get("id"), str):
            out.skipped.append((f"objects[{i}]", "not a STIX object (a JSON object with a string type and id)"))
            continue
        kind, ident = obj["type"], obj["id"]
        if kind in _SUPPORTING:
            continue
        if kind not in ("incident", "relationship"):
            out.skipped.append((ident, f"object type {kind!r} is not imported (incidents and their links are)"))
            continue
        if obj.get("spec_version") != "2.1":
            out.skipped.append((ident, f"spec_version {obj.get('spec_version')!r}: only STIX 2.1 objects are read"))
            continue
        if ident in latest:
            older, newer = latest[ident][1], obj
            if (_time(older, "modified") or _EPOCH) > (_time(newer, "modified") or _EPOCH):
                older, newer = newer, older
            latest[ident] = (latest[ident][0], newer)
            out.skipped.append((ident, f"version modified {older.get('modified')!r} is superseded in the bundle"))
        else:
            latest[ident] = (i, obj)
    current = [obj for _, obj in sorted(latest.values(), key=lambda x: x[0])]
    keys: dict[str, tuple[str, str]] = {}
    for obj in current:
        if obj["type"] != "incident":
            continue
        try:
            origin, report, tlp = _incident(obj, ctx)
        except MalformedRecord as exc:
            out.skipped.append((obj["id"], exc.message))
            continue
        keys[obj["id"]] = (origin, report.incident_id)
        out.incidents.append((origin, report, tlp))
    for obj in current:
        if obj["type"] != "relationship":
            continue
        try:
            out.links.append(_link(obj, ctx, keys))
        except MalformedRecord as exc:
            out.skipped.append((obj["id"], exc.message))
    return out


def _link(obj: dict[str, Any], ctx: _Context, keys: dict[str, tuple[str, str]]) -> tuple[str, IncidentLink]:
    if obj.get("revoked") is True:
        raise MalformedRecord("revoked")
    exact = _dict(_dict(obj.get("extensions"), "extensions").get(DETENTE_EXTENSION), "the detente extension")
    relation = exact.get("relation") or obj.get("relationship_type")
    if relation not in {r.value for r in LinkRelation}:
        raise MalformedRecord(
            f"relationship type {relation!r} is not an incident link (same-as, duplicate-of, related-to)"
        )
    ends = [keys.get(obj[k]) if isinstance(obj.get(k), str) else None for k in ("source_ref", "target_ref")]
    if ends[0] is None or ends[1] is None:
        raise MalformedRecord("the relationship names an incident that is not imported from this bundle")
    by = obj.get("created_by_ref")
    asserted_by = ctx.origins.get(by, ctx.default_origin) if isinstance(by, str) else ctx.default_origin
    note = obj.get("description")
    try:
        link = IncidentLink.model_validate(
            {
                "source": {"origin": ends[0][0], "id": ends[0][1]},
                "target": {"origin": ends[1][0], "id": ends[1][1]},
                "relation": relation,
                "note": note[:4096] if isinstance(note, str) else "",
            }
        )
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, "incident link")) from None
    return asserted_by, link


def _incident(obj: dict[str, Any], ctx: _Context) -> tuple[str, IncidentReport, TLP]:
    if obj.get("revoked") is True:
        raise MalformedRecord("revoked")
    tlp = ctx.tlp(obj)
    extensions = _dict(obj.get("extensions"), "extensions")
    mine = _dict(extensions.get(DETENTE_EXTENSION), "the detente extension")
    try:
        if "report" in mine:
            origin = mine.get("origin")
            origin = origin if isinstance(origin, str) and origin else ctx.default_origin
            return origin, IncidentReport.model_validate(mine["report"]), tlp
        return (
            ctx.default_origin,
            _foreign(obj, _dict(extensions.get(INCIDENT_CORE), "the Incident Core extension"), ctx),
            tlp,
        )
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, f"incident {obj['id']}")) from None


def _foreign(obj: dict[str, Any], core: dict[str, Any], ctx: _Context) -> IncidentReport:
    """An incident another tool wrote, from its standard fields. What STIX does not say is defaulted,
    and the defaulted field names are listed in ``extra["stix_defaulted"]``: ``ai_relation`` "as
    described in the STIX incident" and ``harm_types`` property-communities-environment (always);
    ``category`` ai-incident, ``severity`` medium (without a usable Incident Core determination or
    criticality); ``lang`` en (STIX's own default; ``und`` for a tag detente cannot read);
    ``description`` the name; ``submitter`` "unknown STIX producer" (without ``created_by_ref``; else
    the identity's name, else the ref); ``supporting_materials`` the STIX id (without reference URLs).
    The id is ``stix-<uuid>``, so importing the same object again names the same incident."""
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MalformedRecord("an incident without a name")
    defaulted = ["ai_relation", "harm_types"]
    determination = core.get("determination")
    if determination == "false-positive":
        raise MalformedRecord("Incident Core determination 'false-positive': not an incident")
    category = _DETERMINATION.get(determination) if isinstance(determination, str) else None
    if category is None:
        category = Category.AI_INCIDENT
        defaulted.append("category")
    criticality = core.get("criticality")
    if isinstance(criticality, int) and not isinstance(criticality, bool) and 0 <= criticality <= 100:
        # The inverse of export's 25/50/75/100.
        severity = (
            Severity.CRITICAL
            if criticality > 75
            else Severity.HIGH
            if criticality > 50
            else Severity.MEDIUM
            if criticality > 25
            else Severity.LOW
        )
    else:
        severity = Severity.MEDIUM
        defaulted.append("severity")
    lang = obj.get("lang")
    if not isinstance(lang, str) or not _LANG.match(lang):
        # STIX: content without lang is English; a tag detente cannot read is 'und' (undetermined).
        lang = "en" if lang is None else "und"
        defaulted.append("lang")
    description = obj.get("description")
    if not isinstance(description, str) or not description.strip():
        description = name
        defaulted.append("description")
    by = obj.get("created_by_ref")
    submitter = ctx.names.get(by, by) if isinstance(by, str) else None
    if not submitter:
        submitter = "unknown STIX producer"
        defaulted.append("submitter")
    refs = obj.get("external_references")
    materials = [
        r["url"]
        for r in (refs if isinstance(refs, list) else [])
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    ][:200]
    if not materials:
        materials = [obj["id"]]
        defaulted.append("supporting_materials")
    return IncidentReport.model_validate(
        {
            "incident_id": "stix-" + obj["id"].removeprefix("incident--")[:120],
            "category": category,
            "stage": "final" if core.get("investigation_status") == "closed" else "initial",
            "title": {"original": {"lang": lang, "text": name}},
            "description": {"original": {"lang": lang, "text": description}},
            "ai_relation": "as described in the STIX incident",
            "submitter": submitter[:256],
            "supporting_materials": materials,
            "severity": severity,
            "harm_types": ["property-communities-environment"],
            # first_seen is not a STIX 2.1 incident property, but some tools (OpenCTI) write it.
            "occurred_at": _time(obj, "first_seen"),
            "source": {"database": "STIX", "id": obj["id"][:128]},
            "extra": {
                "stix_id": obj["id"],
                "imported_from": "STIX 2.1 without the detente extension",
                "stix_defaulted": sorted(defaulted),
                "severity_basis": "default" if "severity" in defaulted else "incident-core criticality",
                "harm_basis": "default (STIX has no harm type)",
            },
        }
    )
