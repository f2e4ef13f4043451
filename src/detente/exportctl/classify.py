"""Classify an item against rule packs "as of" a date, and explain the answer.

For each pack, the clause versions in effect on ``as_of`` are evaluated on the item's figures with
three-valued logic (yes / no / unknown when a figure is missing). A control that fails only by
tests within ``near`` (10 % by default) of their thresholds is reported as *nearly matched*, with
the margin. Exclusions (Note 2 to 3A090) take matched items out of the entries they name; a
control that ``yields_to`` a matched entry (3A090.b when 3A090.a also matches) is reported but
not counted. Licence exceptions and licensing policies are evaluated for the entries that matched.

Every test keeps the numbers it compared, so :meth:`Classification.as_text` is a sheet an export
officer can check by hand and :meth:`Classification.as_dict` the same as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from detente.errors import MalformedRecord
from detente.exportctl.item import Item
from detente.exportctl.letters import LetterMatch, Reach, letters_for
from detente.exportctl.lists import PartyList, lists_for
from detente.exportctl.provenance import UNVERIFIED_WARNING, UnverifiedFact, unverified_facts
from detente.exportctl.rules import (
    PARAMETERS,
    Clause,
    ClauseKind,
    Comparator,
    Condition,
    Parameter,
    RulePack,
    Status,
    entry_covers,
)

__all__ = ["REMINDER", "Classification", "ClauseResult", "Outcome", "RegimeResult", "TestResult", "Truth", "classify"]

REMINDER: dict[str, str] = {
    "en": (
        "Whatever this classification says, end-use and end-user controls, the Entity List and the "
        "foreign-direct-product rules may still apply to the transaction. The rule text, not detente, is "
        "authoritative: check each number and citation against the regulation in force. Not legal advice."
    ),
    "zh": (
        "无论本分类结果如何，最终用途和最终用户管制、实体清单以及外国直接产品规则仍可能适用于该交易。"
        "以法规原文为准，而非 detente：请对照现行法规核对每个数字和引用。本结果不构成法律意见。"
    ),
}
"""Said by every classification answer (text and JSON), in English and Chinese."""


class Truth(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    MATCHED = "matched"
    NEAR = "near"  # not matched, but every failing test is within the tolerance of its threshold
    UNDETERMINED = "undetermined"  # a figure it needs is missing
    NOT_MATCHED = "not-matched"
    EXCLUDED = "excluded"  # matched, but an exclusion (e.g. Note 2 to 3A090) takes it out


@dataclass(frozen=True, slots=True)
class TestResult:
    """One comparison: ``actual <comparator> threshold``, its result and the relative margin."""

    parameter: Parameter | None
    comparator: str
    threshold: float | bool | str
    actual: float | bool | tuple[str, ...] | None
    truth: Truth
    margin: float | None = None  # (actual - threshold) / threshold, for numbers
    near: bool = False
    meets: str | None = None  # for {meets: ENTRY}: the entry

    def describe(self) -> str:
        if self.meets is not None:
            return f"meets {self.meets} → {self.truth.value}" + (" (nearly)" if self.near else "")
        assert self.parameter is not None
        spec = PARAMETERS[self.parameter]
        if self.actual is None:
            return f"{spec.label} {self.comparator} {_show(self.threshold)}: unknown — needs {spec.needs}"
        if spec.type == "tags":
            tags = ", ".join(self.actual) if isinstance(self.actual, tuple) else str(self.actual)
            return f"technology has {self.threshold!r} → {self.truth.value} (declared: {tags or 'none'})"
        if spec.type == "bool":
            return f"{spec.label}: {_yes_no(self.actual)} (required: {_yes_no(self.threshold)}) → {self.truth.value}"
        assert isinstance(self.actual, float) and isinstance(self.threshold, float)
        actual, threshold = _pair(self.actual, self.threshold)
        text = f"{spec.label} {actual}{spec.unit} {self.comparator} {threshold}{spec.unit} → {self.truth.value}"
        if self.margin is not None:
            side = "above" if self.margin > 0 else "below" if self.margin < 0 else "at"
            text += f" ({abs(self.margin) * 100:.1f}% {side} the threshold)" if side != "at" else " (at the threshold)"
        return text

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"result": self.truth.value}
        if self.meets is not None:
            out |= {"meets": self.meets, "near": self.near}
            return out
        assert self.parameter is not None
        actual: object = list(self.actual) if isinstance(self.actual, tuple) else self.actual
        out |= {"parameter": self.parameter.value, "comparator": self.comparator, "threshold": self.threshold}
        out |= {"actual": actual, "margin": self.margin, "near": self.near}
        if self.actual is None:
            out["needs"] = PARAMETERS[self.parameter].needs
        return out


@dataclass(frozen=True)
class ClauseResult:
    """A clause version evaluated on the item, with the status in force on the day."""

    clause: Clause
    outcome: Outcome
    tests: tuple[TestResult, ...]
    needs: tuple[str, ...] = ()
    status: Status | None = None
    status_since: date | None = None
    status_note: str = ""
    excluded_by: str | None = None
    yielded_to: str | None = None

    @property
    def counts(self) -> bool:
        """Whether this result puts the item under the clause's entry (matched, not superseded)."""
        return self.outcome == Outcome.MATCHED and self.yielded_to is None and self.status != Status.RESCINDED

    def as_dict(self) -> dict[str, object]:
        c = self.clause
        out: dict[str, object] = {
            "id": c.id,
            "version": c.version,
            "kind": c.kind.value,
            "entry": c.entry,
            "title": c.title,
            "outcome": self.outcome.value,
            "effective": c.effective.isoformat(),
            "compliance": c.compliance.isoformat() if c.compliance else None,
            "status": self.status.value if self.status else None,
            "status_since": self.status_since.isoformat() if self.status_since else None,
            "tests": [t.as_dict() for t in self.tests],
            "source": c.source.model_dump(mode="json", exclude_none=True),
        }
        if self.status_note:
            out["status_note"] = self.status_note
        if c.requirements:
            out["requirements"] = [r.as_answer() for r in c.requirements]
        if self.needs:
            out["needs"] = list(self.needs)
        if self.excluded_by:
            out["excluded_by"] = self.excluded_by
        if self.yielded_to:
            out["yielded_to"] = self.yielded_to
        return out


