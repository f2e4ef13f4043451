"""Rule packs: a regime's export-control clauses as versioned data.

A pack names its regime (``us-ear``, ``cn-ecl``, or a party's own), a version and a list of
clauses. A clause holds its condition as data — parameters, comparators and thresholds, combined
with ``all``/``any`` and ``meets`` (another entry matched) — never as code; its effective dates
(``effective``, optional ``compliance``, and ``until`` when a later version replaced it); its status
history (``in-force``, ``not-enforced``, ``rescinded``, each with the date it began); and the source
it comes from. Two versions of one clause share an ``id`` and must not overlap in time, so
classifying "as of" a date picks the version in force then.

The built-in packs live in ``detente/exportctl/packs/*.json``; a party can publish its own, which
:func:`load_pack` reads from a dict or JSON text. A bad pack raises
:class:`~detente.errors.MalformedRecord` naming the field and the reason. :func:`pack_digest` is the
SHA-256 of the pack's RFC 8785 canonical JSON, so two parties can tell whether they hold the same
rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import canonical_json, parse_json
from detente.errors import MalformedRecord
from detente.exportctl.provenance import Unverified

__all__ = [
    "PACK_FORMAT",
    "PARAMETERS",
    "Clause",
    "ClauseKind",
    "Comparator",
    "Condition",
    "ItemKind",
    "Parameter",
    "ParameterSpec",
    "RulePack",
    "Source",
    "Status",
    "StatusChange",
    "builtin_pack",
    "builtin_packs",
    "entry_covers",
    "load_pack",
    "pack_digest",
    "pack_json_schema",
]

PACK_FORMAT = "detente.exportctl.pack/1"


class ItemKind(StrEnum):
    INTEGRATED_CIRCUIT = "integrated-circuit"
    MEMORY = "memory"  # an HBM stack or package (3A090.c)
    COMPUTER = "computer"  # computers, assemblies and components containing the ICs (4A090)
    MODEL_WEIGHTS = "model-weights"
    TECHNOLOGY = "technology"  # classified by declared capability tags, not numbers


class Parameter(StrEnum):
    TPP = "tpp"
    PERFORMANCE_DENSITY = "performance_density"
    HBM_BANDWIDTH_DENSITY = "hbm_bandwidth_density"
    DRAM_BANDWIDTH = "dram_bandwidth"
    IO_BANDWIDTH = "io_bandwidth"
    DATACENTER = "datacenter"
    TRAINING_OPS = "training_ops"
    WEIGHTS_PUBLISHED = "weights_published"
    TECHNOLOGY = "technology"


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    label: str
    unit: str
    type: Literal["number", "bool", "tags"]
    needs: str  # the figure(s) to give when it is missing


PARAMETERS: dict[Parameter, ParameterSpec] = {
    Parameter.TPP: ParameterSpec("TPP", "", "number", "dense peak rates per bit length (--dense-tops VALUE@BITS)"),
    Parameter.PERFORMANCE_DENSITY: ParameterSpec(
        "performance density", "", "number", "the applicable die area in mm² (--die-area) and dense peak rates"
    ),
    Parameter.HBM_BANDWIDTH_DENSITY: ParameterSpec(
        "HBM bandwidth density", " GB/s/mm²", "number", "the HBM bandwidth (--hbm-bandwidth) and HBM area (--hbm-area)"
    ),
    Parameter.DRAM_BANDWIDTH: ParameterSpec(
        "total DRAM bandwidth", " GB/s", "number", "the total DRAM bandwidth in GB/s (--dram-bandwidth)"
    ),
    Parameter.IO_BANDWIDTH: ParameterSpec(
        "aggregate bidirectional I/O",
        " GB/s",
        "number",
        "the aggregate bidirectional I/O rate in GB/s (--io-bandwidth)",
    ),
    Parameter.DATACENTER: ParameterSpec(
        "designed or marketed for datacenters",
        "",
        "bool",
        "whether it is datacenter-marketed (--datacenter/--not-datacenter)",
    ),
    Parameter.TRAINING_OPS: ParameterSpec(
        "training operations", "", "number", "the operations used to train the model (--training-ops)"
    ),
    Parameter.WEIGHTS_PUBLISHED: ParameterSpec(
        "weights published", "", "bool", "whether the weights are published (--published-weights/--unpublished-weights)"
    ),
    Parameter.TECHNOLOGY: ParameterSpec(
        "technology", "", "tags", "the technology's capability tags (--technology TAG)"
    ),
}


class Comparator(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    IS = "is"  # a yes/no figure equals value
    HAS = "has"  # the technology tags include value


class ClauseKind(StrEnum):
    CONTROL = "control"  # an item meeting the condition is on the list under ``entry``
    EXCLUSION = "exclusion"  # takes items meeting the condition out of the ``excludes`` entries
    LICENCE_EXCEPTION = "licence-exception"  # may authorise export of ``for_entries`` items
    LICENSING_POLICY = "licensing-policy"  # how licence applications are reviewed; not a control
    LEGAL_BASIS = "legal-basis"  # the law or regulation the controls rest on


class Status(StrEnum):
    IN_FORCE = "in-force"
    NOT_ENFORCED = "not-enforced"
    RESCINDED = "rescinded"


_ENTRY = r"^[A-Za-z0-9§][A-Za-z0-9§().\-/]{0,63}$"


def entry_covers(prefix: str, entry: str) -> bool:
    """Whether ``entry`` is ``prefix`` or below it (``3A090`` covers ``3A090.a``, not ``3A0901``)."""
    return entry == prefix or entry.startswith(prefix + ".")


class Condition(BaseModel):
    """One of: a test ``{param, op, value}``; ``{all: [...]}``; ``{any: [...]}``; ``{meets: ENTRY}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    param: Parameter | None = None
    op: Comparator | None = None
    value: bool | float | str | None = None
    all: tuple[Condition, ...] | None = Field(default=None, min_length=1)
    any: tuple[Condition, ...] | None = Field(default=None, min_length=1)
    meets: str | None = Field(default=None, pattern=_ENTRY, description="another entry the item meets")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [self.param is not None, self.all is not None, self.any is not None, self.meets is not None]
        if sum(forms) != 1:
            raise ValueError("a condition is exactly one of {param, op, value}, {all}, {any} or {meets}")
        if self.param is None:
            if self.op is not None or self.value is not None:
                raise ValueError("op and value belong with param")
            return self
        if self.op is None or self.value is None:
            raise ValueError(f"test on {self.param} needs op and value")
        spec = PARAMETERS[self.param]
        if spec.type == "number":
            if self.op not in (Comparator.GE, Comparator.GT, Comparator.LE, Comparator.LT):
                raise ValueError(f"{self.param} is a number: op must be >=, >, <= or <")
            if isinstance(self.value, bool) or not isinstance(self.value, float | int):
                raise ValueError(f"{self.param} is compared with a number, not {self.value!r}")
            if self.value != self.value or self.value in (float("inf"), float("-inf")) or self.value < 0:
                raise ValueError(f"threshold for {self.param} must be a finite number ≥ 0")
        elif spec.type == "bool":
            if self.op != Comparator.IS or not isinstance(self.value, bool):
                raise ValueError(f"{self.param} is yes/no: use op 'is' with true or false")
        elif self.op != Comparator.HAS or not isinstance(self.value, str) or not self.value:
            raise ValueError(f"{self.param} is a set of tags: use op 'has' with a tag")
        return self

    def walk(self) -> Iterator[Condition]:
        yield self
        for child in (self.all or ()) + (self.any or ()):
            yield from child.walk()


