"""Incidents and links from any STIX 2.1 bundle (see :mod:`detente.incidents.stix`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import parse_json
from detente.errors import MalformedJSON, MalformedRecord
from detente.incidents.model import Category, IncidentLink, IncidentReport, LinkRelation, Severity
from detente.incidents.stix.ids import (
    _DETERMINATION,
    _EPOCH,
    _LANG,
    _PARTY_PREFIX,
    _TLP1_MARKINGS,
    _TLP_BY_NAME,
    DETENTE_EXTENSION,
    INCIDENT_CORE,
    TLP_EXTENSION,
    TLP_MARKINGS,
    _strictest,
)
from detente.records.record import TLP


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
            _learn_identity(ctx, ident, obj, extensions)
        elif obj.get("type") == "marking-definition" and ident not in ctx.markings:
            level = _tlp_level(obj, extensions)
            if isinstance(level, str) and level.lower() in _TLP_BY_NAME:
                ctx.markings[ident] = _TLP_BY_NAME[level.lower()]
    return ctx


def _learn_identity(ctx: _Context, ident: str, obj: dict[str, Any], extensions: dict[str, Any]) -> None:
    """A party's log origin (from the detente extension, or the description detente wrote before
    it) and its name."""
    mine = extensions.get(DETENTE_EXTENSION)
    origin = mine.get("origin") if isinstance(mine, dict) else None
    description = obj.get("description")
    if not isinstance(origin, str) and isinstance(description, str) and description.startswith(_PARTY_PREFIX):
        origin = description.removeprefix(_PARTY_PREFIX)  # written by detente before the extension
    if isinstance(origin, str) and origin:
        ctx.origins[ident] = origin
    if isinstance(obj.get("name"), str):
        ctx.names[ident] = obj["name"]


def _tlp_level(obj: dict[str, Any], extensions: dict[str, Any]) -> Any:
    """A marking definition's TLP level: TLP 2.0's extension, else TLP 1.0's definition."""
    tlp2 = extensions.get(TLP_EXTENSION)
    definition = obj.get("definition")
    if isinstance(tlp2, dict):
        return tlp2.get("tlp_2_0")
    if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
        return definition.get("tlp")
    return None


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


def _foreign_category(core: dict[str, Any], defaulted: list[str]) -> Category:
    determination = core.get("determination")
    if determination == "false-positive":
        raise MalformedRecord("Incident Core determination 'false-positive': not an incident")
    category = _DETERMINATION.get(determination) if isinstance(determination, str) else None
    if category is None:
        category = Category.AI_INCIDENT
        defaulted.append("category")
    return category


def _foreign_severity(core: dict[str, Any], defaulted: list[str]) -> Severity:
    criticality = core.get("criticality")
    if isinstance(criticality, int) and not isinstance(criticality, bool) and 0 <= criticality <= 100:
        # The inverse of export's 25/50/75/100.
        return (
            Severity.CRITICAL
            if criticality > 75
            else Severity.HIGH
            if criticality > 50
            else Severity.MEDIUM
            if criticality > 25
            else Severity.LOW
        )
    defaulted.append("severity")
    return Severity.MEDIUM


def _foreign_materials(obj: dict[str, Any], defaulted: list[str]) -> list[str]:
    refs = obj.get("external_references")
    materials = [
        r["url"]
        for r in (refs if isinstance(refs, list) else [])
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    ][:200]
    if not materials:
        materials = [obj["id"]]
        defaulted.append("supporting_materials")
    return materials


def _granular_lang(obj: dict[str, Any], selector: str) -> str | None:
    """The language a granular marking gives ``selector`` (STIX 2.1 §7.2.3), if one readable does."""
    for marking in obj.get("granular_markings") or []:
        if not isinstance(marking, dict):
            continue
        lang, selectors = marking.get("lang"), marking.get("selectors")
        if isinstance(lang, str) and _LANG.match(lang) and isinstance(selectors, list) and selector in selectors:
            return lang
    return None


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
    category = _foreign_category(core, defaulted)
    severity = _foreign_severity(core, defaulted)
    lang = obj.get("lang")
    if not isinstance(lang, str) or not _LANG.match(lang):
        # STIX: content without lang is English; a tag detente cannot read is 'und' (undetermined).
        lang = "en" if lang is None else "und"
        defaulted.append("lang")
    description = obj.get("description")
    description_lang = _granular_lang(obj, "description") or lang
    if not isinstance(description, str) or not description.strip():
        description, description_lang = name, lang
        defaulted.append("description")
    by = obj.get("created_by_ref")
    submitter = ctx.names.get(by, by) if isinstance(by, str) else None
    if not submitter:
        submitter = "unknown STIX producer"
        defaulted.append("submitter")
    materials = _foreign_materials(obj, defaulted)
    return IncidentReport.model_validate(
        {
            "incident_id": "stix-" + obj["id"].removeprefix("incident--")[:120],
            "category": category,
            "stage": "final" if core.get("investigation_status") == "closed" else "initial",
            "title": {"original": {"lang": lang, "text": name}},
            "description": {"original": {"lang": description_lang, "text": description}},
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
