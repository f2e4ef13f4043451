"""The STIX export under both of OASIS's validator profiles, and each text's original language.

``--strict`` (strict, strict_types, strict_properties, enforce_refs; no check disabled) passes on
the export as it is, with the TLP 2.0 marking definitions in the bundle; ``--interop`` passes on
:func:`interop_profile`'s bundle, which leaves out those objects (the profile wants
``created_by_ref`` and ``modified`` on them, and STIX 2.1 defines no ``modified`` on a marking
definition, so no bundle with them passes both). Run offline (the ``offline`` fixture of
test_stix.py blocks sockets and ``requests``)."""

from __future__ import annotations

import copy
import json

import pytest
from test_stix import (
    CN,
    INCIDENTS,
    LINKS,
    OTHER,
    PARTIES,
    US,
    offline,  # noqa: F401  (the fixture)
    report,
    the_incident,
    validate,
)

from detente.incidents.stix import export_bundle, import_bundle
from detente.incidents.stix.export import interop_profile
from detente.records.record import TLP

pytestmark = pytest.mark.usefixtures("offline")

MIXED = report(
    "cn-2026-0042",
    title={"original": {"lang": "zh-Hans", "text": "翻译模型泄露了测试数据"}},
    description={"original": {"lang": "en", "text": "Reported by the lab's English-language desk."}},
)
ENTRIES = [*INCIDENTS, (CN, MIXED, TLP.CLEAR)]


def test_both_profiles_pass() -> None:
    bundle = export_bundle(ENTRIES, LINKS, parties=PARTIES)
    assert validate(bundle) == []
    interop = interop_profile(bundle)
    assert validate(interop) == []
    assert validate(interop, interop=True) == []
    # Only the marking definitions are gone; every object still names its marking by the fixed id.
    assert [o for o in bundle["objects"] if o["type"] != "marking-definition"] == interop["objects"]
    assert interop["id"] != bundle["id"]
    # The profile is not vacuous: an identity without a producer, or an object without one, fails it.
    broken = copy.deepcopy(interop)
    del next(o for o in broken["objects"] if o["type"] == "identity")["created_by_ref"]
    del the_incident(broken, US, INCIDENTS[0][1].incident_id)["created_by_ref"]
    problems = validate(broken, interop=True)
    assert any("created_by_ref is not present in Object" in p for p in problems), problems
    assert any("missing the property created_by_ref" in p for p in problems), problems


def test_the_interop_bundle_imports_with_its_markings() -> None:
    bundle = export_bundle(ENTRIES, LINKS, parties=PARTIES)
    back = import_bundle(json.dumps(interop_profile(bundle)).encode(), default_origin=OTHER)
    assert back.skipped == []
    assert back.incidents == ENTRIES
    assert back.links == LINKS


def test_each_object_carries_its_originals_language() -> None:
    bundle = export_bundle(ENTRIES, LINKS, parties=PARTIES)
    for origin, incident, *_ in ENTRIES:
        obj = the_incident(bundle, origin, incident.incident_id)
        assert (obj["name"], obj["lang"]) == (incident.title.original.text, incident.title.original.lang.split("-")[0])
        assert obj["description"] == incident.description.original.text
        assert "granular_markings" not in obj  # the OASIS schema refuses a lang-only granular marking
    # Another tool's incident whose description is marked in another language (STIX 2.1 §7.2.3):
    # each text keeps its own language on import.
    foreign = copy.deepcopy(the_incident(bundle, CN, MIXED.incident_id))
    del foreign["extensions"]
    foreign["granular_markings"] = [{"lang": "en", "selectors": ["description"]}]
    one = {"type": "bundle", "id": bundle["id"], "objects": [foreign]}
    (_, got, *_) = import_bundle(json.dumps(one).encode(), default_origin=OTHER).incidents[0]
    assert (got.title.original.lang, got.description.original.lang) == ("zh", "en")
    del foreign["granular_markings"]
    (_, plain, *_) = import_bundle(json.dumps(one).encode(), default_origin=OTHER).incidents[0]
    assert (plain.title.original.lang, plain.description.original.lang) == ("zh", "zh")
