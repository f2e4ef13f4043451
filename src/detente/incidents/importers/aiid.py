"""The AI Incident Database snapshot (CSV): ``incidents.csv`` and the CSETv1, GMF and MIT
classification CSVs (see :mod:`detente.incidents.importers` for the rules)."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
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
    HarmType,
    IncidentReport,
    Severity,
)
from detente.incidents.taxonomy import DisplayType, Taxonomy, taxonomy_for

AIID_VERSION = "aiid-2026.02"
"""Taxonomy version of the AIID's CSETv1, GMF and MIT classifications: the AIID snapshot of
February 2026 (its taxa definitions and the values its classification CSVs use)."""

AIID_CITE = "https://incidentdatabase.ai/cite/{}/"
_AIID_COLUMNS = (
    "incident_id",
    "date",
    "reports",
    "Alleged deployer of AI system",
    "Alleged developer of AI system",
    "Alleged harmed or nearly harmed parties",
    "description",
    "title",
)
_AIID_TABLES = (("CSETv1", "classifications_CSETv1.csv"), ("GMF", "classifications_GMF.csv"),
                ("MIT", "classifications_MIT.csv"))  # fmt: skip
_META_COLUMNS = ("Namespace", "Incident ID", "Published")
_NO_VALUE = {"", "--"}

MIT_HARM: dict[str, HarmType] = {
    "1": HarmType.HUMAN_RIGHTS,  # discrimination and toxicity
    "2": HarmType.HUMAN_RIGHTS,  # privacy and security
    "2.2": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # AI system security vulnerabilities and attacks
    "3": HarmType.HUMAN_RIGHTS,  # misinformation (OECD 2024: under (c))
    "4": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # malicious actors and misuse
    "4.1": HarmType.HUMAN_RIGHTS,  # disinformation, surveillance and influence at scale
    "5": HarmType.HUMAN_RIGHTS,  # human-computer interaction
    "5.1": HarmType.HEALTH,  # overreliance and unsafe use
    "6": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # socioeconomic and environmental harms
    "7": HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT,  # AI system safety, failures and limitations
}
"""OECD harm type of an MIT risk subdomain (``"5.1"``), else of its domain (``"5"``)."""

_CSET_DEFINITE = "tangible harm definitively occurred"
_CSET_NEAR_MISS = "imminent risk of tangible harm (near miss) did occur"
_CSET_LOW = ("non-imminent risk of tangible harm (an issue) occurred", "no tangible harm, near-miss, or issue")


@dataclass(frozen=True, slots=True)
class _Row:
    """A validated classification row of an AIID classification CSV."""

    namespace: str
    source: str
    line: int
    attributes: dict[str, Any]
    published: bool


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (row number, cells) pairs; the header is row 1."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MalformedRecord(f"cannot read {path}: {exc}") from None
    if not rows:
        raise MalformedRecord(f"{path} is empty")
    return rows[0], [(n + 2, r) for n, r in enumerate(rows[1:]) if r]


def _first_columns(header: list[str]) -> dict[str, int]:
    """Column index by name, first occurrence (classifications_CSETv1.csv repeats 'AI System')."""
    out: dict[str, int] = {}
    for i, name in enumerate(header):
        out.setdefault(name.strip(), i)
    return out


def _split_multi(cell: str, permitted: tuple[str, ...]) -> list[str]:
    """Undo the AIID export's ``", ".join``: permitted values longest first, so values that
    themselves hold ", " stay whole; anything else up to the next ", " is one (unknown) value."""
    options = sorted(permitted, key=len, reverse=True)
    out: list[str] = []
    rest = cell
    while rest:
        for option in options:
            if rest == option or rest.startswith(option + ", "):
                out.append(option)
                rest = rest[len(option) + 2 :]
                break
        else:
            head, _, rest = rest.partition(", ")
            if head.strip():
                out.append(head.strip())
    return out


def _cell_value(taxonomy: Taxonomy, name: str, cell: str) -> Any:
    """The typed value of a classification CSV cell, or None for no value."""
    spec = taxonomy.field(name)
    assert spec is not None
    kind = spec.display_type
    if kind in (DisplayType.TEXT, DisplayType.STRING, DisplayType.DATE):
        value = cell.strip()
        return None if value in _NO_VALUE else value
    value = cell.strip()
    if value in _NO_VALUE:
        return None
    if kind == DisplayType.ENUM:
        return value
    if kind == DisplayType.MULTI:
        return _split_multi(value, spec.permitted_values) or None
    if kind == DisplayType.LIST:
        return [v.strip() for v in value.split(", ") if v.strip()] or None
    if kind == DisplayType.BOOL:
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise MalformedRecord(f"{taxonomy.namespace} field {name!r}: {value[:40]!r} is not True or False")
    if kind == DisplayType.INT:
        if value.isdigit():
            return int(value)
        raise MalformedRecord(f"{taxonomy.namespace} field {name!r}: {value[:40]!r} is not a whole number")
    return value  # pragma: no cover - every display type is handled above


def _aiid_table(folder: Path, namespace: str, filename: str, batch: ImportBatch) -> dict[str, _Row]:
    """The valid rows of one classification CSV by incident id; the rest go to ``batch.skipped``."""
    path = folder / filename
    if not path.exists():
        return {}
    taxonomy = taxonomy_for(namespace, AIID_VERSION)
    header, rows = _read_csv(path)
    columns = _first_columns(header)
    missing = [c for c in _META_COLUMNS if c not in columns]
    if missing:
        raise MalformedRecord(f"{path} has no column {', '.join(missing)}", hint="is it an AIID snapshot CSV?")
    fields = [(name, i) for name, i in columns.items() if name not in _META_COLUMNS and taxonomy.field(name)]
    for name in sorted(set(columns) - set(_META_COLUMNS) - {n for n, _ in fields}):
        batch.skipped.append(Skipped(filename, f"column {name!r}", f"not a field of {namespace} {AIID_VERSION}"))
    out: dict[str, _Row] = {}
    for line, cells in rows:
        ident = cells[columns["Incident ID"]].strip() if len(cells) > columns["Incident ID"] else "?"
        where = f"incident {ident} (row {line})"
        try:
            if len(cells) != len(header):
                raise _Skip(f"row has {len(cells)} cells, the header {len(header)}")
            if not ident.isdigit():
                raise _Skip(f"Incident ID {ident[:40]!r} is not a number")
            if cells[columns["Namespace"]].strip() != namespace:
                raise _Skip(f"namespace {cells[columns['Namespace']][:40]!r} is not {namespace}")
            if ident in out:
                raise _Skip(f"a second {namespace} classification of incident {ident} (first: row {out[ident].line})")
            attributes: dict[str, Any] = {}
            for name, i in fields:
                value = _cell_value(taxonomy, name, cells[i])
                if value is not None:
                    attributes[name] = value
            if not attributes:
                raise _Skip("no attribute values")
            taxonomy.check(attributes)
        except (_Skip, DetenteError) as exc:
            batch.skipped.append(Skipped(filename, where, _reason(exc)))
            continue
        published = cells[columns["Published"]].strip().lower() == "true"
        out[ident] = _Row(namespace, filename, line, attributes, published)
    return out


def read_aiid(folder: Path, origin: str, *, progress: Progress | None = None) -> ImportBatch:
    """Every incident of an AIID snapshot folder's ``incidents.csv`` with its report numbers,
    entities and date, and its CSETv1, GMF and MIT classifications (by ``origin``)."""
    _check_origin(origin)
    batch = ImportBatch()
    header, rows = _read_csv(folder / "incidents.csv")
    columns = _first_columns(header)
    missing = [c for c in _AIID_COLUMNS if c not in columns]
    if missing:
        raise MalformedRecord(
            f"{folder / 'incidents.csv'} has no column {', '.join(missing)}", hint="is it an AIID snapshot?"
        )
    tables = {ns: _aiid_table(folder, ns, name, batch) for ns, name in _AIID_TABLES}
    id_column = columns["incident_id"]

    def order(item: tuple[int, list[str]]) -> tuple[int, int, str, int]:
        line, cells = item
        ident = cells[id_column].strip() if len(cells) > id_column else ""
        return (0, int(ident), "", line) if ident.isdigit() else (1, 0, ident, line)

    seen: set[str] = set()
    total = len(rows)
    for done, (line, cells) in enumerate(sorted(rows, key=order), start=1):
        ident = cells[id_column].strip() if len(cells) > id_column else "?"
        try:
            report, rows_for = _aiid_row(ident, cells, header, columns, tables, seen)
        except (_Skip, DetenteError) as exc:
            reason = _orphan_reason(_reason(exc), ident, tables, seen)
            batch.skipped.append(Skipped("incidents.csv", f"incident {ident} (row {line})", reason))
            _report_progress(progress, done, total)
            continue
        seen.add(ident)
        batch.incidents.append(report)
        _aiid_classifications(batch, origin, report, ident, rows_for, tables)
        _report_progress(progress, done, total)
    for table in tables.values():
        for ident, row in sorted(table.items(), key=lambda kv: int(kv[0])):
            batch.skipped.append(
                Skipped(row.source, f"incident {ident} (row {row.line})", f"no incident {ident} in incidents.csv")
            )
    return batch


def _aiid_row(
    ident: str,
    cells: list[str],
    header: list[str],
    columns: dict[str, int],
    tables: dict[str, dict[str, _Row]],
    seen: set[str],
) -> tuple[IncidentReport, dict[str, _Row]]:
    """One row of incidents.csv as a report, with its classification rows (``_Skip`` if malformed)."""
    if len(cells) != len(header):
        raise _Skip(f"row has {len(cells)} cells, the header {len(header)}")
    if not ident.isdigit():
        raise _Skip(f"incident_id {ident[:40]!r} is not a number")
    if ident in seen:
        raise _Skip(f"incident {ident} appears twice")
    rows_for = {ns: t[ident] for ns, t in tables.items() if ident in t}
    return _aiid_report(ident, cells, columns, rows_for), rows_for


def _orphan_reason(reason: str, ident: str, tables: dict[str, dict[str, _Row]], seen: set[str]) -> str:
    """A skipped incident's classifications are dropped with it, and the reason says so."""
    orphans = sorted(ns for ns, t in tables.items() if ident in t)
    if orphans and ident not in seen:
        reason += f"; so its {', '.join(orphans)} classification(s) were not imported either"
        for ns in orphans:
            del tables[ns][ident]
    return reason


