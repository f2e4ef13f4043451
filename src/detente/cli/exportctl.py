"""``detente exportctl …``: classify AI chips, memory, model weights and technologies under the
export-control rule packs (US EAR, China), list the rules in force on a date, and browse the
catalogue of real accelerators. Pure computation: no node or token needed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from detente.cli.notices import NODE, TOKEN, _call
from detente.errors import MalformedRecord
from detente.exportctl.catalogue import catalogue, lookup
from detente.exportctl.classify import classify as classify_item
from detente.exportctl.item import Item, parse_dense_rate
from detente.exportctl.rules import ItemKind, RulePack, builtin_packs, load_pack, pack_json_schema

__all__ = ["exportctl_app"]

exportctl_app = typer.Typer(
    help="Classify AI items under export-control rule packs (US EAR, China) as of any date.", no_args_is_help=True
)

AS_OF = typer.Option(None, "--as-of", help="the date the rules are taken as of, YYYY-MM-DD (default: today)")
REGIME = typer.Option(None, "--regime", help="us-ear or cn-ecl (repeatable; default: every built-in pack)")
PACK = typer.Option(
    None, "--pack", help="a party's own rule pack (JSON file; repeatable; replaces built-ins of its regime)"
)
JSON = typer.Option(False, "--json", help="print JSON")


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MalformedRecord(
            f"--as-of {text!r} is not a date", hint="give YYYY-MM-DD, e.g. --as-of 2025-06-01"
        ) from None


def _packs(regimes: list[str] | None, files: list[Path] | None) -> list[RulePack]:
    packs = {p.regime: p for p in builtin_packs()}
    for path in files or ():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MalformedRecord(f"cannot read {path}: {exc.strerror}") from None
        pack = load_pack(data, what=f"rule pack {path}")
        packs[pack.regime] = pack
    if not regimes:
        return list(packs.values())
    unknown = [r for r in regimes if r not in packs]
    if unknown:
        raise MalformedRecord(f"no rule pack for regime {unknown[0]!r}", hint=f"regimes: {', '.join(sorted(packs))}")
    return [packs[r] for r in dict.fromkeys(regimes)]


@exportctl_app.command("classify")
def classify(
    name: str | None = typer.Argument(None, help="a catalogue name (e.g. 'H100 SXM5'), or a label for the figures"),
    dense_tops: list[str] = typer.Option(
        None, "--dense-tops", help="dense peak rate at a bit length, VALUE@BITS (repeatable), e.g. 1979@8"
    ),
    die_area: float | None = typer.Option(None, "--die-area", help="applicable die area, mm²"),
    hbm_bandwidth: float | None = typer.Option(None, "--hbm-bandwidth", help="HBM stack/package bandwidth, GB/s"),
    hbm_area: float | None = typer.Option(None, "--hbm-area", help="HBM stack/package area, mm²"),
    dram_bandwidth: float | None = typer.Option(None, "--dram-bandwidth", help="total DRAM bandwidth, GB/s"),
    io_bandwidth: float | None = typer.Option(
        None, "--io-bandwidth", help="aggregate bidirectional I/O, GB/s (2022 rule)"
    ),
    datacenter: bool | None = typer.Option(
        None, "--datacenter/--not-datacenter", help="designed or marketed for use in datacenters"
    ),
    training_ops: float | None = typer.Option(
        None, "--training-ops", help="operations used to train a model, e.g. 1e26"
    ),
    published: bool | None = typer.Option(
        None, "--published-weights/--unpublished-weights", help="whether the model's weights are published"
    ),
    technology: list[str] = typer.Option(None, "--technology", help="a technology's capability tag (repeatable)"),
    kind: str | None = typer.Option(
        None, "--kind", help="integrated-circuit, memory, computer, model-weights, technology"
    ),
    as_of: str | None = AS_OF,
    destination: str | None = typer.Option(
        None, "--destination", help="ISO 3166-1 alpha-2 country of destination, e.g. CN (for is-informed letters)"
    ),
    regime: list[str] = REGIME,
    pack: list[Path] = PACK,
    near: float = typer.Option(0.10, "--near", help="report clauses missed by at most this fraction (default 0.10)"),
    as_json: bool = JSON,
) -> None:
    """Classify an item from the catalogue or from its figures: every clause matched or nearly
    matched, with the numbers compared, the rule version used, licence exceptions and policies,
    and the is-informed letters to individual companies that name the item."""
    figures: dict[str, Any] = {
        "dense": tuple(parse_dense_rate(t) for t in dense_tops or ()),
        "die_area_mm2": die_area,
        "hbm_bandwidth_gbps": hbm_bandwidth,
        "hbm_area_mm2": hbm_area,
        "dram_bandwidth_gbps": dram_bandwidth,
        "io_bandwidth_gbps": io_bandwidth,
        "datacenter": datacenter,
        "training_ops": training_ops,
        "weights_published": published,
        "technology": tuple(technology or ()),
    }
    given = {k: v for k, v in figures.items() if v not in (None, ())}
    if kind is not None and kind not in {k.value for k in ItemKind}:
        raise MalformedRecord(f"unknown item kind {kind!r}", hint=f"one of {', '.join(k.value for k in ItemKind)}")
    if not given and name is None:
        raise MalformedRecord(
            "nothing to classify",
            hint="give a catalogue name (see: detente exportctl catalogue) or figures such as --dense-tops 1979@8",
        )
    if not given:
        item = lookup(name or "").item()
    else:
        try:
            base = lookup(name).item() if name else None
        except MalformedRecord:
            base = None  # not a catalogue name: a label for the figures given
        item = base.with_figures(**given) if base else Item(name=name or "unnamed item", **given)
    if kind is not None:
        item = replace(item, kind=ItemKind(kind))
    result = classify_item(item, _packs(regime, pack), _date(as_of), near=near, destination=destination)
    if as_json:
        _print(result.as_dict())
    else:
        typer.echo(result.as_text(), nl=False)


@exportctl_app.command("rules")
def rules(
    as_of: str | None = AS_OF,
    regime: list[str] = REGIME,
    pack: list[Path] = PACK,
    every_version: bool = typer.Option(False, "--all", help="also list versions not in effect on the date"),
    schema: bool = typer.Option(False, "--schema", help="print the rule pack JSON Schema and exit"),
    as_json: bool = JSON,
) -> None:
    """List the rule packs and their clauses with the status each had on a date."""
    if schema:
        _print(pack_json_schema())
        return
    on = _date(as_of)
    rows: list[dict[str, Any]] = []
    packs = _packs(regime, pack)
    for p in packs:
        for c in p.clauses:
            if not every_version and not c.in_effect(on):
                continue
            change = c.status_on(on)
            if not c.in_effect(on):
                state = "not yet in effect" if on < c.effective else f"replaced on {c.until}"
            else:
                state = change.status.value if change else "not in force"
            rows.append({
                "regime": p.regime, "id": c.id, "version": c.version, "kind": c.kind.value, "entry": c.entry,
                "effective": c.effective.isoformat(), "until": c.until.isoformat() if c.until else None,
                "status": state, "status_since": change.since.isoformat() if change else None,
                "title": c.title, "citation": c.source.citation,
            })  # fmt: skip
    if as_json:
        _print({
            "as_of": on.isoformat(),
            "packs": [{"regime": p.regime, "version": p.version, "digest": p.digest, "title": p.title} for p in packs],
            "clauses": rows,
        })  # fmt: skip
        return
    lines = [f"Rules as of {on}"]
    for p in packs:
        lines += ["", f"{p.regime} {p.version} — {p.title}", f"  digest {p.digest}"]
        for r in (r for r in rows if r["regime"] == p.regime):
            status = r["status"] + (
                f" since {r['status_since']}" if r["status_since"] not in (None, r["effective"]) else ""
            )
            entry = f" → {r['entry']}" if r["entry"] and r["entry"] != r["id"] else ""
            lines.append(f"  {r['id']} [{r['version']}, {r['kind']}{entry}] effective {r['effective']}, {status}")
            lines.append(f"      {r['title']} ({r['citation']})")
    typer.echo("\n".join(lines))


@exportctl_app.command("catalogue")
def catalogue_(as_json: bool = JSON) -> None:
    """The catalogue of real accelerators with their public figures (sources in --json); 'unverified'
    counts the figures not verified against a primary source (the reasons are in --json)."""
    entries = catalogue()
    if as_json:
        _print([e.model_dump(mode="json", exclude_none=True) for e in entries])
        return
    table = Table(title=f"{len(entries)} accelerators")
    for col in ("name", "TPP", "die mm²", "DRAM GB/s", "datacenter", "unverified"):
        table.add_column(col, justify="left" if col == "name" else "right")
    for e in entries:
        item = e.item()
        table.add_row(
            e.name,
            f"{item.tpp:,.0f}" if item.tpp is not None else "-",
            f"{item.die_area_mm2:g}" if item.die_area_mm2 is not None else "-",
            f"{item.dram_bandwidth_gbps:,.0f}" if item.dram_bandwidth_gbps is not None else "-",
            {True: "yes", False: "no", None: "-"}[item.datacenter],
            str(len(item.unverified)) if item.unverified else "-",
        )
    Console().print(table)


# --- through the node: trusted suppliers, mutual recognition, disclosures -------------------------

suppliers_app = typer.Typer(help="This party's trusted suppliers and their mutual recognition.", no_args_is_help=True)
disclose_app = typer.Typer(
    help="Disclose an inadvertent violation: hotline notice, then the narrative.", no_args_is_help=True
)
exportctl_app.add_typer(suppliers_app, name="suppliers")
exportctl_app.add_typer(disclose_app, name="disclose")


def _node_call(method: str, path: str, node_dir: Path, token: str | None, **kw: Any) -> Any:
    return _call(node_dir, token, method, path, **kw)


def _text(text: str, lang: str, translation: str | None) -> dict[str, Any]:
    other = "zh" if lang == "en" else "en"
    return {"original": {"lang": lang, "text": text}, "translations": {other: translation} if translation else {}}


@suppliers_app.command("list")
def suppliers_list(node_dir: Path = NODE, token: str | None = TOKEN, as_json: bool = JSON) -> None:
    """Every party's trusted suppliers, with who recognizes each, since when, under which arrangement."""
    rows = _node_call("GET", "/api/v1/exportctl/recognized", node_dir, token)
    listed = _node_call("GET", "/api/v1/exportctl/suppliers", node_dir, token)
    if as_json:
        _print({"suppliers": listed, "recognition": rows})
        return
    table = Table(title="trusted suppliers / 可信供应商")
    for col in ("listed by", "supplier", "country", "status", "recognized by (since, arrangement)"):
        table.add_column(col)
    by_id = {(r["listed_by"], r["supplier_id"]): r["recognized_by"] for r in rows}
    for s in listed:
        recognized = by_id.get((s["party"], s["supplier_id"]), [])
        text = "; ".join(f"{r['party']} ({r['since']}, {r['arrangement']})" for r in recognized) or "-"
        table.add_row(s["party"], f"{s['supplier_id']}\n{s['name']}", s["country"], s["status"], text)
    Console().print(table)