@dataclass(frozen=True)
class RegimeResult:
    pack: RulePack
    controls: tuple[ClauseResult, ...]
    exclusions: tuple[ClauseResult, ...]
    exceptions: tuple[ClauseResult, ...]
    policies: tuple[ClauseResult, ...]
    legal_basis: tuple[Clause, ...]
    letters: tuple[LetterMatch, ...] = ()
    party_lists: tuple[PartyList, ...] = ()  # the regime's lists to check (China's, data/cn-lists.json)
    as_of: date | None = None

    @property
    def entries(self) -> tuple[str, ...]:
        """The list entries the item falls under (enforced or not), in pack order."""
        return tuple(dict.fromkeys(r.clause.entry for r in self.controls if r.counts and r.clause.entry))

    @property
    def enforced_entries(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                r.clause.entry for r in self.controls if r.counts and r.status == Status.IN_FORCE and r.clause.entry
            )
        )

    @property
    def needs(self) -> tuple[str, ...]:
        found = [n for r in self.controls if r.outcome == Outcome.UNDETERMINED for n in r.needs]
        others = self.exclusions + self.exceptions + self.policies
        found += [n for r in others if r.outcome == Outcome.UNDETERMINED for n in r.needs]
        return tuple(dict.fromkeys(found))

    def verdict(self) -> str:
        if not self.controls:
            return "no clause of this pack applies to this kind of item" + self._letters_verdict(", but ")
        parts = []
        for entry in self.entries:
            results = [r for r in self.controls if r.counts and r.clause.entry == entry]
            ids = ", ".join(r.clause.id for r in results)
            status = results[0].status
            flag = "" if status == Status.IN_FORCE else f" — {status.value if status else 'not in force'}"
            parts.append(f"{entry}{f' ({ids})' if ids != entry else ''}{flag}")
        if parts:
            return "; ".join(parts) + self._letters_verdict("; also ")
        if any(r.outcome == Outcome.UNDETERMINED for r in self.controls):
            return "undetermined: figures are missing (see 'needs')" + self._letters_verdict("; ")
        return "no clause of this pack matched" + self._letters_verdict(", but ")

    def _letters_verdict(self, joint: str) -> str:
        """The is-informed letters that bear on the item, for the verdict line."""
        if not self.letters:
            return ""
        texts = []
        for m in self.letters:
            may = "may be required (check the destination)" if m.reach == Reach.CHECK else "required"
            flag = " [UNVERIFIED]" if m.unverified else ""
            texts.append(f"licence {may} by is-informed letter {m.letter.id} to {m.letter.addressee}{flag}")
        return joint + "; ".join(texts) + " (binds only its addressee)"

    def as_dict(self) -> dict[str, object]:
        return {
            "regime": self.pack.regime,
            "pack_version": self.pack.version,
            "pack_digest": self.pack.digest,
            "verdict": self.verdict(),
            "entries": list(self.entries),
            "enforced_entries": list(self.enforced_entries),
            "clauses": [r.as_dict() for r in self.controls],
            "exclusions": [r.as_dict() for r in self.exclusions],
            "licence_exceptions": [r.as_dict() for r in self.exceptions],
            "licensing_policies": [r.as_dict() for r in self.policies],
            "legal_basis": [{"id": c.id, "title": c.title, "citation": c.source.citation} for c in self.legal_basis],
            "is_informed_letters": [m.as_dict() for m in self.letters],
            "lists": [x.as_answer(self.as_of) for x in self.party_lists if self.as_of],
            "needs": list(self.needs),
        }