class Source(BaseModel):
    """Where a clause comes from. ``notes`` marks how each fact was established: [M] primary
    text, [S] secondary source; a fact not verified against a primary text is listed in
    ``unverified`` with the reason, and every answer relying on the clause says so."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    citation: str = Field(min_length=1, max_length=256, description="e.g. 88 FR 73458; MOFCOM/MOST Ann. 2020 No. 38")
    document: str | None = Field(default=None, max_length=128, description="e.g. FR Doc 2023-23055")
    announcement: str | None = Field(default=None, max_length=256)
    published: date | None = None
    url: str | None = Field(default=None, max_length=1024)
    checked: date | None = Field(default=None, description="the day detente last read the primary text at url")
    notes: str = Field(default="", max_length=4096)
    unverified: tuple[Unverified, ...] = Field(
        default=(), description="facts of this source not verified against a primary text, each with the reason"
    )


class Requirement(BaseModel):
    """A condition of a licensing policy that figures cannot decide (a certification, a cap, a
    test), with its source. ``verified`` is true only when the primary text was read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$", description="e.g. third-party-testing")
    text: str = Field(min_length=1, max_length=2048)
    citation: str = Field(min_length=1, max_length=256)
    quality: Literal["M", "S", "MEM"] = Field(description="M primary text read; S secondary; MEM memory")
    verified: bool
    quote: str = Field(default="", max_length=2048)

    @model_validator(mode="after")
    def _honest(self) -> Requirement:
        if self.verified and self.quality != "M":
            raise ValueError(f"requirement {self.id}: only a primary text read ([M]) can be marked verified")
        return self

    def as_answer(self) -> dict[str, object]:
        out: dict[str, object] = self.model_dump(mode="json")
        out["mark"] = "verified against the primary text" if self.verified else "UNVERIFIED"
        return out

    def describe(self) -> str:
        mark = "" if self.verified else "UNVERIFIED, "
        return f"{self.text} [{mark}{self.quality}: {self.citation}]"


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    since: date
    note: str = Field(default="", max_length=4096)
    source: Source | None = None


