"""The AI Vulnerability Database: avid-db's ``reports/<year>/AVID-YYYY-RNNNN.json`` (see
:mod:`detente.incidents.importers` for the rules)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from detente.errors import DetenteError, MalformedRecord
from detente.incidents.importers.batch import (
    _DEFAULT_HARM,
    _DEFAULT_SEVERITY,
    ImportBatch,
    Progress,
    Skipped,
    _check_origin,
    _classification,
    _day,
    _reason,
    _report,
    _report_progress,
    _Skip,
    _text,
    _unique,
)
from detente.incidents.model import (
    Category,
    Classification,
    HarmType,
    IncidentReport,
    Severity,
)
from detente.incidents.taxonomy import Taxonomy, taxonomy_for

AVID_DEFAULT_VERSION = "0.2"
"""AVID taxonomy version assumed for reports that do not state one."""

AVID_URL = "https://avidml.org/database/{}/"
_AVID_ID = re.compile(r"AVID-(\d{4})-R(\d+)")
AVID_SEP_HARM: dict[str, HarmType] = {
    "S": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # security: systems and data as property
    "E01": HarmType.HUMAN_RIGHTS,  # bias, discrimination, fairness
    "E02": HarmType.HUMAN_RIGHTS,  # explainability
    "E03": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # user actions, toxicity, polarization: communities
    "E04": HarmType.HUMAN_RIGHTS,  # misinformation (OECD 2024: under (c))
    "P01": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # data issues
    "P02": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # model issues
    "P03": HarmType.HUMAN_RIGHTS,  # privacy
    "P0400": HarmType.HEALTH,  # safety
    "P0401": HarmType.HEALTH,  # psychological safety
    "P0402": HarmType.HEALTH,  # physical safety
    "P0403": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # socioeconomic safety
    "P0404": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # environmental safety
}
"""OECD harm type of an AVID SEP code, by the longest matching prefix of the code."""
_AVID_DOMAIN_HARM = {"Ethics": HarmType.HUMAN_RIGHTS, "Security": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,
                     "Performance": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT}  # fmt: skip
_CVSS = {"NONE": Severity.LOW, "LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH,
         "CRITICAL": Severity.CRITICAL}  # fmt: skip
_ODIN = {1: Severity.LOW, 2: Severity.MEDIUM, 3: Severity.MEDIUM, 4: Severity.HIGH, 5: Severity.CRITICAL}
_LANG3 = {"eng": "en", "zho": "zh", "chi": "zh", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "spa": "es",
          "jpn": "ja", "kor": "ko", "rus": "ru", "por": "pt", "ita": "it", "ara": "ar"}  # fmt: skip


def _avid_files(folder: Path) -> list[Path]:
    reports = folder / "reports"
    if not reports.is_dir():
        raise MalformedRecord(f"{folder} has no reports/ folder", hint="point at a checkout of avidml/avid-db")
    return sorted(reports.rglob("*.json"), key=lambda p: p.relative_to(reports).as_posix())


def _lang(value: Any) -> str:
    tag = str(value or "").strip()
    tag = _LANG3.get(tag.lower(), tag)
    return tag if re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag) else "und"


def read_avid(folder: Path, origin: str, *, progress: Progress | None = None) -> ImportBatch:
    """Every report of an avid-db checkout (``reports/<year>/AVID-YYYY-RNNNN.json``), with its
    AVID classification (risk domains, SEP and lifecycle views, ATLAS mappings)."""
    _check_origin(origin)
    batch = ImportBatch()
    files = _avid_files(folder)
    for done, path in enumerate(files, start=1):
        name = path.relative_to(folder).as_posix()
        record = path.stem
        try:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise _Skip(f"not a JSON file: {exc}") from None
            if not isinstance(data, dict):
                raise _Skip("not a JSON object")
            record = str((data.get("metadata") or {}).get("report_id") or record)
            report = _avid_report(data)
        except (_Skip, DetenteError, AttributeError, TypeError) as exc:
            batch.skipped.append(Skipped(name, record, _reason(exc)))
            _report_progress(progress, done, len(files))
            continue
        batch.incidents.append(report)
        try:
            found = _avid_classification(origin, report.incident_id, data)
        except (DetenteError, AttributeError, TypeError) as exc:
            batch.skipped.append(Skipped(name, f"{record} AVID classification", _reason(exc)))
        else:
            if found is not None:
                batch.classifications.append(found)
        _report_progress(progress, done, len(files))
    return batch


def _avid_report(data: dict[str, Any]) -> IncidentReport:
    report_id = str((data.get("metadata") or {}).get("report_id") or "")
    match = _AVID_ID.fullmatch(report_id)
    if not match:
        raise _Skip(f"metadata.report_id {report_id[:40]!r} is not AVID-YYYY-RNNNN")
    problem = data.get("problemtype") or {}
    extra: dict[str, Any] = {}
    title, lang, description, description_lang = _avid_texts(data, problem, extra)
    classof = str(problem.get("classof") or "").strip()
    kind = str(problem.get("type") or "").strip()
    affects = data.get("affects") or {}
    artifacts = _avid_artifacts(affects)
    impact = data.get("impact") or {}
    avid = impact.get("avid") or {}
    extra.update({"avid_classof": classof, "avid_type": kind, "avid_data_version": str(data.get("data_version") or "")})
    cvss, odin = _avid_impact(impact, avid, artifacts, extra)
    severity, extra["severity_basis"] = _avid_severity(cvss, odin)
    harms, extra["harm_basis"] = _avid_harms(avid)
    category, extra["category_basis"] = _avid_category(classof, kind)
    names = _unique((str(a["name"]) for a in artifacts), 50)
    relation = _avid_relation(classof, kind, names)
    extra["ai_relation_basis"] = "AVID problem type and affected artifacts"
    submitter = _avid_submitter(data, extra)
    extra["licence"] = "MIT (avid-db)"
    page = AVID_URL.format(report_id.lower())
    urls = _avid_urls(data, page, extra)
    truncated: list[str] = []
    texts = {
        "title": _text(title, lang, truncated, "title"),
        "description": _text(description, description_lang, truncated, "description"),
    }
    if truncated:
        extra["truncated"] = truncated
    reported_at = _day(data.get("reported_date"), "reported_date")
    return _report(
        {
            "incident_id": f"avid-{match.group(1)}-R{match.group(2)}",
            "category": category,
            **texts,
            "ai_relation": relation[:4096],
            "submitter": submitter,
            "supporting_materials": urls,
            "severity": severity,
            "harm_types": harms,
            "reported_at": reported_at,
            "ai_systems": [{"name": n} for n in names],
            "developers": _unique((str(x) for x in affects.get("developer") or []), 100),
            "deployers": _unique((str(x) for x in affects.get("deployer") or []), 100),
            "source": {"database": "AVID", "id": report_id, "url": page},
            "extra": extra,
        },
        f"AVID report {report_id}",
    )


def _avid_artifacts(affects: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in affects.get("artifacts") or [] if isinstance(a, dict) and a.get("name")]


def _avid_relation(classof: str, kind: str, names: list[str]) -> str:
    relation = f"AVID {kind or 'report'} ({classof or 'class not stated'})"
    return relation + (f" affecting {', '.join(names)}" if names else "")


def _avid_texts(data: dict[str, Any], problem: dict[str, Any], extra: dict[str, Any]) -> tuple[str, str, str, str]:
    """Title, its language, description, its language (the title when there is no description)."""
    title_text = problem.get("description") or {}
    title = str(title_text.get("value") or "").strip()
    if not title:
        raise _Skip("no problemtype.description (the title)")
    lang = _lang(title_text.get("lang"))
    description_text = data.get("description") or {}
    description = str(description_text.get("value") or "").strip()
    if not description:
        description = title
        extra["description_basis"] = "the title (the report has no description)"
    return title, lang, description, _lang(description_text.get("lang") or lang)


def _avid_impact(
    impact: dict[str, Any], avid: dict[str, Any], artifacts: list[dict[str, Any]], extra: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Records the vulnerability id, artifacts, CVSS, CWE and 0DIN score in ``extra``; returns
    the CVSS and 0DIN parts (what the severity is derived from)."""
    if avid.get("vuln_id"):
        extra["avid_vuln_id"] = str(avid["vuln_id"])
    if artifacts:
        extra["avid_artifacts"] = [{"type": str(a.get("type") or ""), "name": str(a["name"])} for a in artifacts]
    cvss = impact.get("cvss") or {}
    if cvss:
        extra["cvss"] = {k: cvss[k] for k in ("version", "vectorString", "baseScore", "baseSeverity") if k in cvss}
    cwe = [str(c.get("cweId")) for c in impact.get("cwe") or [] if isinstance(c, dict) and c.get("cweId")]
    if cwe:
        extra["cwe"] = cwe
    odin = impact.get("odin") or {}
    if odin:
        extra["odin"] = odin
    return cvss, odin


