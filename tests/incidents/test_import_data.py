"""Importers over the real public data copied into tests/data (AIID snapshot, avid-db, ATLAS)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detente.errors import MalformedRecord
from detente.incidents.importers import read_aiid, read_atlas, read_avid
from detente.incidents.taxonomy import taxonomy_for

DATA = Path(__file__).resolve().parent.parent / "data"
ORIGIN = "us.example/log"


@pytest.fixture(scope="module")
def aiid():  # type: ignore[no-untyped-def]
    return read_aiid(DATA / "aiid", ORIGIN)


def test_every_aiid_incident_with_its_reports_and_classifications(aiid) -> None:  # type: ignore[no-untyped-def]
    assert len(aiid.incidents) == 1367 and aiid.skipped == []
    by_ns: dict[str, int] = {}
    for c in aiid.classifications:
        by_ns[c.namespace] = by_ns.get(c.namespace, 0) + 1
        taxonomy_for(c.namespace, c.taxonomy_version).check(c.attributes)  # every one passes its taxonomy
    assert by_ns == {"MIT": 1242, "CSETv1": 214, "GMF": 326}
    first = next(r for r in aiid.incidents if r.incident_id == "aiid-1")
    assert first.title.original.text == "Google’s YouTube Kids App Presents Inappropriate Content"
    assert first.extra["aiid_reports"][:3] == [2, 3, 4] and first.deployers == ["youtube"]
    assert first.harmed_parties == ["children"] and first.occurred_at is not None and first.occurred_at.year == 2015
    assert first.supporting_materials == ["https://incidentdatabase.ai/cite/1/"]
    assert sum(r.critical_infrastructure for r in aiid.incidents) == 18  # CSETv1 "Impact on Critical Services" = yes
    assert all("severity_basis" in r.extra and "harm_basis" in r.extra for r in aiid.incidents)


def test_imports_are_deterministic(aiid) -> None:  # type: ignore[no-untyped-def]
    again = read_aiid(DATA / "aiid", ORIGIN)
    assert [r.model_dump_json() for r in again.incidents] == [r.model_dump_json() for r in aiid.incidents]


def test_a_malformed_row_is_skipped_with_its_reason_and_the_rest_imported(tmp_path: Path) -> None:
    folder = tmp_path / "aiid"
    shutil.copytree(DATA / "aiid", folder)
    lines = (folder / "incidents.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines) if line.split(",")[1] == "23")
    lines[target] = lines[target].replace('"[242,', '"[not json,', 1)
    (folder / "incidents.csv").write_text("".join(lines), encoding="utf-8")
    batch = read_aiid(folder, ORIGIN)
    assert len(batch.incidents) == 1366
    (skip,) = batch.skipped
    assert skip.record.startswith("incident 23") and "not a JSON array" in skip.reason


def test_avid_and_atlas() -> None:
    avid = read_avid(DATA / "avid", ORIGIN)
    files = list((DATA / "avid" / "reports").glob("*/*.json"))
    assert len(avid.incidents) == len(files) == 1745 and avid.skipped == []
    first = next(r for r in avid.incidents if r.incident_id == "avid-2023-R0001")
    assert first.title.original.text == "ChatGPT fails to follow lexical constraints" and first.developers == ["OpenAI"]
    atlas = read_atlas(DATA / "atlas" / "ATLAS.yaml", ORIGIN)
    assert len(atlas.incidents) == 57 and len(atlas.classifications) == 57
    assert sum(r.category == "ai-incident" for r in atlas.incidents) == 17  # 17 incidents, 40 exercises
    cs0 = next(c for c in atlas.classifications if c.incident.id == "atlas-AML.CS0000")
    assert "AML.TA0002" in cs0.attributes["tactics"]
    with pytest.raises(MalformedRecord, match=r"not a compiled ATLAS\.yaml"):
        read_atlas(DATA / "aiid" / "license.txt", ORIGIN)


def test_unknown_taxonomy_values_are_refused() -> None:
    with pytest.raises(MalformedRecord, match="not a permitted value"):
        taxonomy_for("MIT", "aiid-2026.02").check({"Risk Domain": "8. Something new"})
