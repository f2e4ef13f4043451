"""Importers for public incident data: the AI Incident Database snapshot (CSV), the AI
Vulnerability Database (JSON reports) and MITRE ATLAS case studies (YAML). Pure: files in,
incident reports and classifications out, plus what was skipped and why. Deterministic.

The sources lack some fields the OECD framework makes mandatory (severity, harm types). Those
are derived by fixed rules from the source's own classifications where it has them (CSETv1 harm
level, lives lost, injuries and critical services; the MIT risk domain; AVID risk domains and
CVSS severity) and otherwise set to a stated default; every report says which in
``extra["severity_basis"]`` and ``extra["harm_basis"]``, so nothing derived passes as sourced.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.errors import DetenteError, MalformedRecord
from detente.incidents.model import Classification, HarmType, IncidentKey, IncidentReport
from detente.incidents.taxonomy import taxonomy_for

__all__ = ["ImportBatch", "Skipped", "read_aiid", "read_atlas", "read_avid"]

AIID_VERSION = "aiid-2026.02"
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Skipped:
    source: str
    record: str
    reason: str


@dataclass
class ImportBatch:
    incidents: list[IncidentReport] = field(default_factory=list)
    classifications: list[Classification] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _text(value: str, lang: str = "en") -> dict[str, Any]:
    return {"original": {"lang": lang, "text": value.strip()[:16_000]}}


def _day(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    if isinstance(value, str) and value.strip():
        return datetime.fromisoformat(value.strip()[:10]).replace(tzinfo=UTC).isoformat()
    return None


def _report(data: dict[str, Any], where: str) -> IncidentReport:
    try:
        return IncidentReport.model_validate(data)
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, where)) from None


def _classify(origin: str, incident_id: str, namespace: str, version: str, attrs: dict[str, Any]) -> Classification:
    attrs = {k: v for k, v in attrs.items() if v not in ("", [], None)}
    taxonomy_for(namespace, version).check(attrs)
    return Classification(
        incident=IncidentKey(origin=origin, id=incident_id),
        namespace=namespace,
        taxonomy_version=version,
        attributes=attrs,
    )


# --- AIID -----------------------------------------------------------------------------------

_MIT_HARM = {
    "1": HarmType.HUMAN_RIGHTS,  # discrimination and toxicity
    "2": HarmType.HUMAN_RIGHTS,  # privacy and security
    "3": HarmType.HUMAN_RIGHTS,  # misinformation (OECD: under (c))
    "4": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # malicious actors and misuse
    "5": HarmType.HEALTH,  # human-computer interaction (overreliance, psychological harm)
    "6": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # socioeconomic and environmental
    "7": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # AI system safety, failures and limitations
}
_CSET_ENUMS = ("Harm Domain", "Tangible Harm", "AI Harm Level", "Impact on Critical Services", "Rights Violation",
               "Involving Minor", "Detrimental Content", "Protected Characteristic", "Special Interest Intangible Harm",
               "Public Sector Deployment", "Autonomy Level", "Intentional Harm", "Estimated Date",
               "Multiple AI Interaction", "Embedded")  # fmt: skip
_CSET_STRINGS = ("Location Country (two letters)", "Location Region", "Date of Incident Year", "Physical System Type",
                 "AI Task", "AI tools and methods", "Harm Distribution Basis")  # fmt: skip
_GMF = ("Known AI Goal", "Potential AI Goal", "Known AI Technology", "Potential AI Technology",
        "Known AI Technical Failure", "Potential AI Technical Failure")  # fmt: skip


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise MalformedRecord(f"{path} is empty")
    return rows[0], rows[1:]


def _by_position(header: list[str]) -> dict[str, int]:
    """Column index by name, first occurrence (classifications_CSETv1.csv repeats 'AI System')."""
    out: dict[str, int] = {}
    for i, name in enumerate(header):
        out.setdefault(name, i)
    return out


def _int(value: str) -> int:
    value = value.strip()
    return int(value) if value.isdigit() else 0


def read_aiid(folder: Path, origin: str, *, progress: Progress | None = None) -> ImportBatch:
    """Every incident of the AIID snapshot's ``incidents.csv`` with its report numbers and
    entities, and its CSETv1, GMF and MIT classifications."""
    batch = ImportBatch()
    header, rows = _csv(folder / "incidents.csv")
    col = _by_position(header)
    cset: dict[str, dict[str, str]] = {}
    mit: dict[str, dict[str, str]] = {}
    gmf: dict[str, dict[str, str]] = {}
    for name, table in (("classifications_CSETv1.csv", cset), ("classifications_MIT.csv", mit),
                        ("classifications_GMF.csv", gmf)):  # fmt: skip
        if (folder / name).exists():
            h, data = _csv(folder / name)
            pos = _by_position(h)
            for r in data:
                if len(r) == len(h):
                    table[r[pos["Incident ID"]]] = {k: r[i] for k, i in pos.items()}
    for n, r in enumerate(
        sorted(rows, key=lambda r: int(r[col["incident_id"]]) if r[col["incident_id"]].isdigit() else 0)
    ):
        ident = r[col["incident_id"]] if len(r) > col["incident_id"] else "?"
        try:
            if len(r) != len(header):
                raise MalformedRecord(f"row has {len(r)} cells, the header {len(header)}")
            report = _aiid_report(r, col, cset.get(ident), mit.get(ident))
            batch.incidents.append(report)
            batch.classifications += _aiid_classes(
                origin, report.incident_id, cset.get(ident), mit.get(ident), gmf.get(ident), batch, ident
            )
        except (DetenteError, ValueError) as exc:
            message = exc.message if isinstance(exc, DetenteError) else str(exc)
            batch.skipped.append(Skipped("incidents.csv", f"incident {ident} (row {n + 2})", message))
        if progress is not None:
            progress(1)
    return batch


def _aiid_report(
    r: list[str], col: dict[str, int], cset: dict[str, str] | None, mit: dict[str, str] | None
) -> IncidentReport:
    ident = r[col["incident_id"]]
    if not ident.isdigit():
        raise MalformedRecord(f"incident_id {ident!r} is not a number")
    lists = {}
    for name in ("reports", "Alleged deployer of AI system", "Alleged developer of AI system",
                 "Alleged harmed or nearly harmed parties"):  # fmt: skip
        try:
            value = json.loads(r[col[name]] or "[]")
        except ValueError:
            raise MalformedRecord(f"{name}: not a JSON array: {r[col[name]][:60]!r}") from None
        if not isinstance(value, list):
            raise MalformedRecord(f"{name}: not a JSON array")
        lists[name] = value
    title = r[col["title"]].strip()
    if not title:
        raise MalformedRecord("no title")
    extra: dict[str, Any] = {"aiid_reports": [int(x) for x in lists["reports"]]}
    harms: set[HarmType] = set()
    severity, category = "medium", "ai-incident"
    deaths = injuries = 0
    critical = False
    sectors: list[str] = []
    countries: list[str] = []
    if mit and mit.get("Risk Domain"):
        harms.add(_MIT_HARM.get(mit["Risk Domain"].split(".")[0], HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT))
    if cset:
        deaths, injuries = _int(cset.get("Lives Lost", "")), _int(cset.get("Injuries", ""))
        critical = cset.get("Impact on Critical Services") == "yes"
        level = cset.get("AI Harm Level", "")
        if deaths:
            severity = "critical"
        elif injuries or level == "AI tangible harm event":
            severity = "high"
        elif level in ("AI tangible harm issue", "none"):
            severity = "low"
        if level in ("AI tangible harm near-miss", "AI tangible harm issue"):
            category = "ai-hazard"
        if deaths or (critical and level == "AI tangible harm event"):
            category = "serious-ai-incident"
        if deaths or injuries:
            harms.add(HarmType.HEALTH)
        if critical:
            harms.add(HarmType.CRITICAL_INFRASTRUCTURE)
        sectors = [s.strip() for s in cset.get("Infrastructure Sectors", "").split(",") if s.strip()]
        country = cset.get("Location Country (two letters)", "").strip().upper()
        countries = [country] if len(country) == 2 and country.isalpha() else []
        extra["severity_basis"] = "CSETv1 (lives lost, injuries, AI harm level)"
    else:
        extra["severity_basis"] = "default (no CSETv1 classification)"
    if category == "ai-hazard" and (deaths or injuries):
        category = "ai-incident"
    extra["harm_basis"] = "MIT risk domain / CSETv1" if harms else "default (not classified)"
    extra["category_basis"] = "CSETv1 AI harm level" if cset else "AIID definition (alleged harm event)"
    deployers, developers = lists["Alleged deployer of AI system"], lists["Alleged developer of AI system"]
    relation = "implicated per the AIID editors"
    if developers or deployers:
        relation += f"; alleged developer: {', '.join(developers) or 'unknown'}"
        relation += f"; alleged deployer: {', '.join(deployers) or 'unknown'}"
    return _report(
        {
            "incident_id": f"aiid-{ident}",
            "category": category,
            "title": _text(title),
            "description": _text(r[col["description"]] or title),
            "ai_relation": relation[:4096],
            "submitter": "AI Incident Database (Responsible AI Collaborative)",
            "supporting_materials": [f"https://incidentdatabase.ai/cite/{ident}/"],
            "severity": severity,
            "harm_types": sorted(harms) or ["property-communities-environment"],
            "occurred_at": _day(r[col["date"]]),
            "countries": countries,
            "developers": [str(x)[:200] for x in developers][:100],
            "deployers": [str(x)[:200] for x in deployers][:100],
            "harmed_parties": [str(x)[:200] for x in lists["Alleged harmed or nearly harmed parties"]][:100],
            "sectors": sectors,
            "critical_infrastructure": critical,
            "deaths": deaths,
            "injuries": injuries,
            "source": {"database": "AIID", "id": ident, "url": f"https://incidentdatabase.ai/cite/{ident}/"},
            "extra": extra,
        },
        f"AIID incident {ident}",
    )


def _aiid_classes(
    origin: str,
    incident_id: str,
    cset: dict[str, str] | None,
    mit: dict[str, str] | None,
    gmf: dict[str, str] | None,
    batch: ImportBatch,
    ident: str,
) -> list[Classification]:
    out = []
    candidates: list[tuple[str, str, dict[str, Any]]] = []
    if mit:
        candidates.append(("classifications_MIT.csv", "MIT", {k: mit.get(k, "") for k in
                           ("Risk Domain", "Risk Subdomain", "Entity", "Timing", "Intent")}))  # fmt: skip
    if cset:
        attrs: dict[str, Any] = {k: cset.get(k, "") for k in _CSET_ENUMS + _CSET_STRINGS}
        attrs["Infrastructure Sectors"] = [
            s.strip() for s in cset.get("Infrastructure Sectors", "").split(",") if s.strip()
        ]
        attrs["Sector of Deployment"] = [
            s.strip() for s in cset.get("Sector of Deployment", "").split(",") if s.strip()
        ]
        attrs["Lives Lost"], attrs["Injuries"] = _int(cset.get("Lives Lost", "")), _int(cset.get("Injuries", ""))
        candidates.append(("classifications_CSETv1.csv", "CSETv1", attrs))
    if gmf:
        gattrs = {k: [s.strip() for s in gmf.get(k, "").split(",") if s.strip()] for k in _GMF}
        candidates.append(("classifications_GMF.csv", "GMF", gattrs))
    for source, namespace, values in candidates:
        try:
            out.append(_classify(origin, incident_id, namespace, AIID_VERSION, values))
        except DetenteError as exc:
            batch.skipped.append(Skipped(source, f"incident {ident}", exc.message))
    return out


# --- AVID -----------------------------------------------------------------------------------

_AVID_HARM = {"Security": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT, "Ethics": HarmType.HUMAN_RIGHTS,
              "Performance": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT}  # fmt: skip


def _avid_files(folder: Path) -> Iterator[Path]:
    yield from sorted((folder / "reports").glob("*/*.json"))


def read_avid(folder: Path, origin: str, *, progress: Progress | None = None) -> ImportBatch:
    """Every report of an avid-db checkout (``reports/<year>/AVID-…-R….json``), with its AVID
    classification (risk domains, SEP and lifecycle views, ATLAS techniques)."""
    batch = ImportBatch()
    for path in _avid_files(folder):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            report, attrs, version = _avid_report(data)
            batch.incidents.append(report)
            if any(attrs.values()):
                try:
                    batch.classifications.append(_classify(origin, report.incident_id, "AVID", version, attrs))
                except DetenteError as exc:
                    batch.skipped.append(Skipped(path.name, f"classification of {report.incident_id}", exc.message))
        except (DetenteError, ValueError, KeyError, TypeError, AttributeError) as exc:
            message = exc.message if isinstance(exc, DetenteError) else f"{exc.__class__.__name__}: {exc}"
            batch.skipped.append(Skipped(f"reports/{path.parent.name}/{path.name}", path.stem, message))
        if progress is not None:
            progress(1)
    return batch


def _avid_report(data: dict[str, Any]) -> tuple[IncidentReport, dict[str, Any], str]:
    report_id = str(data["metadata"]["report_id"])
    problem = data.get("problemtype") or {}
    title = str((problem.get("description") or {}).get("value") or "").strip()
    if not title:
        raise MalformedRecord("no problem description (title)")
    description = str((data.get("description") or {}).get("value") or "").strip() or title
    affects = data.get("affects") or {}
    impact = data.get("impact") or {}
    avid = impact.get("avid") or {}
    cvss = impact.get("cvss") or {}
    severity = str(cvss.get("baseSeverity") or "").lower()
    extra: dict[str, Any] = {"avid_classof": problem.get("classof"), "avid_type": problem.get("type")}
    if severity in ("low", "medium", "high", "critical"):
        extra["severity_basis"] = "CVSS base severity"
    else:
        severity, extra["severity_basis"] = "medium", "default (no CVSS score)"
    harms = sorted({_AVID_HARM[d] for d in avid.get("risk_domain") or [] if d in _AVID_HARM})
    extra["harm_basis"] = "AVID risk domain" if harms else "default (no risk domain)"
    refs = [str(r["url"]) for r in data.get("references") or [] if r.get("url")][:50]
    credit = ", ".join(str(c.get("value")) for c in data.get("credit") or [] if c.get("value"))
    report = _report(
        {
            "incident_id": "avid-" + report_id.removeprefix("AVID-"),
            "category": "ai-incident" if problem.get("classof") == "AIID Incident" else "ai-hazard",
            "title": _text(title),
            "description": _text(description),
            "ai_relation": f"{problem.get('classof') or 'AVID report'}: {problem.get('type') or 'issue'} in the system",
            "submitter": (credit or "AI Vulnerability Database")[:256],
            "supporting_materials": refs or [f"https://avidml.org/database/{report_id}"],
            "severity": severity,
            "harm_types": harms or ["property-communities-environment"],
            "occurred_at": _day(data.get("reported_date")),
            "ai_systems": [{"name": str(a.get("name"))[:256]} for a in affects.get("artifacts") or [] if a.get("name")][
                :50
            ],
            "developers": [str(x)[:200] for x in affects.get("developer") or []][:100],
            "deployers": [str(x)[:200] for x in affects.get("deployer") or []][:100],
            "source": {"database": "AVID", "id": report_id, "url": f"https://avidml.org/database/{report_id}"},
            "extra": extra,
        },
        f"AVID report {report_id}",
    )
    attrs: dict[str, Any] = {k: list(avid.get(k) or []) for k in ("risk_domain", "sep_view", "lifecycle_view")}
    techniques = [
        str(a.get("technique")) for a in impact.get("atlas") or [] if isinstance(a, dict) and a.get("technique")
    ]
    attrs["atlas_techniques"] = techniques
    return report, attrs, str(avid.get("taxonomy_version") or "0.2")


# --- MITRE ATLAS ----------------------------------------------------------------------------


def read_atlas(path: Path, origin: str, *, progress: Progress | None = None) -> ImportBatch:
    """Every case study of ATLAS's compiled ``ATLAS.yaml``, classified by the tactics and
    techniques of its procedure."""
    batch = ImportBatch()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MalformedRecord(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or "case-studies" not in data:
        raise MalformedRecord(
            f"{path} is not a compiled ATLAS.yaml", hint="use dist/ATLAS.yaml from mitre-atlas/atlas-data"
        )
    version = str(data.get("version"))
    for study in data["case-studies"]:
        ident = str(study.get("id", "?"))
        try:
            kind = study.get("case-study-type", "incident")
            refs = [str(r["url"]) for r in study.get("references") or [] if isinstance(r, dict) and r.get("url")][:50]
            report = _report(
                {
                    "incident_id": f"atlas-{ident}",
                    "category": "ai-incident" if kind == "incident" else "ai-hazard",
                    "title": _text(str(study["name"])),
                    "description": _text(str(study.get("summary") or study["name"])),
                    "ai_relation": f"target: {study.get('target') or 'an AI system'}; actor: {study.get('actor')}",
                    "submitter": str(study.get("reporter") or "MITRE ATLAS")[:256],
                    "supporting_materials": refs or [f"https://atlas.mitre.org/studies/{ident}"],
                    "severity": "medium",
                    "harm_types": ["property-communities-environment"],
                    "occurred_at": _day(study.get("incident-date")),
                    "source": {"database": "ATLAS", "id": ident, "url": f"https://atlas.mitre.org/studies/{ident}"},
                    "extra": {
                        "severity_basis": "default (ATLAS has no severity)",
                        "harm_basis": "default (ATLAS has no harm type)",
                        "atlas_case_study_type": kind,
                    },
                },
                f"ATLAS case study {ident}",
            )
            batch.incidents.append(report)
            procedure = study.get("procedure") or []
            attrs = {
                "tactics": sorted({str(s["tactic"]) for s in procedure if s.get("tactic")}),
                "techniques": sorted({str(s["technique"]) for s in procedure if s.get("technique")}),
                "case_study_type": kind,
            }
            batch.classifications.append(_classify(origin, report.incident_id, "ATLAS", version, attrs))
        except (DetenteError, KeyError, TypeError, ValueError) as exc:
            message = exc.message if isinstance(exc, DetenteError) else f"{exc.__class__.__name__}: {exc}"
            batch.skipped.append(Skipped("ATLAS.yaml", ident, message))
        if progress is not None:
            progress(1)
    return batch