def _avid_category(classof: str, kind: str) -> tuple[Category, str]:
    if classof == "AIID Incident":
        return Category.AI_INCIDENT, "AVID class AIID Incident"
    return Category.AI_HAZARD, (
        f"AVID class {classof or '(none)'}, type {kind or '(none)'}: a vulnerability, advisory or measurement "
        "that could plausibly lead to an incident (OECD AI hazard)"
    )


def _avid_submitter(data: dict[str, Any], extra: dict[str, Any]) -> str:
    credit = _unique((str(c.get("value")) for c in data.get("credit") or [] if isinstance(c, dict)), 20)
    extra["submitter_basis"] = "AVID credit" if credit else "the source database (the report names no credit)"
    return "; ".join(credit)[:256] if credit else "AI Vulnerability Database (AVID)"


def _avid_urls(data: dict[str, Any], page: str, extra: dict[str, Any]) -> list[str]:
    references = [r for r in data.get("references") or [] if isinstance(r, dict)]
    urls = _unique((str(r.get("url") or "") for r in references), 200, 1024)
    if not urls:
        urls = [page]
        extra["supporting_materials_basis"] = "the AVID page (the report lists no references)"
    return urls


def _avid_severity(cvss: dict[str, Any], odin: dict[str, Any]) -> tuple[Severity, str]:
    base = str(cvss.get("baseSeverity") or "").upper()
    if base in _CVSS:
        return _CVSS[base], f"CVSS {cvss.get('version', '')} base severity {base}".replace("  ", " ")
    level = re.match(r"Level (\d)", str(odin.get("SocialImpactScore") or ""))
    if level and int(level.group(1)) in _ODIN:
        return _ODIN[int(level.group(1))], f"0DIN social impact score: {odin['SocialImpactScore']}"
    return _DEFAULT_SEVERITY, "default (no CVSS or 0DIN score)"


