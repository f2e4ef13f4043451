"""Importers for public incident data: the AI Incident Database snapshot (CSV), the AI
Vulnerability Database (JSON reports) and MITRE ATLAS case studies (compiled YAML).

Pure: files in, :class:`ImportBatch` out (incident reports, classifications, and what was
skipped and why). No database, no network. Deterministic: the same files give the same batch in
the same order (incidents by source id; each incident's classifications by namespace).

A malformed record (a bad JSON cell, no title, a bad date, a value its taxonomy does not permit,
a row with the wrong number of cells) is skipped with its reason; the rest imports. Classifications
are checked against their built-in taxonomy (``taxonomy_for(namespace, version).check``) before
they are returned.

Sources
-------
* AIID (``read_aiid``): ``incidents.csv`` (one incident per row; list cells are JSON arrays; rows
  unsorted) and ``classifications_CSETv1.csv``, ``classifications_GMF.csv``,
  ``classifications_MIT.csv`` (namespaces CSETv1, GMF, MIT; taxonomy version
  :data:`AIID_VERSION`, which names the February 2026 snapshot whose taxa these files follow).
  Classification CSVs are read by column position, first occurrence of a name:
  ``classifications_CSETv1.csv`` repeats ``AI System`` (both columns carry the same value, as the
  AIID stores attributes by short name). List values are split back the way the AIID's export
  joined them (``", "``), matching the taxonomy's permitted values longest first, so
  ``"Arts, entertainment and recreation"`` stays one sector. ``--`` and blank cells are "no value".
  A classification the AIID has not published is imported with ``notes`` saying so.
  ``submissions.csv`` is ignored: its rows are unreviewed submissions with no incident id.
* AVID (``read_avid``): every ``reports/<year>/AVID-YYYY-RNNNN.json``. AVID classification from
  ``impact.avid`` (risk domain, SEP and lifecycle views, vulnerability id) and ``impact.atlas``;
  SEP and lifecycle names are normalised by their code to avidtools' spelling. Reports that do not
  state ``taxonomy_version`` are classified under AVID 0.2 (the latest any report states), and the
  classification's notes say so.
* ATLAS (``read_atlas``): every entry of the compiled ``ATLAS.yaml``'s top-level ``case-studies``;
  each procedure step's tactic and technique are resolved against the file's own matrix (ids and
  names) and classified under the ATLAS taxonomy of the file's ``version``.

Derived fields
--------------
The OECD framework's mandatory fields that a source lacks are derived by the fixed rules below;
``extra`` records the basis of each (``severity_basis``, ``harm_basis``, ``category_basis``,
``ai_relation_basis``, ``submitter_basis``), so nothing derived passes as sourced.

* Severity. AIID, from CSETv1 when classified: Lives Lost ≥ 10 or Injuries ≥ 100 → critical;
  any death or injury → high; Tangible Harm "definitively occurred" with Impact on Critical
  Services "yes" → high; tangible harm definitively occurred, or an imminent risk (near miss) →
  medium; an issue or no tangible harm → medium when Rights Violation or Special Interest
  Intangible Harm is "yes", else low; otherwise (unclear, blank, or no CSETv1) the default,
  medium. AVID: the CVSS base severity (NONE → low); else the 0DIN social impact level (1 → low,
  2–3 → medium, 4 → high, 5 → critical); else medium. ATLAS: medium (ATLAS grades nothing).
* Harm types (OECD (a)–(d)). AIID: CSETv1 deaths or injuries → health; Impact on Critical
  Services "yes" → critical-infrastructure; Rights Violation or Protected Characteristic "yes" →
  human-rights; other definite tangible harm → property-communities-environment; and the MIT risk
  subdomain by :data:`MIT_HARM` (e.g. 3.x misinformation → human-rights, as the OECD places
  mis- and disinformation under (c); 5.1 overreliance → health). AVID: the SEP codes by
  :data:`AVID_SEP_HARM`, else the risk domain (Ethics → human-rights, else property). ATLAS: the
  Impact and Exfiltration techniques (financial, reputational, user and societal harm, denial of
  service, data theft) are harms to property or communities. Without any of these:
  property-communities-environment (OECD (d)), marked as the default.
* Category (OECD 2024). AIID: CSETv1 AI Harm Level "AI tangible harm event" → AI incident, or a
  serious AI incident with a death or ≥ 100 injuries; "near-miss" or "issue" → AI hazard (OECD
  counts near misses as hazards); otherwise the AIID's own listing → AI incident. AVID: "AIID
  Incident" reports → AI incident; vulnerabilities, advisories and measurements → AI hazard.
  ATLAS: case-study type ``incident`` → AI incident, ``exercise`` → AI hazard.
* How the AI system is related: the source's alleged developers and deployers (AIID), the CSETv1
  AI system description and the MIT causal classification; the AVID problem type and affected
  artifacts; the ATLAS target and actor. Submitter: the report's credit or reporter where the
  source names one, else the source database.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.errors import DetenteError, MalformedRecord
from detente.incidents.model import (
    Category,
    Classification,
    HarmType,
    IncidentKey,
    IncidentReport,
    Severity,
)
from detente.incidents.taxonomy import DisplayType, Taxonomy, taxonomy_for

__all__ = [
    "AIID_VERSION",
    "AVID_DEFAULT_VERSION",
    "AVID_SEP_HARM",
    "MIT_HARM",
    "READERS",
    "ImportBatch",
    "Progress",
    "Skipped",
    "count_records",
    "read_aiid",
    "read_all",
    "read_atlas",
    "read_avid",
]

AIID_VERSION = "aiid-2026.02"
"""Taxonomy version of the AIID's CSETv1, GMF and MIT classifications: the AIID snapshot of
February 2026 (its taxa definitions and the values its classification CSVs use)."""
AVID_DEFAULT_VERSION = "0.2"
"""AVID taxonomy version assumed for reports that do not state one."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each source record (row, file or case study)."""