@suppliers_app.command("add")
def suppliers_add(
    supplier_id: str = typer.Argument(..., help="a short id, e.g. acme-fab"),
    name: str = typer.Option(..., "--name"),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2, e.g. US"),
    item: list[str] = typer.Option([], "--item", help="ECCN or item covered (repeatable)"),
    effective: str = typer.Option(..., "--effective", help="YYYY-MM-DD"),
    basis: str = typer.Option("", "--basis", help="why this party trusts it"),
    delist: bool = typer.Option(False, "--delist", help="record that the supplier is no longer trusted"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """List (or with --delist, delist) a supplier this party trusts, as a record."""
    body = {
        "supplier_id": supplier_id,
        "name": name,
        "country": country,
        "items": item,
        "effective": effective,
        "basis": basis,
        "status": "delisted" if delist else "listed",
    }
    _print(_node_call("POST", "/api/v1/exportctl/suppliers", node_dir, token, json=body))


@suppliers_app.command("propose")
def suppliers_propose(
    arrangement: Path = typer.Argument(..., help="JSON file with the arrangement (see docs/exportctl.md)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Propose a mutual-recognition arrangement; prints the digest the other parties co-sign."""
    try:
        body = json.loads(arrangement.read_bytes())
    except (OSError, ValueError) as exc:
        raise MalformedRecord(f"cannot read {arrangement} as JSON: {exc}") from None
    _print(_node_call("POST", "/api/v1/exportctl/recognitions", node_dir, token, json=body))


@suppliers_app.command("sign")
def suppliers_sign(
    arrangement_id: str = typer.Argument(...),
    version: int = typer.Argument(...),
    digest: str = typer.Argument(..., help="the digest you read in: detente exportctl suppliers arrangements"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Co-sign the exact arrangement named by its digest."""
    body = {"arrangement_id": arrangement_id, "version": version, "digest": digest}
    _print(_node_call("POST", "/api/v1/exportctl/recognitions/sign", node_dir, token, json=body))


@suppliers_app.command("arrangements")
def suppliers_arrangements(node_dir: Path = NODE, token: str | None = TOKEN) -> None:
    """Mutual-recognition arrangements: digest, who signed, in force since."""
    _print(_node_call("GET", "/api/v1/exportctl/recognitions", node_dir, token))


@disclose_app.command("notify")
def disclose_notify(
    to: list[str] = typer.Argument(..., help="log origins of the parties to notify"),
    text: str = typer.Option(..., "--text", help="what was exported, to whom, when it was found"),
    lang: str = typer.Option("en", "--lang"),
    translation: str | None = typer.Option(None, "--translation", help="the text in the other language"),
    priority: str = typer.Option("immediate", "--priority", help="flash, immediate or routine"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """The initial notice of an inadvertent violation, through the hotline (as soon as possible)."""
    body = {"to": to, "text": _text(text, lang, translation), "priority": priority}
    _print(_node_call("POST", "/api/v1/exportctl/disclosures", node_dir, token, json=body))


@disclose_app.command("narrative")
def disclose_narrative(
    index: int = typer.Argument(..., help="the index of this party's notice in its own log"),
    narrative: Path = typer.Argument(..., help="JSON file: discovered_at, items, account, corrective_actions"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """The full narrative account (due within 180 days of the notice)."""
    try:
        body = json.loads(narrative.read_bytes())
    except (OSError, ValueError) as exc:
        raise MalformedRecord(f"cannot read {narrative} as JSON: {exc}") from None
    _print(
        _node_call(
            "POST", "/api/v1/exportctl/disclosures/narrative", node_dir, token, json={"index": index, "narrative": body}
        )
    )


@disclose_app.command("list")
def disclose_list(node_dir: Path = NODE, token: str | None = TOKEN, as_json: bool = JSON) -> None:
    """Disclosures sent and received, with the narrative clock."""
    rows = _node_call("GET", "/api/v1/exportctl/disclosures", node_dir, token)
    if as_json:
        _print(rows)
        return
    table = Table(title="inadvertent-violation disclosures / 无意违规披露")
    for col in ("notice", "to", "issued", "narrative due", "narrative"):
        table.add_column(col)
    for d in rows:
        given = (
            f"#{d['narrative']['index']}" if d["narrative"] else ("[red]missed[/red]" if d["narrative_missed"] else "-")
        )
        table.add_row(
            f"{d['origin']}#{d['index']}", ", ".join(d["to"]), d["issued"][:19], (d["narrative_due"] or "")[:19], given
        )
    Console().print(table)
