"""A classification as plain text: the figures with their arithmetic, then per regime the verdict,
every clause that matched, nearly matched or could not be decided with the numbers compared,
exclusions, licence exceptions and licensing policies, and which figures are missing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from detente.exportctl.classify import REMINDER, ClauseResult, Outcome, Truth, _show
from detente.exportctl.provenance import UNVERIFIED_WARNING

if TYPE_CHECKING:
    from detente.exportctl.classify import Classification, RegimeResult

__all__ = ["render_text"]


def render_text(c: Classification) -> str:
    item = c.item
    to = f" for export to {c.destination}" if c.destination else ""
    lines = [f"Classification of {item.name} ({item.kind}) as of {c.as_of}{to}"]
    unverified = c.unverified
    if unverified:
        lines.append(f"WARNING: this answer relies on {len(unverified)} unverified fact(s), listed at the end.")
    lines += ["", "Figures:", *_figures(c)]
    for regime in c.regimes:
        lines += ["", *_regime(regime, c.near)]
    if c.needs:
        lines += ["", "Missing figures:"] + [f"  - {n}" for n in c.needs]
    for note in c.notes:
        lines += ["", f"Note: {note}"]
    if unverified:
        lines += ["", f"UNVERIFIED: {UNVERIFIED_WARNING['en']}", f"未核实：{UNVERIFIED_WARNING['zh']}"]
        lines += [f"  - {u.describe()}" for u in unverified]
    lines += ["", f"Reminder: {REMINDER['en']}", f"提示：{REMINDER['zh']}"]
    return "\n".join(lines) + "\n"


def _figures(c: Classification) -> list[str]:
    item = c.item
    out: list[str] = []
    best = item.best_rate
    if best is not None and item.tpp is not None:
        rates = "; ".join(f"{_exact(r.tops)} × {r.bits} = {_exact(r.tpp)}" for r in item.dense)
        out.append(f"  TPP = {_exact(item.tpp)}  (dense TOPS × bit length, highest of: {rates})")
    if item.die_area_mm2 is not None:
        out.append(f"  applicable die area = {_show(item.die_area_mm2)} mm²")
    pd = item.performance_density
    if pd is not None and item.tpp is not None and item.die_area_mm2 is not None:
        out.append(f"  performance density = {_show(item.tpp)} / {_show(item.die_area_mm2)} mm² = {_show(pd)}")
    if item.hbm_bandwidth_gbps is not None:
        out.append(f"  HBM bandwidth = {_show(item.hbm_bandwidth_gbps)} GB/s")
    if item.hbm_area_mm2 is not None:
        out.append(f"  HBM area = {_show(item.hbm_area_mm2)} mm²")
    density = item.hbm_bandwidth_density
    if density is not None and item.hbm_bandwidth_gbps is not None and item.hbm_area_mm2 is not None:
        out.append(
            f"  HBM bandwidth density = {_show(item.hbm_bandwidth_gbps)} / {_show(item.hbm_area_mm2)} = "
            f"{_show(density)} GB/s/mm²"
        )
    for label, value, unit in (
        ("total DRAM bandwidth", item.dram_bandwidth_gbps, " GB/s"),
        ("aggregate bidirectional I/O", item.io_bandwidth_gbps, " GB/s"),
        ("training operations", item.training_ops, ""),
    ):
        if value is not None:
            out.append(f"  {label} = {_show(value)}{unit}")
    for label, flag in (
        ("designed or marketed for datacenters", item.datacenter),
        ("weights published", item.weights_published),
    ):
        if flag is not None:
            out.append(f"  {label}: {'yes' if flag else 'no'}")
    if item.technology:
        out.append(f"  technology tags: {', '.join(item.technology)}")
    return out or ["  (none)"]


def _exact(value: float) -> str:
    """An input figure as given (no rounding), with thousands separators."""
    if value.is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:,.12g}" if abs(value) < 1e15 else f"{value:.6e}"


def _regime(r: RegimeResult, near: float) -> list[str]:
    pack = r.pack
    out = [f"{pack.regime} — rule pack {pack.version} ({pack.digest[:23]}…)", f"  Result: {r.verdict()}"]
    groups = (
        ("Matched", [x for x in r.controls if x.outcome == Outcome.MATCHED]),
        ("Excluded", [x for x in r.controls if x.outcome == Outcome.EXCLUDED]),
        (f"Nearly matched (within {near * 100:g}%)", [x for x in r.controls if x.outcome == Outcome.NEAR]),
        ("Undetermined", [x for x in r.controls if x.outcome == Outcome.UNDETERMINED]),
    )
    for title, results in groups:
        if results:
            out.append(f"  {title}:")
            for x in results:
                out += _clause(x)
    out += _not_matched([x for x in r.controls if x.outcome == Outcome.NOT_MATCHED])
    for heading, found, verdicts in (
        ("Exclusions", r.exclusions, ("applies", "does not apply")),
        ("Licence exceptions that may apply", r.exceptions, ("may apply", "does not apply")),
        ("Licensing policy (not a control)", r.policies, ("inside", "outside")),
    ):
        out += _others(heading, found, *verdicts)
    return out + _beyond_rules(r)


def _beyond_rules(r: RegimeResult) -> list[str]:
    """What the answer cites beyond the pack's clauses: letters, lists to check, legal bases."""
    out = []
    if r.letters:
        out.append("  Licence requirements set by letters to individual companies (is-informed letters, not rules):")
        for m in r.letters:
            out += m.describe()
    if r.party_lists and r.as_of:
        out.append("  Lists to check (this answer does not screen items or parties against them):")
        for party_list in r.party_lists:
            out += party_list.describe(r.as_of)
    for basis in r.legal_basis:
        out.append(f"  Legal basis: {basis.title} ({basis.source.citation}, effective {basis.effective})")
    return out


