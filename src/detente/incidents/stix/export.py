"""A STIX 2.1 bundle from incidents and links (see :mod:`detente.incidents.stix`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from detente.incidents.model import IncidentLink, IncidentReport, LinkRelation, Stage
from detente.incidents.stix.ids import (
    _CRITICALITY,
    _DETENTE_IDENTITY,
    _EPOCH,
    _HAZARDS,
    _PARTY_PREFIX,
    DETENTE_EXTENSION,
    INCIDENT_CORE,
    TLP_MARKINGS,
    _identity_id,
    _incident_id,
    _link_id,
    _marking,
    _mine,
    _strictest,
    _ts,
    _uuid,
)
from detente.records.record import TLP

IncidentEntry = tuple[str, IncidentReport, TLP] | tuple[str, IncidentReport, TLP, datetime]
"""``(origin, report, tlp)``, optionally with the record's ``issued`` time (``created``/``modified``)."""
LinkEntry = tuple[str, IncidentLink] | tuple[str, IncidentLink, datetime]
"""``(asserted_by, link)``, optionally with the link record's ``issued`` time."""


def _extension_definition() -> dict[str, Any]:
    """The definition of detente's property extension."""
    return {
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


def _detente_system() -> dict[str, Any]:
    """detente itself, the extension definition's creator."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": _DETENTE_IDENTITY,
        "created_by_ref": _DETENTE_IDENTITY,
        "created": _ts(_EPOCH),
        "modified": _ts(_EPOCH),
        "name": "detente",
        "identity_class": "system",
    }


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
    origins = sorted({e[0] for e in incidents} | {e[0] for e in links})
    objects = [_party(origin, names) for origin in origins]
    objects += [_extension_definition(), _detente_system()]
    used: set[TLP] = set()
    tlp_of: dict[str, TLP] = {}
    created_of: dict[str, str] = {}
    for entry in incidents:
        incident, tlp = _incident_object(entry)
        used.add(tlp)
        tlp_of[incident["id"]] = tlp
        created_of[incident["id"]] = incident["created"]
        objects.append(incident)
    for item in links:
        relationship, marking = _relationship_object(item, tlp_of, created_of)
        used.add(marking)
        objects.append(relationship)
    objects += [_marking(t) for t in sorted(used, key=list(TLP).index)]
    body = json.dumps(objects, sort_keys=True).encode()
    return {"type": "bundle", "id": f"bundle--{_uuid(hashlib.sha256(body).hexdigest())}", "objects": objects}


def interop_profile(bundle: dict[str, Any]) -> dict[str, Any]:
    """``bundle`` as the OASIS validator's ``--interop`` profile wants it: without the TLP 2.0
    marking-definition objects, which the profile would have carry ``created_by_ref`` and
    ``modified`` while STIX 2.1 defines no ``modified`` on a marking definition (so ``--strict``
    refuses it) and FIRST publishes them without either. The objects still name their markings by
    the fixed ids of oasis-open/cti-stix-common-objects, which import reads without the objects.
    Every other object already has its producer (``created_by_ref`` to an identity that has one)."""
    objects = [o for o in bundle["objects"] if o["type"] != "marking-definition"]
    body = json.dumps(objects, sort_keys=True).encode()
    return {"type": "bundle", "id": f"bundle--{_uuid(hashlib.sha256(body).hexdigest())}", "objects": objects}


def _primary(tag: str) -> str:
    """The primary language subtag (``zh-Hans`` → ``zh``): the validator knows a fixed list of tags."""
    return tag.split("-")[0]


def _party(origin: str, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": _identity_id(origin),
        "created_by_ref": _identity_id(origin),  # a party speaks for itself (the interop profile asks for a producer)
        "created": _ts(_EPOCH),
        "modified": _ts(_EPOCH),
        "name": names.get(origin, origin),
        "identity_class": "organization",
        "description": _PARTY_PREFIX + origin,
        "extensions": _mine(origin=origin),
    }


def _incident_object(entry: IncidentEntry) -> tuple[dict[str, Any], TLP]:
    """The STIX incident of one ``(origin, report, tlp[, issued])`` entry, and its marking."""
    origin, report, tlp = entry[0], entry[1], entry[2]
    issued = entry[3] if len(entry) == 4 else None
    ident = _incident_id(origin, report.incident_id)
    created = _ts(report.reported_at or issued or report.aware_at or report.occurred_at or _EPOCH)
    modified = max(created, _ts(issued)) if issued else created
    # No URLs here: STIX best practice 302 wants a hash of what a URL names, and detente does not
    # fetch supporting material; the URLs travel in the report itself (the detente extension).
    references = [{"source_name": "detente", "external_id": f"{origin}#{report.incident_id}"}]
    if report.source is not None:
        references.append({"source_name": report.source.database, "external_id": report.source.id})
    incident: dict[str, Any] = {
        "type": "incident",
        "spec_version": "2.1",
        "id": ident,
        "created_by_ref": _identity_id(origin),
        "created": created,
        "modified": modified,
        "name": report.title.original.text,
        "description": report.description.original.text,
        # The title's original language. A description written in another language keeps its own
        # tag in the report (the detente extension): a granular language marking would say it in
        # STIX 2.1's words, but the OASIS JSON schema requires marking_ref on every granular
        # marking, so --strict refuses a lang-only one.
        "lang": _primary(report.title.original.lang),
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
    return incident, tlp


def _relationship_object(
    item: LinkEntry, tlp_of: Mapping[str, TLP], created_of: Mapping[str, str]
) -> tuple[dict[str, Any], TLP]:
    """The STIX relationship of one ``(asserted_by, link[, issued])`` entry, marked as strictly as
    the stricter of its two incidents."""
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
    relationship: dict[str, Any] = {
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
    return relationship, marking