@dataclass(frozen=True)
class Classification:
    item: Item
    as_of: date
    near: float
    regimes: tuple[RegimeResult, ...]
    notes: tuple[str, ...] = field(default=())
    destination: str | None = None

    @property
    def letters(self) -> tuple[LetterMatch, ...]:
        """The is-informed letters that bear on the item, over every regime."""
        return tuple(m for r in self.regimes for m in r.letters)

    @property
    def entries(self) -> dict[str, tuple[str, ...]]:
        return {r.pack.regime: r.entries for r in self.regimes}

    @property
    def unverified(self) -> tuple[UnverifiedFact, ...]:
        """The facts this answer relies on that were not verified against a primary source."""
        return unverified_facts(self)

    @property
    def needs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for r in self.regimes for n in r.needs))

    def regime(self, regime: str) -> RegimeResult:
        for result in self.regimes:
            if result.pack.regime == regime:
                return result
        raise KeyError(regime)

    def result(self, clause_id: str, regime: str | None = None) -> ClauseResult:
        """The result for one clause id (controls, exclusions, exceptions and policies)."""
        for r in self.regimes:
            if regime is None or r.pack.regime == regime:
                for res in r.controls + r.exclusions + r.exceptions + r.policies:
                    if res.clause.id == clause_id:
                        return res
        raise KeyError(clause_id)

    def figures(self) -> dict[str, object]:
        item = self.item
        best = item.best_rate
        out: dict[str, object] = {
            "tpp": item.tpp,
            "tpp_from": {"tops": best.tops, "bits": best.bits} if best else None,
            "performance_density": item.performance_density,
            "hbm_bandwidth_density": item.hbm_bandwidth_density,
        }
        return {k: v for k, v in out.items() if v is not None}

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item.as_dict(),
            "as_of": self.as_of.isoformat(),
            "destination": self.destination,
            "near_tolerance": self.near,
            "figures": self.figures(),
            "entries": {k: list(v) for k, v in self.entries.items()},
            "regimes": [r.as_dict() for r in self.regimes],
            "needs": list(self.needs),
            "notes": list(self.notes),
            "unverified": [u.as_dict() for u in self.unverified],
            "unverified_warning": dict(UNVERIFIED_WARNING) if self.unverified else None,
            "reminder": dict(REMINDER),
        }

    def as_text(self) -> str:
        from detente.exportctl.explain import render_text

        return render_text(self)


# --- evaluation ------------------------------------------------------------------------------


@dataclass
class _Eval:
    truth: Truth
    near: bool
    tests: list[TestResult]
    needs: list[str]


