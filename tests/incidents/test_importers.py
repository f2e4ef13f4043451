"""The importers over the real public data copied into tests/data (AIID snapshot, avid-db, MITRE
ATLAS): counts, a known incident end to end, taxonomy validity, skipped records, determinism."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from detente.errors import MalformedRecord
from detente.incidents.importers import (
    AIID_VERSION,
    ImportBatch,
    count_records,
    read_aiid,
    read_all,
    read_atlas,
    read_avid,
)
from detente.incidents.model import Category, HarmType, Severity
from detente.incidents.taxonomy import taxonomy_for

DATA = Path(__file__).resolve().parent.parent / "data"
ORIGIN = "us.example/log"
BASES = ("severity_basis", "harm_basis", "category_basis", "ai_relation_basis", "submitter_basis")


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def dumps(batch: ImportBatch) -> tuple[list[str], list[str], list[tuple[str, str, str]]]:
    return (
        [r.model_dump_json() for r in batch.incidents],
        [c.model_dump_json() for c in batch.classifications],
        [(s.source, s.record, s.reason) for s in batch.skipped],
    )


@pytest.fixture(scope="module")
def aiid() -> ImportBatch:
    return read_aiid(DATA / "aiid", ORIGIN)


@pytest.fixture(scope="module")
def avid() -> ImportBatch:
    return read_avid(DATA / "avid", ORIGIN)


@pytest.fixture(scope="module")
def atlas() -> ImportBatch:
    return read_atlas(DATA / "atlas" / "ATLAS.yaml", ORIGIN)


# --- the data is there, with its licences ---------------------------------------------------


def test_the_copied_data_keeps_its_licences() -> None:
    assert "CC BY-SA 4.0" in (DATA / "aiid" / "license.txt").read_text(encoding="utf-8")
    assert "MIT License" in (DATA / "avid" / "LICENSE").read_text(encoding="utf-8")
    assert "Apache" in (DATA / "atlas" / "LICENSE").read_text(encoding="utf-8")
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for commit in (
        "ab4be53f35a8d0e4127209290c289e43411afe65",
        "8eda5f4e6f74a3738eb980b795c4f813c6e52ca8",
        "8ee2c689a7d3c65ddf2bfe4950a4f3ecffa6f48b",
    ):
        assert commit in sources


# --- AIID ----------------------------------------------------------------------------------


def test_every_aiid_incident_is_imported_in_id_order(aiid: ImportBatch) -> None:
    rows = csv_rows(DATA / "aiid" / "incidents.csv")[1:]
    ids = sorted(int(r[1]) for r in rows)
    assert len(rows) == len(set(ids)) == 1367  # the research note's count, checked against the file
    assert (ids[0], ids[-1]) == (1, 1378)
    assert aiid.skipped == []
    assert [r.incident_id for r in aiid.incidents] == [f"aiid-{i}" for i in ids]
    for r in aiid.incidents:
        assert all(key in r.extra for key in BASES), r.incident_id
        assert r.supporting_materials[0] == f"https://incidentdatabase.ai/cite/{r.incident_id[5:]}/"
        assert r.source is not None and r.source.database == "AIID"
    # the report numbers are kept: 5,615 incident-report links in the snapshot (research note §0)
    assert sum(len(r.extra["aiid_reports"]) for r in aiid.incidents) == 5615


def test_aiid_classifications_one_per_csv_row(aiid: ImportBatch) -> None:
    expected = {ns: len(csv_rows(DATA / "aiid" / f"classifications_{ns}.csv")) - 1 for ns in ("CSETv1", "GMF", "MIT")}
    assert expected == {"CSETv1": 214, "GMF": 326, "MIT": 1242}
    assert Counter(c.namespace for c in aiid.classifications) == expected
    assert {c.taxonomy_version for c in aiid.classifications} == {AIID_VERSION}
    # unpublished annotations are imported and say so: 6 CSETv1 rows, 285 GMF rows have Published False
    unpublished = Counter(c.namespace for c in aiid.classifications if c.notes.startswith("not published"))
    assert unpublished == {"CSETv1": 6, "GMF": 285}


def test_a_known_aiid_incident_end_to_end(aiid: ImportBatch) -> None:
    by_id = {r.incident_id: r for r in aiid.incidents}
    shot = by_id["aiid-112"]  # ShotSpotter: CSETv1 says a death, critical services hit, an AI harm event
    assert shot.title.original.text == "Police Departments Reported ShotSpotter as Unreliable and Wasteful"
    assert shot.occurred_at is not None and shot.occurred_at.date().isoformat() == "2012-10-09"
    assert shot.developers == ["shotspotter"] and "chicago-police-department" in shot.deployers
    assert "chicago-residents" in shot.harmed_parties
    assert shot.extra["aiid_reports"][:3] == [2831, 2623, 2496] and len(shot.extra["aiid_reports"]) == 15
    assert shot.critical_infrastructure and shot.deaths == 1 and shot.injuries == 0
    assert shot.countries == ["US"] and shot.sectors == ["law enforcement"]
    assert shot.severity == Severity.HIGH and shot.extra["severity_basis"].startswith("CSETv1 Lives Lost 1")
    assert shot.category == Category.SERIOUS_AI_INCIDENT
    assert HarmType.HEALTH in shot.harm_types and HarmType.CRITICAL_INFRASTRUCTURE in shot.harm_types
    assert shot.supporting_materials == ["https://incidentdatabase.ai/cite/112/"]
    classes = {c.namespace: c for c in aiid.classifications if c.incident.id == "aiid-112"}
    assert sorted(classes) == ["CSETv1", "GMF", "MIT"]
    assert classes["CSETv1"].incident.origin == ORIGIN
    assert classes["CSETv1"].attributes["Impact on Critical Services"] == "yes"
    assert classes["CSETv1"].attributes["Lives Lost"] == 1
    assert classes["GMF"].attributes["Known AI Goal"] == ["Gunshot Detection", "Audio Localization"]
    assert classes["MIT"].attributes["Risk Subdomain"] == "7.3. Lack of capability or robustness"

    first = by_id["aiid-1"]  # no tangible harm, but special-interest intangible harm; MIT 1.2
    assert first.title.original.text == "Google’s YouTube Kids App Presents Inappropriate Content"
    assert first.severity == Severity.MEDIUM and first.harm_types == [HarmType.HUMAN_RIGHTS]
    assert first.category == Category.AI_INCIDENT and "AI Harm Level: none" in first.extra["category_basis"]
    # a value holding ", " stays whole: the export joined list items with ", "
    assert first.sectors == ["Arts, entertainment and recreation", "information and communication"]
    cset1 = next(c for c in aiid.classifications if c.incident.id == "aiid-1" and c.namespace == "CSETv1")
    assert cset1.attributes["Sector of Deployment"] == first.sectors
    assert cset1.attributes["Quality Control"] is False and cset1.attributes["Incident Number"] == 1


def test_cset_columns_are_read_by_position(aiid: ImportBatch) -> None:
    header = csv_rows(DATA / "aiid" / "classifications_CSETv1.csv")[0]
    assert [i for i, name in enumerate(header) if name == "AI System"] == [18, 31]  # DictReader keeps only one
    cset = {c.incident.id: c.attributes for c in aiid.classifications if c.namespace == "CSETv1"}
    assert cset["aiid-3"]["AI System"] == "maybe" and cset["aiid-3"]["Clear link to technology"] == "yes"
    bases = [a["Harm Distribution Basis"] for a in cset.values() if "Harm Distribution Basis" in a]
    assert any("nation of origin, citizenship, immigrant status" in b for b in bases)
    assert "--" not in {a.get("Annotation Status") for a in cset.values()}  # "--" is no value


def test_cset_derivations(aiid: ImportBatch) -> None:
    rows = csv_rows(DATA / "aiid" / "classifications_CSETv1.csv")[1:]
    critical = {f"aiid-{r[1]}" for r in rows if r[23] == "yes"}  # column 23: Impact on Critical Services
    assert len(critical) == 18
    assert {r.incident_id for r in aiid.incidents if r.critical_infrastructure} == critical
    cset_ids = {f"aiid-{r[1]}" for r in rows}
    for r in aiid.incidents:
        if r.incident_id not in cset_ids:
            assert r.severity == Severity.MEDIUM and r.extra["severity_basis"].startswith("default")
            assert r.deaths == r.injuries == 0 and not r.critical_infrastructure
    by_id = {r.incident_id: r for r in aiid.incidents}
    boeing = by_id["aiid-3"]  # 189 lives lost; CSETv1 AI harm level unclear
    assert boeing.severity == Severity.CRITICAL and boeing.deaths == 189
    assert boeing.category == Category.AI_INCIDENT and boeing.countries == ["ID"]
    hazards = [r for r in aiid.incidents if r.category == Category.AI_HAZARD]
    assert len(hazards) == 20 and all(r.incident_id in cset_ids for r in hazards)  # near-misses and issues
    assert Counter(r.severity for r in aiid.incidents) == {
        Severity.MEDIUM: 1296,
        Severity.LOW: 39,
        Severity.HIGH: 26,
        Severity.CRITICAL: 6,
    }
    defaults = [r for r in aiid.incidents if r.extra["harm_basis"].startswith("default")]
    assert len(defaults) == 125  # neither CSETv1 nor MIT classifies them
    assert all(r.harm_types == [HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT] for r in defaults)


def test_malformed_aiid_rows_are_skipped_with_reasons_and_the_rest_imported(tmp_path: Path) -> None:
    folder = tmp_path / "aiid"
    shutil.copytree(DATA / "aiid", folder)
    rows = csv_rows(folder / "incidents.csv")
    by_id = {r[1]: r for r in rows[1:]}
    by_id["23"][3] = "[not json,"  # reports
    by_id["24"][8] = "  "  # title
    by_id["25"][2] = "2019-13-45"  # date
    by_id["26"].append("extra cell")
    write_csv(folder / "incidents.csv", rows)
    cset = csv_rows(folder / "classifications_CSETv1.csv")
    row4 = next(r for r in cset[1:] if r[1] == "4")
    row4[21] = "catastrophic"  # AI Harm Level
    write_csv(folder / "classifications_CSETv1.csv", cset)

    batch = read_aiid(folder, ORIGIN)
    assert len(batch.incidents) == 1367 - 4
    skipped = {s.record.split(" (")[0]: s for s in batch.skipped}
    assert sorted(skipped) == ["incident 23", "incident 24", "incident 25", "incident 26", "incident 4"]
    assert "reports: not a JSON array" in skipped["incident 23"].reason
    assert (
        skipped["incident 24"].reason == "no title; so its CSETv1, GMF, MIT classification(s) were not imported either"
    )
    assert "'2019-13-45' is not a date" in skipped["incident 25"].reason
    assert skipped["incident 26"].reason.startswith("row has 10 cells, the header 9; so its")
    assert skipped["incident 26"].source == "incidents.csv"
    # a skipped incident's classifications are reported with it, not imported on their own
    assert "; so its CSETv1, GMF, MIT classification(s) were not imported" in skipped["incident 23"].reason
    assert not any(c.incident.id in ("aiid-23", "aiid-24") for c in batch.classifications)
    # an unknown taxonomy value skips the classification; the incident stays, with the default severity
    assert skipped["incident 4"].source == "classifications_CSETv1.csv"
    assert "'catastrophic' is not a permitted value" in skipped["incident 4"].reason
    four = next(r for r in batch.incidents if r.incident_id == "aiid-4")
    assert four.severity == Severity.MEDIUM and four.extra["severity_basis"].startswith("default")
    assert not any(c.incident.id == "aiid-4" and c.namespace == "CSETv1" for c in batch.classifications)
    assert any(c.incident.id == "aiid-4" and c.namespace == "MIT" for c in batch.classifications)


def test_a_classification_without_an_incident_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "aiid"
    shutil.copytree(DATA / "aiid", folder)
    rows = csv_rows(folder / "incidents.csv")
    write_csv(folder / "incidents.csv", [r for r in rows if r[1] != "1"])
    batch = read_aiid(folder, ORIGIN)
    assert len(batch.incidents) == 1366
    assert sorted((s.source, s.reason) for s in batch.skipped) == [
        (f"classifications_{ns}.csv", "no incident 1 in incidents.csv") for ns in ("CSETv1", "GMF", "MIT")
    ]


def test_aiid_output_does_not_depend_on_row_order(tmp_path: Path, aiid: ImportBatch) -> None:
    folder = tmp_path / "aiid"
    shutil.copytree(DATA / "aiid", folder)
    for name in ("incidents.csv", "classifications_CSETv1.csv", "classifications_MIT.csv"):
        rows = csv_rows(folder / name)
        write_csv(folder / name, rows[:1] + rows[:0:-1])
    assert dumps(read_aiid(folder, ORIGIN))[:2] == dumps(aiid)[:2]


# --- AVID ----------------------------------------------------------------------------------


def test_every_avid_report_is_imported(avid: ImportBatch) -> None:
    files = sorted((DATA / "avid" / "reports").glob("*/*.json"))
    assert len(files) == len(avid.incidents) == 1745 and avid.skipped == []
    assert [r.incident_id for r in avid.incidents][:2] == ["avid-2022-R0001", "avid-2022-R0002"]
    with_avid = [f for f in files if (json.loads(f.read_text(encoding="utf-8")).get("impact") or {}).get("avid")]
    assert len(avid.classifications) == len(with_avid) == 1642
    assert Counter(c.taxonomy_version for c in avid.classifications) == {"0.2": 1637, "0.1": 5}
    assumed = [c for c in avid.classifications if "states no taxonomy_version" in c.notes]
    assert len(assumed) == 511  # taxonomy_version "" in the report
    assert Counter(r.extra["avid_classof"] for r in avid.incidents) == {
        "CVE Entry": 1098,
        "LLM Evaluation": 550,
        "Third-party Report": 96,
        "": 1,
    }
    assert all(r.category == Category.AI_HAZARD for r in avid.incidents)  # no report is of class AIID Incident
    assert all(all(key in r.extra for key in BASES) for r in avid.incidents)


def test_a_known_avid_report_end_to_end(avid: ImportBatch) -> None:
    by_id = {r.incident_id: r for r in avid.incidents}
    first = by_id["avid-2023-R0001"]
    assert first.title.original.text == "ChatGPT fails to follow lexical constraints"
    assert first.title.original.lang == "en"  # "eng" in the report
    assert first.developers == ["OpenAI"] and first.deployers == ["OpenAI"]
    assert [s.name for s in first.ai_systems] == ["ChatGPT"]
    assert first.submitter == "Allen Roush, Oracle Corporation" and first.extra["submitter_basis"] == "AVID credit"
    assert first.reported_at is not None and first.reported_at.date().isoformat() == "2023-01-13"
    assert first.occurred_at is None  # AVID records when a problem was reported, not when it occurred
    assert first.supporting_materials == [
        "https://www.gwern.net/GPT-3#bpes",
        "https://paperswithcode.com/paper/most-language-models-can-be-poets-too-an-ai",
    ]
    assert first.severity == Severity.MEDIUM and first.extra["severity_basis"].startswith("default")
    (c,) = [c for c in avid.classifications if c.incident.id == "avid-2023-R0001"]
    assert c.attributes == {
        "risk_domain": ["Performance"],
        "sep_view": ["P0204: Accuracy"],
        "lifecycle_view": ["L02: Data Understanding", "L04: Model Development", "L05: Evaluation", "L06: Deployment"],
        "vuln_id": "AVID-2023-V001",
    }
    cve = by_id["avid-2026-R0001"]
    assert cve.severity == Severity.CRITICAL and cve.extra["severity_basis"] == "CVSS 3.1 base severity CRITICAL"
    assert cve.extra["cwe"] == ["CWE-367"] and cve.submitter == "AI Vulnerability Database (AVID)"
    jailbreak = by_id["avid-2026-R0059"]
    assert jailbreak.extra["severity_basis"] == "0DIN social impact score: Level 3: Significant Risk"


def test_avid_names_are_normalised_by_code(avid: ImportBatch) -> None:
    seps = {v for c in avid.classifications for v in c.attributes.get("sep_view", [])}
    assert "P0402: Physical safety" in seps and "P0402: Physical Safety" not in seps
    renamed = [c for c in avid.classifications if "P0402: Physical Safety read as P0402: Physical safety" in c.notes]
    assert len(renamed) == 12
    health = [r for r in avid.incidents if HarmType.HEALTH in r.harm_types]
    assert all("P040" in r.extra["harm_basis"] for r in health) and len(health) == 46


def test_malformed_avid_reports_are_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "avid"
    shutil.copytree(DATA / "avid" / "reports" / "2023", folder / "reports" / "2023")
    shutil.copy(DATA / "avid" / "reports" / "2022" / "AVID-2022-R0001.json", folder / "reports" / "2023")
    reports = folder / "reports" / "2023"

    def edit(name: str, change: Callable[[dict[str, Any]], None]) -> None:
        data = json.loads((reports / name).read_text(encoding="utf-8"))
        change(data)
        (reports / name).write_text(json.dumps(data), encoding="utf-8")

    (reports / "AVID-2023-R0001.json").write_text("{not json", encoding="utf-8")
    edit("AVID-2023-R0002.json", lambda d: d["problemtype"]["description"].update(value=""))
    edit("AVID-2023-R0003.json", lambda d: d["impact"]["avid"].update(sep_view=["X9999: Made up"]))
    edit("AVID-2022-R0001.json", lambda d: d.update(reported_date="last tuesday"))

    batch = read_avid(folder, ORIGIN)
    assert [r.incident_id for r in batch.incidents] == ["avid-2023-R0003"]
    assert batch.classifications == []
    skipped = {s.record: s for s in batch.skipped}
    assert skipped["AVID-2023-R0001"].reason.startswith("not a JSON file")
    assert skipped["AVID-2023-R0001"].source == "reports/2023/AVID-2023-R0001.json"
    assert skipped["AVID-2023-R0002"].reason == "no problemtype.description (the title)"
    assert "'X9999: Made up' is not a permitted value" in skipped["AVID-2023-R0003 AVID classification"].reason
    assert "'last tuesday' is not a date" in skipped["AVID-2022-R0001"].reason
    assert skipped["AVID-2022-R0001"].source == "reports/2023/AVID-2022-R0001.json"


# --- ATLAS ---------------------------------------------------------------------------------


def test_every_atlas_case_study_is_imported(atlas: ImportBatch) -> None:
    data = yaml.safe_load((DATA / "atlas" / "ATLAS.yaml").read_text(encoding="utf-8"))
    assert data["version"] == "5.6.0" and len(data["case-studies"]) == 57
    assert len(atlas.incidents) == len(atlas.classifications) == 57 and atlas.skipped == []
    assert Counter(r.category for r in atlas.incidents) == {Category.AI_INCIDENT: 17, Category.AI_HAZARD: 40}
    assert {c.taxonomy_version for c in atlas.classifications} == {"5.6.0"}
    steps = sum(len(cs["procedure"]) for cs in data["case-studies"])
    assert sum(len(c.attributes["procedure"]) for c in atlas.classifications) == steps == 449


def test_a_known_atlas_case_study_end_to_end(atlas: ImportBatch) -> None:
    cs0 = next(r for r in atlas.incidents if r.incident_id == "atlas-AML.CS0000")
    assert cs0.title.original.text == "Evasion of Deep Learning Detector for Malware C&C Traffic"
    assert cs0.category == Category.AI_HAZARD and cs0.extra["atlas_case_study_type"] == "exercise"
    assert cs0.occurred_at is not None and cs0.occurred_at.year == 2020
    assert cs0.extra["occurred_at_granularity"] == "YEAR"
    assert cs0.supporting_materials == ["https://arxiv.org/abs/1802.03162"]
    assert [s.name for s in cs0.ai_systems] == ["Palo Alto Networks malware detection system"]
    (c,) = [c for c in atlas.classifications if c.incident.id == "atlas-AML.CS0000"]
    assert c.attributes["tactics"] == ["AML.TA0001", "AML.TA0002", "AML.TA0003", "AML.TA0007"]
    assert "Reconnaissance" in c.attributes["tactic_names"] and "Evade AI Model" in c.attributes["technique_names"]
    assert c.attributes["procedure"][0] == "AML.TA0002 Reconnaissance / AML.T0000.001 Pre-Print Repositories"
    harmful = [r for r in atlas.incidents if r.extra["harm_basis"].startswith("ATLAS Impact/Exfiltration")]
    assert len(harmful) == 47


def test_malformed_atlas_case_studies_are_skipped(tmp_path: Path) -> None:
    data = yaml.safe_load((DATA / "atlas" / "ATLAS.yaml").read_text(encoding="utf-8"))
    data["case-studies"][0]["procedure"][1]["technique"] = "AML.T9999"
    data["case-studies"][1]["name"] = ""
    data["case-studies"][2]["case-study-type"] = "rumour"
    path = tmp_path / "ATLAS.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    batch = read_atlas(path, ORIGIN)
    assert len(batch.incidents) == 55 and len(batch.classifications) == 54
    assert [(s.record, s.reason) for s in batch.skipped] == [
        ("AML.CS0000 ATLAS classification", "procedure step 2: unknown ATLAS technique 'AML.T9999'"),
        ("AML.CS0001", "no name (the title)"),
        ("AML.CS0002", "case-study-type 'rumour' is neither incident nor exercise"),
    ]
    with pytest.raises(MalformedRecord, match=r"not a compiled ATLAS\.yaml"):
        read_atlas(DATA / "aiid" / "license.txt", ORIGIN)


# --- all sources -----------------------------------------------------------------------------


def test_every_classification_passes_its_taxonomy(aiid: ImportBatch, avid: ImportBatch, atlas: ImportBatch) -> None:
    for batch in (aiid, avid, atlas):
        ids = {r.incident_id for r in batch.incidents}
        for c in batch.classifications:
            taxonomy_for(c.namespace, c.taxonomy_version).check(c.attributes)
            assert c.incident.origin == ORIGIN and c.incident.id in ids


def test_imports_are_deterministic(aiid: ImportBatch, avid: ImportBatch, atlas: ImportBatch) -> None:
    assert dumps(read_aiid(DATA / "aiid", ORIGIN)) == dumps(aiid)
    assert dumps(read_avid(DATA / "avid", ORIGIN)) == dumps(avid)
    assert dumps(read_atlas(DATA / "atlas" / "ATLAS.yaml", ORIGIN)) == dumps(atlas)


def test_progress_reports_done_and_total() -> None:
    calls: list[tuple[int, int]] = []
    batch = read_all(
        ORIGIN, aiid=DATA / "aiid", atlas=DATA / "atlas" / "ATLAS.yaml", progress=lambda d, t: calls.append((d, t))
    )
    total = count_records("aiid", DATA / "aiid") + count_records("atlas", DATA / "atlas" / "ATLAS.yaml")
    assert total == 1367 + 57 and len(batch.incidents) == total
    assert calls == [(n, total) for n in range(1, total + 1)]
    assert count_records("avid", DATA / "avid") == 1745


def test_a_bad_origin_is_refused() -> None:
    with pytest.raises(MalformedRecord, match="origin"):
        read_atlas(DATA / "atlas" / "ATLAS.yaml", "")


def test_the_taxonomies_hold_the_source_vocabularies() -> None:
    sep = taxonomy_for("AVID", "0.2").field("sep_view")
    assert sep is not None and len(sep.permitted_values) == 48
    assert (sep.permitted_values[0], sep.permitted_values[-1]) == (
        "S0100: Software Vulnerability",
        "P0404: Environmental safety",
    )
    lifecycle = taxonomy_for("AVID", "0.1").field("lifecycle_view")
    assert lifecycle is not None and [v[:3] for v in lifecycle.permitted_values] == [
        "L01",
        "L02",
        "L03",
        "L04",
        "L05",
        "L06",
    ]
    atlas = taxonomy_for("ATLAS", "5.6.0")
    tactics, techniques = atlas.field("tactics"), atlas.field("techniques")
    assert tactics is not None and techniques is not None
    assert (len(tactics.permitted_values), len(techniques.permitted_values)) == (16, 170)
    cset = taxonomy_for("CSETv1", AIID_VERSION)
    assert len(cset.fields) == 61  # 62 CSV columns after the three meta columns, one of them a repeat
    notes = cset.field("AI Tangible Harm Level Notes")
    assert notes is not None and notes.display_type == "text"
    with pytest.raises(MalformedRecord, match="not a permitted value"):
        taxonomy_for("MIT", AIID_VERSION).check({"Risk Domain": "8. Something new"})
    with pytest.raises(MalformedRecord, match="not a permitted value"):
        taxonomy_for("GMF", AIID_VERSION).check({"Known AI Goal": ["Mind Reading"]})
