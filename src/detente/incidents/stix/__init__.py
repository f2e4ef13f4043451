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

from detente.incidents.stix.export import IncidentEntry, LinkEntry, export_bundle
from detente.incidents.stix.ids import DETENTE_EXTENSION, INCIDENT_CORE, TLP_EXTENSION, TLP_MARKINGS
from detente.incidents.stix.marking import within_tlp
from detente.incidents.stix.reader import StixImport, import_bundle

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
    "within_tlp",
]