def _test(node: Condition, item: Item, near: float) -> _Eval:
    assert node.param is not None and node.op is not None and node.value is not None
    spec = PARAMETERS[node.param]
    actual = item.figure(node.param)
    threshold: float | bool | str = float(node.value) if spec.type == "number" else node.value
    if actual is None:
        result = TestResult(node.param, node.op.value, threshold, None, Truth.UNKNOWN)
        return _Eval(Truth.UNKNOWN, False, [result], [spec.needs])
    if spec.type == "tags":
        assert isinstance(actual, tuple)
        ok = threshold in actual
        return _Eval(_truth(ok), False, [TestResult(node.param, "has", threshold, actual, _truth(ok))], [])
    if spec.type == "bool":
        ok = actual is threshold
        return _Eval(_truth(ok), False, [TestResult(node.param, "is", threshold, actual, _truth(ok))], [])
    assert isinstance(actual, float) and isinstance(threshold, float)
    ok = {
        Comparator.GE: actual >= threshold,
        Comparator.GT: actual > threshold,
        Comparator.LE: actual <= threshold,
        Comparator.LT: actual < threshold,
    }[node.op]
    margin = (actual - threshold) / threshold if threshold else None
    is_near = not ok and margin is not None and abs(margin) <= near
    result = TestResult(node.param, node.op.value, threshold, actual, _truth(ok), margin, is_near)
    return _Eval(_truth(ok), is_near, [result], [])


def _truth(ok: bool) -> Truth:
    return Truth.YES if ok else Truth.NO


def _all_of(children: list[_Eval]) -> tuple[Truth, bool]:
    """``all``: no if any child is no, else unknown if any is unknown; near if every failing child is."""
    truths = [c.truth for c in children]
    truth = Truth.NO if Truth.NO in truths else Truth.UNKNOWN if Truth.UNKNOWN in truths else Truth.YES
    failing = [c for c in children if c.truth == Truth.NO]
    return truth, truth == Truth.NO and all(c.near for c in failing)


def _any_of(children: list[_Eval]) -> tuple[Truth, bool]:
    """``any``: yes if any child is yes, else unknown if any is unknown; near if any child is."""
    truths = [c.truth for c in children]
    truth = Truth.YES if Truth.YES in truths else Truth.UNKNOWN if Truth.UNKNOWN in truths else Truth.NO
    return truth, truth == Truth.NO and any(c.near for c in children)