_DEFAULT_SEVERITY = Severity.MEDIUM
_DEFAULT_HARM = HarmType.PROPERTY_COMMUNITIES_ENVIRONMENT
_MAX_TEXT = 16_000


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source record (or part of one) that was not imported."""

    source: str  # file, relative to the folder read (e.g. incidents.csv, reports/2023/AVID-2023-R0001.json)
    record: str  # e.g. "incident 23 (row 24)", "AVID-2023-R0001", "AML.CS0000"
    reason: str


@dataclass
class ImportBatch:
    incidents: list[IncidentReport] = field(default_factory=list)
    classifications: list[Classification] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def extend(self, other: ImportBatch) -> None:
        self.incidents += other.incidents
        self.classifications += other.classifications
        self.skipped += other.skipped


class _Skip(Exception):
    """A record to skip, with its reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(exc: Exception) -> str:
    if isinstance(exc, _Skip):
        return exc.reason
    if isinstance(exc, DetenteError):
        return exc.message
    return f"{exc.__class__.__name__}: {exc}"


# --- shared helpers ---------------------------------------------------------------------------


def _text(value: str, lang: str, truncated: list[str], name: str) -> dict[str, Any]:
    value = value.strip()
    if len(value) > _MAX_TEXT:
        value = value[:_MAX_TEXT]
        truncated.append(name)
    return {"original": {"lang": lang, "text": value}}


def _report(data: dict[str, Any], where: str) -> IncidentReport:
    try:
        return IncidentReport.model_validate(data)
    except ValidationError as exc:
        raise _Skip(describe_validation_error(exc, where)) from None


def _classification(
    origin: str, incident_id: str, namespace: str, version: str, attributes: dict[str, Any], notes: str = ""
) -> Classification:
    """A classification checked against its built-in taxonomy (raises MalformedRecord)."""
    if not attributes:
        raise MalformedRecord(f"{namespace}: no attribute values")
    taxonomy_for(namespace, version).check(attributes)
    try:
        return Classification(
            incident=IncidentKey(origin=origin, id=incident_id),
            namespace=namespace,
            taxonomy_version=version,
            attributes=attributes,
            notes=notes,
        )
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, f"{namespace} classification")) from None


