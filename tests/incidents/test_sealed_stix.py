"""TLP 2.0 at the STIX export's entry (issue #24): an incident goes into a bundle only if its
reader may read its marking, and a link only if both its ends do (pure)."""

from __future__ import annotations

from detente.incidents.model import IncidentKey, IncidentLink, IncidentReport, LinkRelation
from detente.incidents.stix import export_bundle, within_tlp
from detente.node.sealing import READERS
from detente.records.record import TLP

US = "us.example/log"


def _report(incident_id: str, text: str) -> IncidentReport:
    return IncidentReport.model_validate({
        "incident_id": incident_id, "category": "ai-incident", "ai_relation": "model output",
        "title": {"original": {"lang": "en", "text": text}}, "submitter": "duty officer",
        "description": {"original": {"lang": "en", "text": text}}, "supporting_materials": ["https://example.org"],
        "severity": "low", "harm_types": ["society"],
    })  # fmt: skip


def test_what_a_role_may_not_read_is_left_out_with_its_links() -> None:
    incidents = [(US, _report("a", "open one"), TLP.CLEAR), (US, _report("b", "amber secret"), TLP.AMBER),
                 (US, _report("c", "red secret"), TLP.RED)]  # fmt: skip
    links = [(US, IncidentLink(source=IncidentKey(origin=US, id=s), target=IncidentKey(origin=US, id=t),
                               relation=LinkRelation.RELATED_TO)) for s, t in (("a", "b"), ("b", "c"))]  # fmt: skip
    everyone = frozenset({"viewer", "officer", "admin"})
    for role, kept_ids, kept_links in (("viewer", {"a", "b"}, 1), ("officer", {"a", "b", "c"}, 2)):
        kept, joined = within_tlp(incidents, links, lambda t, r=role: r in READERS.get(t, everyone))
        assert {e[1].incident_id for e in kept} == kept_ids and len(joined) == kept_links
        bundle = str(export_bundle(kept, joined))
        assert ("red secret" in bundle) == (role == "officer") and "amber secret" in bundle