def _aiid_classifications(
    batch: ImportBatch,
    origin: str,
    report: IncidentReport,
    ident: str,
    rows_for: dict[str, _Row],
    tables: dict[str, dict[str, _Row]],
) -> None:
    for ns in sorted(rows_for):
        row = tables[ns].pop(ident)
        note = "" if row.published else "not published by the AIID (Published is False in the snapshot)"
        try:
            found = _classification(origin, report.incident_id, ns, AIID_VERSION, row.attributes, note)
        except DetenteError as exc:
            batch.skipped.append(Skipped(row.source, f"incident {ident} (row {row.line})", exc.message))
        else:
            batch.classifications.append(found)


def _json_list(cells: list[str], columns: dict[str, int], name: str, kind: type) -> list[Any]:
    raw = cells[columns[name]].strip()
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        raise _Skip(f"{name}: not a JSON array: {raw[:60]!r}") from None
    if not isinstance(value, list):
        raise _Skip(f"{name}: not a JSON array: {raw[:60]!r}")
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise _Skip(f"{name}: not a JSON array of {'numbers' if kind is int else 'strings'}: {raw[:60]!r}")
    return value


def _aiid_report(ident: str, cells: list[str], columns: dict[str, int], rows: dict[str, _Row]) -> IncidentReport:
    reports = _json_list(cells, columns, "reports", int)
    deployers = _json_list(cells, columns, "Alleged deployer of AI system", str)
    developers = _json_list(cells, columns, "Alleged developer of AI system", str)
    harmed = _json_list(cells, columns, "Alleged harmed or nearly harmed parties", str)
    title = cells[columns["title"]].strip()
    if not title:
        raise _Skip("no title")
    occurred = _day(cells[columns["date"]], "date")
    if occurred is None:
        raise _Skip("no date")
    description = cells[columns["description"]].strip()
    truncated: list[str] = []
    extra: dict[str, Any] = {"aiid_reports": reports}
    object_id = re.fullmatch(r"ObjectId\(([0-9a-f]{24})\)", cells[columns["_id"]].strip()) if "_id" in columns else None
    if object_id:
        extra["aiid_object_id"] = object_id.group(1)
    if not description:
        description = title
        extra["description_basis"] = "the title (incidents.csv has no description)"

    cset = rows["CSETv1"].attributes if "CSETv1" in rows else None
    mit = rows["MIT"].attributes if "MIT" in rows else None
    severity, extra["severity_basis"] = _aiid_severity(cset)
    harms, extra["harm_basis"] = _aiid_harms(cset, mit)
    category, extra["category_basis"] = _aiid_category(cset)
    relation, extra["ai_relation_basis"] = _aiid_relation(developers, deployers, cset, mit)
    extra["submitter_basis"] = "the source database (incidents.csv names no submitter)"
    extra["licence"] = "CC BY-SA 4.0 (AI Incident Database)"

    countries: list[str] = []
    sectors: list[str] = []
    deaths = injuries = 0
    critical = False
    if cset is not None:
        country = str(cset.get("Location Country (two letters)", ""))
        if len(country) == 2 and country.isalpha() and country.isupper():
            countries = [country]
        sectors = _unique(
            (
                s
                for key in ("Infrastructure Sectors", "Sector of Deployment")
                for s in cset.get(key, [])
                if s != "unclear"
            ),
            50,
            128,
        )
        if sectors:
            extra["sectors_basis"] = "CSETv1 Infrastructure Sectors and Sector of Deployment"
        deaths, injuries = int(cset.get("Lives Lost", 0)), int(cset.get("Injuries", 0))
        critical = cset.get("Impact on Critical Services") == "yes"
    texts = {
        "title": _text(title, "en", truncated, "title"),
        "description": _text(description, "en", truncated, "description"),
    }
    if truncated:
        extra["truncated"] = truncated
    cite = AIID_CITE.format(ident)
    return _report(
        {
            "incident_id": f"aiid-{ident}",
            "category": category,
            **texts,
            "ai_relation": relation,
            "submitter": "AI Incident Database (Responsible AI Collaborative)",
            "supporting_materials": [cite],
            "severity": severity,
            "harm_types": harms,
            "occurred_at": occurred,
            "countries": countries,
            "developers": _unique(developers, 100),
            "deployers": _unique(deployers, 100),
            "harmed_parties": _unique(harmed, 100),
            "sectors": sectors,
            "critical_infrastructure": critical,
            "deaths": deaths,
            "injuries": injuries,
            "source": {"database": "AIID", "id": ident, "url": cite},
            "extra": extra,
        },
        f"AIID incident {ident}",
    )


