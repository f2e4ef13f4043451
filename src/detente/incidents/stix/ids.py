"""What export and import share: the fixed extension and identity ids, the TLP 2.0 markings, and
the deterministic identifiers (UUIDv5 in UUIDv4 form)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from detente.incidents.model import Category, IncidentLink, Severity
from detente.records.record import TLP

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
