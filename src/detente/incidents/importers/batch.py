"""What every importer returns (:class:`ImportBatch`: incidents, classifications, what was skipped
and why) and the checks they share: text limits, dates, de-duplicated lists, validation into the
model with the reason a record is skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.errors import DetenteError, MalformedRecord
from detente.incidents.model import (
    Classification,
    HarmType,
    IncidentKey,
    IncidentReport,
    Severity,
)
from detente.incidents.taxonomy import taxonomy_for

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