class _Evaluator:
    def __init__(self, pack: RulePack, item: Item, as_of: date, near: float) -> None:
        self.pack, self.item, self.as_of, self.near = pack, item, as_of, near
        self.clauses = [c for c in pack.in_effect(as_of) if _status(c, as_of)[0] != Status.RESCINDED]
        self.exclusions = [c for c in self.clauses if c.kind == ClauseKind.EXCLUSION]
        self._entry_cache: dict[str, _Eval] = {}
        self._busy: set[str] = set()

    def condition(self, node: Condition) -> _Eval:
        if node.param is not None:
            return _test(node, self.item, self.near)
        if node.meets is not None:
            return self._meets(node.meets)
        children = [self.condition(c) for c in (node.all or node.any or ())]
        truth, is_near = _all_of(children) if node.all is not None else _any_of(children)
        tests = [t for c in children for t in c.tests]
        needs = [n for c in children for n in c.needs]
        return _Eval(truth, is_near, tests, needs)

    def _meets(self, entry: str) -> _Eval:
        if entry in self._entry_cache:
            return self._entry_cache[entry]
        if entry in self._busy:  # a cycle in the pack: treat as unknown rather than recurse forever
            return _Eval(Truth.UNKNOWN, False, [TestResult(None, "meets", entry, None, Truth.UNKNOWN, meets=entry)], [])
        self._busy.add(entry)
        results = [
            self.control(c)
            for c in self.clauses
            if c.kind == ClauseKind.CONTROL and c.entry is not None and entry_covers(entry, c.entry)
        ]
        self._busy.discard(entry)
        outcomes = {r.outcome for r in results}
        needs = [n for r in results for n in r.needs]
        if Outcome.MATCHED in outcomes:
            truth, is_near = Truth.YES, False
        elif Outcome.UNDETERMINED in outcomes:
            truth, is_near = Truth.UNKNOWN, False
        else:
            truth, is_near = Truth.NO, Outcome.NEAR in outcomes
        inner = [t for r in results if r.outcome != Outcome.NOT_MATCHED for t in r.tests]
        head = TestResult(None, "meets", entry, None, truth, near=is_near, meets=entry)
        evaluated = _Eval(truth, is_near, [head, *inner], needs)
        self._entry_cache[entry] = evaluated
        return evaluated

    def control(self, clause: Clause) -> ClauseResult:
        """A control's result, exclusions applied (not yet precedence between entries)."""
        assert clause.condition is not None and clause.entry is not None
        ev = self.condition(clause.condition)
        status, since, note = _status(clause, self.as_of)
        outcome = {Truth.YES: Outcome.MATCHED, Truth.UNKNOWN: Outcome.UNDETERMINED}.get(ev.truth, Outcome.NOT_MATCHED)
        if outcome == Outcome.NOT_MATCHED and ev.near:
            outcome = Outcome.NEAR
        needs, excluded_by = list(ev.needs), None
        if outcome == Outcome.MATCHED:
            for exclusion in self.exclusions:
                if not any(entry_covers(p, clause.entry) for p in exclusion.excludes):
                    continue
                assert exclusion.condition is not None
                ex = self.condition(exclusion.condition)
                if ex.truth == Truth.YES:
                    outcome, excluded_by = Outcome.EXCLUDED, exclusion.id
                    break
                if ex.truth == Truth.UNKNOWN:
                    outcome = Outcome.UNDETERMINED
                    needs += ex.needs
        return ClauseResult(
            clause, outcome, tuple(ev.tests), tuple(dict.fromkeys(needs)), status, since, note, excluded_by
        )

    def other(self, clause: Clause) -> ClauseResult:
        """An exclusion, licence exception or policy: its condition, without exclusions."""
        status, since, note = _status(clause, self.as_of)
        if clause.condition is None:
            return ClauseResult(clause, Outcome.MATCHED, (), (), status, since, note)
        ev = self.condition(clause.condition)
        outcome = {Truth.YES: Outcome.MATCHED, Truth.UNKNOWN: Outcome.UNDETERMINED}.get(ev.truth, Outcome.NOT_MATCHED)
        if outcome == Outcome.NOT_MATCHED and ev.near:
            outcome = Outcome.NEAR
        return ClauseResult(clause, outcome, tuple(ev.tests), tuple(dict.fromkeys(ev.needs)), status, since, note)

    def run(self) -> RegimeResult:
        kind = self.item.kind
        controls = [self.control(c) for c in self.clauses if c.kind == ClauseKind.CONTROL and kind in c.applies_to]
        final = _precedence(controls)
        matched = [r.clause.entry for r in final if r.counts and r.clause.entry]
        exclusions = self._exclusions_of(final)
        exceptions = self._concerning(ClauseKind.LICENCE_EXCEPTION, matched)
        policies = self._concerning(ClauseKind.LICENSING_POLICY, matched)
        basis_ids = {b for r in final if r.outcome != Outcome.NOT_MATCHED for b in r.clause.legal_basis}
        basis = tuple(c for c in self.clauses if c.kind == ClauseKind.LEGAL_BASIS and c.id in basis_ids)
        return RegimeResult(self.pack, tuple(final), tuple(exclusions), tuple(exceptions), tuple(policies), basis)

    def _exclusions_of(self, final: list[ClauseResult]) -> list[ClauseResult]:
        """The exclusions that apply to the item's kind and name an entry that matched, was excluded
        or is undetermined."""
        kind = self.item.kind
        relevant = [r for r in final if r.outcome in (Outcome.MATCHED, Outcome.EXCLUDED, Outcome.UNDETERMINED)]
        return [
            self.other(c)
            for c in self.exclusions
            if kind in c.applies_to and any(entry_covers(p, r.clause.entry or "") for r in relevant for p in c.excludes)
        ]

    def _concerning(self, kind: ClauseKind, matched: list[str]) -> list[ClauseResult]:
        """The clauses of ``kind`` (licence exceptions, licensing policies) for any matched entry."""
        return [
            self.other(c)
            for c in self.clauses
            if c.kind == kind and any(entry_covers(p, e) for e in matched for p in c.for_entries)
        ]