def _aiid_severity(cset: dict[str, Any] | None) -> tuple[Severity, str]:
    if cset is None:
        return _DEFAULT_SEVERITY, "default (no CSETv1 classification)"
    lives, injuries = int(cset.get("Lives Lost", 0)), int(cset.get("Injuries", 0))
    tangible = cset.get("Tangible Harm", "")
    if lives >= 10 or injuries >= 100:
        return Severity.CRITICAL, f"CSETv1 Lives Lost {lives}, Injuries {injuries} (≥ 10 deaths or ≥ 100 injuries)"
    if lives or injuries:
        return Severity.HIGH, f"CSETv1 Lives Lost {lives}, Injuries {injuries} (a death or injury)"
    if tangible == _CSET_DEFINITE and cset.get("Impact on Critical Services") == "yes":
        return Severity.HIGH, "CSETv1 Tangible Harm definitively occurred, Impact on Critical Services yes"
    if tangible in (_CSET_DEFINITE, _CSET_NEAR_MISS):
        return Severity.MEDIUM, f"CSETv1 Tangible Harm: {tangible}"
    if tangible in _CSET_LOW:
        intangible = [k for k in ("Rights Violation", "Special Interest Intangible Harm") if cset.get(k) == "yes"]
        if intangible:
            return Severity.MEDIUM, f"CSETv1 Tangible Harm: {tangible}; {' and '.join(intangible)} yes"
        return Severity.LOW, f"CSETv1 Tangible Harm: {tangible}"
    return _DEFAULT_SEVERITY, f"default (CSETv1 Tangible Harm: {tangible or 'blank'})"