def _day(value: Any, what: str) -> datetime | None:
    """A date (or date-time) as midnight UTC of that day; None for no value; _Skip if malformed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        day = date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise _Skip(f"{what}: {str(value)[:40]!r} is not a date (YYYY-MM-DD)") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _unique(values: Iterable[str], limit: int, width: int = 256) -> list[str]:
    out: list[str] = []
    for v in values:
        v = v.strip()[:width]
        if v and v not in out:
            out.append(v)
    return out[:limit]


def _check_origin(origin: str) -> None:
    try:
        IncidentKey(origin=origin, id="check")
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, "importing party's origin")) from None


def _report_progress(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


# --- AIID -------------------------------------------------------------------------------------

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


def count_records(source: str, path: Path) -> int:
    """How many source records (the progress total) ``READERS[source]`` will visit at ``path``."""
    if source == "aiid":
        return len(_read_csv(path / "incidents.csv")[1])
    if source == "avid":
        return len(_avid_files(path))
    if source == "atlas":
        return len(_atlas_file(path)[1])
    raise MalformedRecord(f"unknown source {source!r}", hint="one of aiid, avid, atlas")


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
            if len(cells) != len(header):
                raise _Skip(f"row has {len(cells)} cells, the header {len(header)}")
            if not ident.isdigit():
                raise _Skip(f"incident_id {ident[:40]!r} is not a number")
            if ident in seen:
                raise _Skip(f"incident {ident} appears twice")
            rows_for = {ns: t[ident] for ns, t in tables.items() if ident in t}
            report = _aiid_report(ident, cells, columns, rows_for)
        except (_Skip, DetenteError) as exc:
            reason = _reason(exc)
            orphans = sorted(ns for ns, t in tables.items() if ident in t)
            if orphans and ident not in seen:
                reason += f"; so its {', '.join(orphans)} classification(s) were not imported either"
                for ns in orphans:
                    del tables[ns][ident]
            batch.skipped.append(Skipped("incidents.csv", f"incident {ident} (row {line})", reason))
            _report_progress(progress, done, total)
            continue
        seen.add(ident)
        batch.incidents.append(report)
        for ns in sorted(rows_for):
            row = tables[ns].pop(ident)
            note = "" if row.published else "not published by the AIID (Published is False in the snapshot)"
            try:
                found = _classification(origin, report.incident_id, ns, AIID_VERSION, row.attributes, note)
            except DetenteError as exc:
                batch.skipped.append(Skipped(row.source, f"incident {ident} (row {row.line})", exc.message))
            else:
                batch.classifications.append(found)
        _report_progress(progress, done, total)
    for table in tables.values():
        for ident, row in sorted(table.items(), key=lambda kv: int(kv[0])):
            batch.skipped.append(
                Skipped(row.source, f"incident {ident} (row {row.line})", f"no incident {ident} in incidents.csv")
            )
    return batch


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


# --- AVID -------------------------------------------------------------------------------------

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
    title_text = problem.get("description") or {}
    title = str(title_text.get("value") or "").strip()
    if not title:
        raise _Skip("no problemtype.description (the title)")
    lang = _lang(title_text.get("lang"))
    truncated: list[str] = []
    description_text = data.get("description") or {}
    description = str(description_text.get("value") or "").strip()
    extra: dict[str, Any] = {}
    if not description:
        description = title
        extra["description_basis"] = "the title (the report has no description)"
    classof = str(problem.get("classof") or "").strip()
    kind = str(problem.get("type") or "").strip()
    affects = data.get("affects") or {}
    artifacts = [a for a in affects.get("artifacts") or [] if isinstance(a, dict) and a.get("name")]
    impact = data.get("impact") or {}
    avid = impact.get("avid") or {}
    extra.update({"avid_classof": classof, "avid_type": kind, "avid_data_version": str(data.get("data_version") or "")})
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
    severity, extra["severity_basis"] = _avid_severity(cvss, odin)
    harms, extra["harm_basis"] = _avid_harms(avid)
    if classof == "AIID Incident":
        category, extra["category_basis"] = Category.AI_INCIDENT, "AVID class AIID Incident"
    else:
        category = Category.AI_HAZARD
        extra["category_basis"] = (
            f"AVID class {classof or '(none)'}, type {kind or '(none)'}: a vulnerability, advisory or measurement "
            "that could plausibly lead to an incident (OECD AI hazard)"
        )
    names = _unique((str(a["name"]) for a in artifacts), 50)
    relation = f"AVID {kind or 'report'} ({classof or 'class not stated'})"
    relation += f" affecting {', '.join(names)}" if names else ""
    extra["ai_relation_basis"] = "AVID problem type and affected artifacts"
    credit = _unique((str(c.get("value")) for c in data.get("credit") or [] if isinstance(c, dict)), 20)
    submitter = "; ".join(credit)[:256] if credit else "AI Vulnerability Database (AVID)"
    extra["submitter_basis"] = "AVID credit" if credit else "the source database (the report names no credit)"
    extra["licence"] = "MIT (avid-db)"
    references = [r for r in data.get("references") or [] if isinstance(r, dict)]
    urls = _unique((str(r.get("url") or "") for r in references), 200, 1024)
    page = AVID_URL.format(report_id.lower())
    if not urls:
        urls = [page]
        extra["supporting_materials_basis"] = "the AVID page (the report lists no references)"
    texts = {
        "title": _text(title, lang, truncated, "title"),
        "description": _text(description, _lang(description_text.get("lang") or lang), truncated, "description"),
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
        spec = taxonomy.field(name)
        assert spec is not None
        by_code = {v.split(":")[0]: v for v in spec.permitted_values}
        values: list[str] = []
        for raw in avid.get(name) or []:
            code = str(raw).split(":")[0].strip()
            if code not in by_code:
                raise MalformedRecord(f"AVID {version} field {name!r}: {str(raw)[:60]!r} is not a permitted value")
            if by_code[code] != str(raw).strip():
                notes.append(f"{raw!s} read as {by_code[code]}")
            if by_code[code] not in values:
                values.append(by_code[code])
        if values:
            attributes[name] = values
    if avid.get("vuln_id"):
        attributes["vuln_id"] = str(avid["vuln_id"])
    tactics = _unique((str(a.get("tactic") or "") for a in atlas), 50)
    techniques = _unique((str(a.get("technique") or "") for a in atlas), 100)
    if tactics:
        attributes["atlas_tactics"] = tactics
    if techniques:
        attributes["atlas_techniques"] = techniques
    if not attributes:
        return None
    return _classification(origin, incident_id, "AVID", version, attributes, "; ".join(notes)[:4096])


# --- MITRE ATLAS ------------------------------------------------------------------------------

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
    if not _ATLAS_ID.fullmatch(ident):
        raise _Skip(f"id {ident[:40]!r} is not AML.CSnnnn")
    name = str(study.get("name") or "").strip()
    if not name:
        raise _Skip("no name (the title)")
    kind = str(study.get("case-study-type") or "")
    if kind not in ("incident", "exercise"):
        raise _Skip(f"case-study-type {kind[:40]!r} is neither incident nor exercise")
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
    steps = [s for s in study.get("procedure") or [] if isinstance(s, dict)]
    harmful = _unique(
        (str(s.get("technique")) for s in steps if str(s.get("tactic")) in _ATLAS_HARM_TACTICS and s.get("technique")),
        50,
    )
    if harmful:
        extra["harm_basis"] = (
            f"ATLAS Impact/Exfiltration technique(s) {', '.join(harmful)}: harm to property or communities (OECD (d))"
        )
    else:
        extra["harm_basis"] = "default (OECD (d); the procedure has no Impact or Exfiltration step)"
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
    references = [r for r in study.get("references") or [] if isinstance(r, dict)]
    urls = _unique((str(r.get("url") or "") for r in references), 200, 1024)
    if not urls:
        urls = [page]
        extra["supporting_materials_basis"] = "the ATLAS page (the case study lists no references)"
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


# --- all sources ------------------------------------------------------------------------------

READERS: dict[str, Callable[..., ImportBatch]] = {"aiid": read_aiid, "avid": read_avid, "atlas": read_atlas}
"""Reader by source name: aiid (a snapshot folder), avid (an avid-db folder), atlas (ATLAS.yaml)."""


def read_all(
    origin: str,
    *,
    aiid: Path | None = None,
    avid: Path | None = None,
    atlas: Path | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """The sources given, in the order AIID, AVID, ATLAS, as one batch; ``progress`` counts over
    all of them (the total is known before the first record)."""
    sources = [(name, path) for name, path in (("aiid", aiid), ("avid", avid), ("atlas", atlas)) if path is not None]
    totals = [count_records(name, path) for name, path in sources]
    grand = sum(totals)
    batch = ImportBatch()
    offset = 0
    for (name, path), total in zip(sources, totals, strict=True):
        base = offset

        def forward(done: int, _total: int, base: int = base) -> None:
            if progress is not None:
                progress(base + done, grand)

        batch.extend(READERS[name](path, origin, progress=forward))
        offset += total
    return batch