def _precedence(controls: list[ClauseResult]) -> list[ClauseResult]:
    """Each matched control that yields to another matched entry is marked with the entry it yields to."""
    counted = {r.clause.entry for r in controls if r.outcome == Outcome.MATCHED and r.clause.entry}
    final: list[ClauseResult] = []
    for r in controls:
        winner = next((e for e in counted for p in r.clause.yields_to if entry_covers(p, e)), None)
        if r.outcome == Outcome.MATCHED and winner is not None:
            r = ClauseResult(
                r.clause, r.outcome, r.tests, r.needs, r.status, r.status_since, r.status_note, None, winner
            )
        final.append(r)
    return final


def _status(clause: Clause, on: date) -> tuple[Status | None, date | None, str]:
    change = clause.status_on(on)
    if change is None:
        return None, None, ""
    return change.status, change.since, change.note


def _check_tags(item: Item, packs: Sequence[RulePack]) -> None:
    known = {tag for pack in packs for tag in pack.tags}
    unknown = [t for t in item.technology if t not in known]
    if unknown:
        listing = ", ".join(sorted(known)) if known else "none (the packs given define no technology tags)"
        raise MalformedRecord(f"unknown technology tag {unknown[0]!r}", hint=f"known tags: {listing}")


def classify(
    item: Item, packs: Iterable[RulePack], as_of: date, *, near: float = 0.10, destination: str | None = None
) -> Classification:
    """Classify ``item`` under each pack as the rules stood on ``as_of``, with the is-informed
    letters (:mod:`detente.exportctl.letters`) that name the item, in effect on ``as_of``, for
    ``destination`` (ISO 3166-1 alpha-2; ``None``: any destination a letter names).

    Raises :class:`MalformedRecord` when no pack is given, a technology tag is unknown, or no
    clause can be decided because every one needs a figure the item lacks (the hint names them).
    """
    packs = tuple(packs)
    if not packs:
        raise MalformedRecord("no rule pack to classify against", hint="pass at least one pack, e.g. builtin_packs()")
    if not 0 <= near < 1:
        raise MalformedRecord(f"near-miss tolerance {near!r} must be at least 0 and below 1", hint="e.g. 0.10 for 10%")
    _check_tags(item, packs)
    regimes = tuple(
        replace(
            r,
            letters=letters_for(item.name, as_of, destination, (r.pack.regime,)),
            party_lists=lists_for(r.pack.regime, as_of),
            as_of=as_of,
        )
        for r in (_Evaluator(pack, item, as_of, near).run() for pack in packs)
    )
    controls = [r for regime in regimes for r in regime.controls]
    if controls and all(r.outcome == Outcome.UNDETERMINED for r in controls):
        needs = "; ".join(dict.fromkeys(n for r in controls for n in r.needs))
        raise MalformedRecord(
            f"cannot classify {item.name!r} as of {as_of}: every clause that applies needs a figure it lacks",
            hint=f"give {needs}",
        )
    notes: list[str] = []
    if item.kind == "integrated-circuit" and item.hbm_bandwidth_gbps is not None:
        notes.append(
            "HBM figures were given for an integrated circuit: 3A090.c covers HBM stacks themselves; HBM co-packaged "
            "with a dominant logic die is classified with that IC (classify the stack with kind 'memory')"
        )
    return Classification(item, as_of, near, regimes, tuple(notes), destination)


# --- number formatting shared with the text renderer -------------------------------------------


def _show(value: float | bool | str, digits: int = 4) -> str:
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, str):
        return value
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-3):
        return f"{value:.{max(digits - 1, 2)}e}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.{max(digits - 3, 1)}f}"
    return f"{value:.{digits}g}"


def _pair(actual: float, threshold: float) -> tuple[str, str]:
    """The two numbers, with enough digits that unequal values never print the same."""
    for digits in range(4, 16):
        a, t = _show(actual, digits), _show(threshold, digits)
        if a != t or actual == threshold:
            return a, t
    return repr(actual), repr(threshold)


def _yes_no(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