class Clause(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ENTRY, description="e.g. 3A090.a.1, NAC-3A090.a, 086501X/speech-synthesis")
    version: str = Field(min_length=1, max_length=32)
    kind: ClauseKind
    entry: str | None = Field(default=None, pattern=_ENTRY, description="the list entry a control puts items under")
    title: str = Field(min_length=1, max_length=512)
    text: str = Field(default="", max_length=8192, description="the rule's words, or a close summary")
    applies_to: tuple[ItemKind, ...] = ()
    condition: Condition | None = None
    excludes: tuple[str, ...] = Field(default=(), description="exclusion: the entries it takes items out of")
    for_entries: tuple[str, ...] = Field(default=(), description="licence exception or policy: the entries it concerns")
    yields_to: tuple[str, ...] = Field(default=(), description="control: entries that take precedence when both match")
    legal_basis: tuple[str, ...] = Field(default=(), description="ids of legal-basis clauses in this pack")
    effective: date
    compliance: date | None = None
    until: date | None = Field(default=None, description="the day a later version or repeal replaced it")
    status: tuple[StatusChange, ...] = Field(min_length=1)
    source: Source
    notes: str = Field(default="", max_length=8192)
    requirements: tuple[Requirement, ...] | None = Field(
        default=None, description="licensing policy: the conditions beyond the figures, each with its source"
    )

    @model_validator(mode="after")
    def _coherent(self) -> Clause:
        if self.until is not None and self.until <= self.effective:
            raise ValueError(f"{self.id}: until {self.until} is not after effective {self.effective}")
        if self.status[0].since != self.effective:
            raise ValueError(f"{self.id}: the first status must start on the effective date {self.effective}")
        for before, after in pairwise(self.status):
            if after.since <= before.since:
                raise ValueError(
                    f"{self.id}: status history must be in date order ({after.since} after {before.since})"
                )
        if self.kind == ClauseKind.CONTROL:
            if self.entry is None or self.condition is None or not self.applies_to:
                raise ValueError(f"{self.id}: a control needs entry, condition and applies_to")
        elif self.kind == ClauseKind.EXCLUSION:
            if not self.excludes or self.condition is None:
                raise ValueError(f"{self.id}: an exclusion needs excludes and a condition")
        elif self.kind in (ClauseKind.LICENCE_EXCEPTION, ClauseKind.LICENSING_POLICY):
            if not self.for_entries:
                raise ValueError(f"{self.id}: a {self.kind} needs for_entries")
        elif self.condition is not None:
            raise ValueError(f"{self.id}: a legal basis has no condition")
        return self

    def in_effect(self, on: date) -> bool:
        """Whether this version of the clause is the one on the books on ``on``."""
        return self.effective <= on and (self.until is None or on < self.until)

    def status_on(self, on: date) -> StatusChange | None:
        """The status that applies on ``on`` (``None`` before the clause took effect)."""
        current: StatusChange | None = None
        for change in self.status:
            if change.since <= on:
                current = change
        return current