def _not_matched(results: list[ClauseResult]) -> list[str]:
    out = ["  Not matched:"] if results else []
    for x in results:
        failing = "; ".join(t.describe() for t in x.tests if t.truth == Truth.NO)
        out.append(f"    {x.clause.id} (version {x.clause.version}): {failing}")
    return out


def _others(title: str, results: Sequence[ClauseResult], matched: str, otherwise: str) -> list[str]:
    """Exclusions, licence exceptions or policies: each with what its condition says."""
    out = [f"  {title}:"] if results else []
    for x in results:
        verdict = {Outcome.MATCHED: matched, Outcome.UNDETERMINED: "cannot tell"}.get(x.outcome, otherwise)
        out += _clause(x, verdict)
    return out


def _clause(x: ClauseResult, verdict: str | None = None) -> list[str]:
    c = x.clause
    out = [f"    {c.id}" + (f": {verdict}" if verdict else "") + f" — {c.title}"]
    where = c.source.citation + (f", {c.source.document}" if c.source.document else "")
    status = x.status.value.replace("-", " ") if x.status else "not in force"
    if x.status_since and x.status_since != c.effective:
        status += f" since {x.status_since}"
    dates = f"effective {c.effective}" + (f", compliance from {c.compliance}" if c.compliance else "")
    out.append(f"      version {c.version}; {dates}; {status}; {where}")
    for t in x.tests:
        out.append(f"      · {t.describe()}")
    if x.excluded_by:
        out.append(f"      excluded by {x.excluded_by}")
    if c.kind.value == "exclusion" and x.outcome == Outcome.MATCHED and c.notes:
        out.append(f"      note: {c.notes}")
    if x.yielded_to:
        out.append(f"      parameters met, but {x.yielded_to} takes precedence")
    if x.status_note:
        out.append(f"      status: {x.status_note}")
    for req in c.requirements or ():
        out.append(f"      condition: {req.describe()}")
    for need in x.needs:
        out.append(f"      needs: {need}")
    return out