def _aiid_harms(cset: dict[str, Any] | None, mit: dict[str, Any] | None) -> tuple[list[HarmType], str]:
    harms: list[HarmType] = []
    basis: list[str] = []

    def add(harm: HarmType, why: str) -> None:
        basis.append(f"{why} → {harm.value}")
        if harm not in harms:
            harms.append(harm)

    if cset is not None:
        if cset.get("Lives Lost", 0) or cset.get("Injuries", 0):
            add(HarmType.HEALTH, "CSETv1 Lives Lost/Injuries")
        if cset.get("Impact on Critical Services") == "yes":
            add(HarmType.CRITICAL_INFRASTRUCTURE, "CSETv1 Impact on Critical Services yes")
        rights = [k for k in ("Rights Violation", "Protected Characteristic") if cset.get(k) == "yes"]
        if rights:
            add(HarmType.HUMAN_RIGHTS, f"CSETv1 {' and '.join(rights)} yes")
        if cset.get("Tangible Harm") == _CSET_DEFINITE and not (
            {HarmType.HEALTH, HarmType.CRITICAL_INFRASTRUCTURE} & set(harms)
        ):
            add(HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT, "CSETv1 other tangible harm")
    if mit is not None:
        code = str(mit.get("Risk Subdomain") or mit.get("Risk Domain") or "").split(" ")[0].rstrip(".")
        harm = MIT_HARM.get(code) or MIT_HARM.get(code.split(".")[0])
        if harm is not None:
            add(harm, f"MIT risk {'subdomain' if '.' in code else 'domain'} {code}")
    if not harms:
        return [_DEFAULT_HARM], "default (OECD (d); no CSETv1 or MIT classification says otherwise)"
    return sorted(harms, key=list(HarmType).index), "; ".join(basis)