class RulePack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["detente.exportctl.pack/1"] = "detente.exportctl.pack/1"
    regime: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$", description="e.g. us-ear, cn-ecl")
    version: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=256)
    authority: str = Field(default="", max_length=256)
    publisher: str = Field(default="", max_length=256, description="who compiled this pack")
    notes: str = Field(default="", max_length=8192)
    tags: dict[str, str] = Field(default_factory=dict, description="technology tags the conditions may test")
    clauses: tuple[Clause, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RulePack:
        by_id: dict[str, list[Clause]] = {}
        for clause in self.clauses:
            by_id.setdefault(clause.id, []).append(clause)
        for ident, versions in by_id.items():
            _check_versions(ident, versions)
        entries = {c.entry for c in self.clauses if c.kind == ClauseKind.CONTROL and c.entry}
        legal = {c.id for c in self.clauses if c.kind == ClauseKind.LEGAL_BASIS}
        for clause in self.clauses:
            self._check_references(clause, entries, legal)
        return self

    def _check_references(self, clause: Clause, entries: set[str], legal: set[str]) -> None:
        """Every entry, legal basis, ``meets`` and technology tag the clause names is in this pack."""
        for ref in clause.excludes + clause.for_entries + clause.yields_to:
            if not any(entry_covers(ref, e) for e in entries):
                raise ValueError(f"clause {clause.id} names entry {ref}, which no control in this pack has")
        for ref in clause.legal_basis:
            if ref not in legal:
                raise ValueError(f"clause {clause.id} names legal basis {ref}, which is not in this pack")
        for node in clause.condition.walk() if clause.condition else ():
            if node.meets is not None and not any(entry_covers(node.meets, e) for e in entries):
                raise ValueError(f"clause {clause.id} meets {node.meets}, which no control in this pack has")
            if node.param == Parameter.TECHNOLOGY and node.value not in self.tags:
                raise ValueError(f"clause {clause.id} tests tag {node.value!r}, which the pack's tags do not list")

    @property
    def digest(self) -> str:
        return pack_digest(self)

    def as_json(self) -> dict[str, Any]:
        """The pack as JSON data (what :func:`pack_digest` canonicalises)."""
        return self.model_dump(mode="json", exclude_none=True)

    def in_effect(self, on: date) -> list[Clause]:
        """The clause versions on the books on ``on``, in pack order."""
        return [c for c in self.clauses if c.in_effect(on)]

    def controls_for(self, entry: str, on: date) -> list[Clause]:
        return [
            c
            for c in self.in_effect(on)
            if c.kind == ClauseKind.CONTROL and c.entry is not None and entry_covers(entry, c.entry)
        ]


def _check_versions(ident: str, versions: list[Clause]) -> None:
    """The versions of one clause have distinct labels and do not overlap in time."""
    if len({c.version for c in versions}) != len(versions):
        raise ValueError(f"clause {ident} has two versions with the same version label")
    ordered = sorted(versions, key=lambda c: c.effective)
    for before, after in pairwise(ordered):
        if before.until is None or before.until > after.effective:
            raise ValueError(
                f"clause {ident}: versions {before.version} and {after.version} overlap "
                f"(give {before.version} an 'until' on or before {after.effective})"
            )


def pack_digest(pack: RulePack) -> str:
    """``sha256:<hex>`` of the pack's RFC 8785 canonical JSON."""
    return "sha256:" + hashlib.sha256(canonical_json(pack.as_json())).hexdigest()


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) a rule pack validates against."""
    schema = RulePack.model_json_schema()
    schema["$id"] = "https://detente.dev/schemas/exportctl-pack-1.json"
    return schema


def load_pack(source: Mapping[str, Any] | str | bytes, *, what: str = "rule pack") -> RulePack:
    """Validate a pack given as a dict or JSON text; raise :class:`MalformedRecord` (or
    :class:`~detente.errors.MalformedJSON`) saying what is wrong."""
    data = parse_json(source, what=what) if isinstance(source, str | bytes) else source
    if not isinstance(data, Mapping):
        raise MalformedRecord(f"{what} is not a JSON object", hint=_PACK_HINT)
    try:
        return RulePack.model_validate(dict(data))
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, what), hint=_PACK_HINT) from None


_PACK_HINT = (
    "a pack is {format, regime, version, title, clauses: [{id, version, kind, entry, title, applies_to, condition, "
    "effective, status: [{status, since}], source: {citation}}]}; the schema: detente exportctl rules --schema"
)


@cache
def _builtin() -> tuple[RulePack, ...]:
    out: list[RulePack] = []
    folder = resources.files("detente.exportctl") / "packs"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            try:
                out.append(load_pack(item.read_bytes(), what=f"pack {item.name}"))
            except MalformedRecord as exc:  # a packaging bug, not user input: fail loudly
                raise RuntimeError(exc.message) from None
    return tuple(out)


def builtin_packs() -> tuple[RulePack, ...]:
    """The packs shipped with detente, one per regime, sorted by regime."""
    return tuple(sorted(_builtin(), key=lambda p: p.regime))


def builtin_pack(regime: str) -> RulePack:
    for pack in _builtin():
        if pack.regime == regime:
            return pack
    known = ", ".join(p.regime for p in builtin_packs())
    raise MalformedRecord(f"no built-in rule pack for regime {regime!r}", hint=f"built-in regimes: {known}")