def _avid_harms(avid: dict[str, Any]) -> tuple[list[HarmType], str]:
    harms: list[HarmType] = []
    basis: list[str] = []
    for value in avid.get("sep_view") or []:
        code = str(value).split(":")[0].strip()
        prefix = max((p for p in AVID_SEP_HARM if code.startswith(p)), key=len, default=None)
        if prefix is not None:
            basis.append(f"SEP {code} → {AVID_SEP_HARM[prefix].value}")
            if AVID_SEP_HARM[prefix] not in harms:
                harms.append(AVID_SEP_HARM[prefix])
    if not harms:
        for domain in avid.get("risk_domain") or []:
            if domain in _AVID_DOMAIN_HARM:
                basis.append(f"risk domain {domain} → {_AVID_DOMAIN_HARM[domain].value}")
                if _AVID_DOMAIN_HARM[domain] not in harms:
                    harms.append(_AVID_DOMAIN_HARM[domain])
    if not harms:
        return [_DEFAULT_HARM], "default (OECD (d); no AVID SEP view or risk domain)"
    return sorted(harms, key=list(HarmType).index), "AVID " + "; ".join(basis)


def _avid_classification(origin: str, incident_id: str, data: dict[str, Any]) -> Classification | None:
    impact = data.get("impact") or {}
    avid = impact.get("avid") or {}
    atlas = [a for a in impact.get("atlas") or [] if isinstance(a, dict)]
    if not avid and not atlas:
        return None
    stated = str(avid.get("taxonomy_version") or "").strip()
    version = stated or AVID_DEFAULT_VERSION
    notes: list[str] = [] if stated else [f"the report states no taxonomy_version; AVID {version} assumed"]
    taxonomy = taxonomy_for("AVID", version)
    attributes: dict[str, Any] = {}
    if avid.get("risk_domain"):
        attributes["risk_domain"] = _unique((str(v) for v in avid["risk_domain"]), 10)
    for name in ("sep_view", "lifecycle_view"):
        values = _avid_view(taxonomy, version, name, avid.get(name) or [], notes)
        if values:
            attributes[name] = values
    if avid.get("vuln_id"):
        attributes["vuln_id"] = str(avid["vuln_id"])
    _atlas_mappings(atlas, attributes)
    if not attributes:
        return None
    return _classification(origin, incident_id, "AVID", version, attributes, "; ".join(notes)[:4096])


def _atlas_mappings(atlas: list[dict[str, Any]], attributes: dict[str, Any]) -> None:
    """The report's ``impact.atlas`` tactics and techniques, as AVID attributes."""
    tactics = _unique((str(a.get("tactic") or "") for a in atlas), 50)
    techniques = _unique((str(a.get("technique") or "") for a in atlas), 100)
    if tactics:
        attributes["atlas_tactics"] = tactics
    if techniques:
        attributes["atlas_techniques"] = techniques


def _avid_view(taxonomy: Taxonomy, version: str, name: str, raws: list[Any], notes: list[str]) -> list[str]:
    """A SEP or lifecycle view's values in avidtools' spelling, matched by code; each respelling
    goes to ``notes``; a code the taxonomy does not know is a MalformedRecord."""
    spec = taxonomy.field(name)
    assert spec is not None
    by_code = {v.split(":")[0]: v for v in spec.permitted_values}
    values: list[str] = []
    for raw in raws:
        code = str(raw).split(":")[0].strip()
        if code not in by_code:
            raise MalformedRecord(f"AVID {version} field {name!r}: {str(raw)[:60]!r} is not a permitted value")
        if by_code[code] != str(raw).strip():
            notes.append(f"{raw!s} read as {by_code[code]}")
        if by_code[code] not in values:
            values.append(by_code[code])
    return values
