"""MITRE ATLAS case studies from the compiled ``ATLAS.yaml`` (see :mod:`detente.incidents.importers`
for the rules)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

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
    IncidentReport,
)

ATLAS_URL = "https://atlas.mitre.org/studies/{}"
_ATLAS_ID = re.compile(r"AML\.CS\d{4,}")
_ATLAS_HARM_TACTICS = {"AML.TA0010": "Exfiltration", "AML.TA0011": "Impact"}


def _atlas_file(path: Path) -> tuple[dict[str, Any], list[Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MalformedRecord(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("case-studies"), list):
        raise MalformedRecord(
            f"{path} is not a compiled ATLAS.yaml (no top-level case-studies)",
            hint="use dist/ATLAS.yaml from mitre-atlas/atlas-data",
        )
    return data, data["case-studies"]


def read_atlas(path: Path, origin: str, *, progress: Progress | None = None) -> ImportBatch:
    """Every case study of ATLAS's compiled ``ATLAS.yaml``, classified by the tactics and
    techniques of its procedure (ATLAS taxonomy of the file's version)."""
    _check_origin(origin)
    batch = ImportBatch()
    data, studies = _atlas_file(path)
    version = str(data.get("version") or "")
    tactics: dict[str, str] = {}
    techniques: dict[str, dict[str, Any]] = {}
    for matrix in data.get("matrices") or []:
        for t in matrix.get("tactics") or []:
            tactics[str(t["id"])] = str(t["name"])
        for t in matrix.get("techniques") or []:
            techniques[str(t["id"])] = t
    source = path.name
    for done, study in enumerate(studies, start=1):
        ident = str(study.get("id", "?")) if isinstance(study, dict) else "?"
        try:
            if not isinstance(study, dict):
                raise _Skip("not a mapping")
            report = _atlas_report(study, ident, tactics)
        except (_Skip, DetenteError) as exc:
            batch.skipped.append(Skipped(source, ident, _reason(exc)))
            _report_progress(progress, done, len(studies))
            continue
        batch.incidents.append(report)
        try:
            batch.classifications.append(
                _atlas_classification(origin, report.incident_id, study, version, tactics, techniques)
            )
        except (_Skip, DetenteError) as exc:
            batch.skipped.append(Skipped(source, f"{ident} ATLAS classification", _reason(exc)))
        _report_progress(progress, done, len(studies))
    return batch


def _atlas_report(study: dict[str, Any], ident: str, tactics: dict[str, str]) -> IncidentReport:
    name, kind = _atlas_check(study, ident)
    truncated: list[str] = []
    summary = str(study.get("summary") or "").strip()
    extra: dict[str, Any] = {"atlas_case_study_type": kind}
    if not summary:
        summary = name
        extra["description_basis"] = "the name (the case study has no summary)"
    occurred = _day(study.get("incident-date"), "incident-date")
    if study.get("incident-date-granularity"):
        extra["occurred_at_granularity"] = str(study["incident-date-granularity"])
    extra["severity_basis"] = "default (ATLAS grades no severity)"
    extra["harm_basis"] = _atlas_harm_basis(study)
    if kind == "incident":
        extra["category_basis"] = "ATLAS case-study type incident (a real-world attack)"
    else:
        extra["category_basis"] = "ATLAS case-study type exercise (a demonstration of what could plausibly happen)"
    target = str(study.get("target") or "").strip()
    actor = str(study.get("actor") or "").strip()
    extra["ai_relation_basis"] = "ATLAS target and actor"
    reporter = str(study.get("reporter") or "").strip()
    extra["submitter_basis"] = (
        "ATLAS reporter" if reporter else "the source database (the case study names no reporter)"
    )
    extra["licence"] = "Apache-2.0 (MITRE ATLAS)"
    page = ATLAS_URL.format(ident)
    urls = _atlas_urls(study, page, extra)
    texts = {
        "title": _text(name, "en", truncated, "title"),
        "description": _text(summary, "en", truncated, "description"),
    }
    if truncated:
        extra["truncated"] = truncated
    return _report(
        {
            "incident_id": f"atlas-{ident}",
            "category": Category.AI_INCIDENT if kind == "incident" else Category.AI_HAZARD,
            **texts,
            "ai_relation": f"target: {target or 'not named'}; actor: {actor or 'not named'}"[:4096],
            "submitter": (reporter or "MITRE ATLAS")[:256],
            "supporting_materials": urls,
            "severity": _DEFAULT_SEVERITY,
            "harm_types": [_DEFAULT_HARM],
            "occurred_at": occurred,
            "ai_systems": [{"name": target[:256]}] if target else [],
            "source": {"database": "ATLAS", "id": ident, "url": page},
            "extra": extra,
        },
        f"ATLAS case study {ident}",
    )


def _atlas_check(study: dict[str, Any], ident: str) -> tuple[str, str]:
    """The case study's name and type (``_Skip`` without an ATLAS id, a name, or a known type)."""
    if not _ATLAS_ID.fullmatch(ident):
        raise _Skip(f"id {ident[:40]!r} is not AML.CSnnnn")
    name = str(study.get("name") or "").strip()
    if not name:
        raise _Skip("no name (the title)")
    kind = str(study.get("case-study-type") or "")
    if kind not in ("incident", "exercise"):
        raise _Skip(f"case-study-type {kind[:40]!r} is neither incident nor exercise")
    return name, kind


def _atlas_harm_basis(study: dict[str, Any]) -> str:
    steps = [s for s in study.get("procedure") or [] if isinstance(s, dict)]
    harmful = _unique(
        (str(s.get("technique")) for s in steps if str(s.get("tactic")) in _ATLAS_HARM_TACTICS and s.get("technique")),
        50,
    )
    if harmful:
        return (
            f"ATLAS Impact/Exfiltration technique(s) {', '.join(harmful)}: harm to property or communities (OECD (d))"
        )
    return "default (OECD (d); the procedure has no Impact or Exfiltration step)"


def _atlas_urls(study: dict[str, Any], page: str, extra: dict[str, Any]) -> list[str]:
    references = [r for r in study.get("references") or [] if isinstance(r, dict)]
    urls = _unique((str(r.get("url") or "") for r in references), 200, 1024)
    if not urls:
        urls = [page]
        extra["supporting_materials_basis"] = "the ATLAS page (the case study lists no references)"
    return urls


def _atlas_classification(
    origin: str,
    incident_id: str,
    study: dict[str, Any],
    version: str,
    tactics: dict[str, str],
    techniques: dict[str, dict[str, Any]],
) -> Classification:
    used_tactics: list[str] = []
    used_techniques: list[str] = []
    procedure: list[str] = []
    for n, step in enumerate(study.get("procedure") or [], start=1):
        if not isinstance(step, dict):
            raise _Skip(f"procedure step {n} is not a mapping")
        tactic, technique = str(step.get("tactic") or ""), str(step.get("technique") or "")
        if tactic not in tactics:
            raise _Skip(f"procedure step {n}: unknown ATLAS tactic {tactic[:40]!r}")
        if technique not in techniques:
            raise _Skip(f"procedure step {n}: unknown ATLAS technique {technique[:40]!r}")
        procedure.append(f"{tactic} {tactics[tactic]} / {technique} {techniques[technique]['name']}")
        used_tactics.append(tactic)
        used_techniques.append(technique)
    attributes: dict[str, Any] = {"case_study_type": str(study.get("case-study-type"))}
    if procedure:
        attributes["tactics"] = sorted(set(used_tactics))
        attributes["tactic_names"] = sorted({tactics[t] for t in used_tactics})
        attributes["techniques"] = sorted(set(used_techniques))
        attributes["technique_names"] = sorted({str(techniques[t]["name"]) for t in used_techniques})
        attributes["procedure"] = procedure
    return _classification(origin, incident_id, "ATLAS", version, attributes)