def _aiid_category(cset: dict[str, Any] | None) -> tuple[Category, str]:
    listing = "AIID listing: an alleged harm or near-harm event in which an AI system is implicated"
    if cset is None:
        return Category.AI_INCIDENT, listing
    level = cset.get("AI Harm Level", "")
    lives, injuries = int(cset.get("Lives Lost", 0)), int(cset.get("Injuries", 0))
    if level == "AI tangible harm event":
        if lives or injuries >= 100:
            return (
                Category.SERIOUS_AI_INCIDENT,
                f"CSETv1 AI Harm Level: {level}; Lives Lost {lives}, Injuries {injuries}",
            )
        return Category.AI_INCIDENT, f"CSETv1 AI Harm Level: {level}"
    if level in ("AI tangible harm near-miss", "AI tangible harm issue"):
        if lives or injuries:  # the model: a hazard has caused no death or injury
            return Category.AI_INCIDENT, f"CSETv1 AI Harm Level: {level}, but deaths or injuries recorded"
        return Category.AI_HAZARD, f"CSETv1 AI Harm Level: {level} (OECD: near misses are hazards)"
    return Category.AI_INCIDENT, f"{listing} (CSETv1 AI Harm Level: {level or 'blank'})"


def _aiid_relation(
    developers: list[str], deployers: list[str], cset: dict[str, Any] | None, mit: dict[str, Any] | None
) -> tuple[str, str]:
    parts = ["listed by the AI Incident Database as implicating an AI system"]
    basis = ["AIID listing"]
    if developers or deployers:
        parts.append(f"alleged developer: {', '.join(developers) or 'not named'}")
        parts.append(f"alleged deployer: {', '.join(deployers) or 'not named'}")
        basis.append("alleged developer/deployer (incidents.csv)")
    if cset is not None and cset.get("AI System Description"):
        parts.append(f"AI system (CSETv1): {str(cset['AI System Description'])[:1500]}")
        basis.append("CSETv1 AI System Description")
    if mit is not None and any(mit.get(k) for k in ("Entity", "Intent", "Timing")):
        causes = ", ".join(f"{k.lower()} {mit[k]}" for k in ("Entity", "Intent", "Timing") if mit.get(k))
        parts.append(f"MIT causal taxonomy: {causes}")
        basis.append("MIT Entity/Intent/Timing")
    return "; ".join(parts)[:4096], ", ".join(basis)
