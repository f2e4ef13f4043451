"""``detente incident …`` and ``detente working-group``: work a running node's incident database
through its operator API (token from ``--token`` or ``DETENTE_TOKEN``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from detente.cli.args import parse_record_ref
from detente.cli.notices import NODE, TOKEN, _call
from detente.crypto.canonical import parse_json
from detente.errors import MalformedRecord
from detente.node.config import load_config

incident_app = typer.Typer(help="Report, search, classify and link AI incidents.", no_args_is_help=True)


def _key(text: str) -> tuple[str, str]:
    origin, sep, ident = text.rpartition("#")
    if not sep or not origin or not ident:
        raise MalformedRecord(f"{text!r} is not ORIGIN#ID", hint="e.g. us.detente.example/log#us-2026-0001")
    return origin, ident


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _short_key(origin: str, incident_id: str) -> str:
    return f"{origin.split('/')[0]}#{incident_id}"


def _key_column(table: Table, keys: list[str]) -> None:
    """The incident key column: as wide as the longest key and never wrapped, so a narrow
    terminal squeezes the other columns and never cuts a key (one longer than the terminal folds)."""
    table.add_column("incident", no_wrap=True, overflow="fold", min_width=max(map(len, keys), default=8))


def _utc(iso: str | None) -> str:
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else "-"


@incident_app.command("file")
def file(
    report: Path = typer.Argument(..., help="JSON file with the report (see GET /api/v1/catalogue)"),
    tlp: str = typer.Option(
        "TLP:CLEAR",
        "--tlp",
        help="TLP 2.0 marking; TLP:AMBER, TLP:AMBER+STRICT and TLP:RED seal the report to the --to recipients "
        "(docs/sealed.md)",
    ),
    to: list[str] = typer.Option([], "--to", help="a recipient of a sealed report (peer name or log origin)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """File one stage of an incident report; prints its position and possible duplicates. A
    TLP:AMBER or TLP:RED report is sealed to its recipients: only their nodes index it."""
    try:
        body = parse_json(report.read_bytes(), what=str(report))
    except OSError as exc:
        raise MalformedRecord(f"cannot read {report}: {exc.strerror}") from None
    _print(_call(node_dir, token, "POST", "/api/v1/incidents", json={"report": body, "tlp": tlp, "to": to}))


@incident_app.command("search")
def search(
    q: str = typer.Argument("", help="free text, English or Chinese"),
    any_word: bool = typer.Option(False, "--any", help="match any word instead of all"),
    harm_type: str | None = typer.Option(None, "--harm-type"),
    sector: str | None = typer.Option(None, "--sector"),
    min_severity: str | None = typer.Option(None, "--min-severity", help="low, medium, high, critical"),
    party: str | None = typer.Option(None, "--party", help="reporting party's log origin"),
    taxonomy: str | None = typer.Option(None, "--taxonomy", help="NAMESPACE:FIELD=VALUE"),
    critical: bool = typer.Option(False, "--critical", help="critical-infrastructure incidents only"),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Search every incident this node holds (its own party's and its peers')."""
    params: dict[str, Any] = {"q": q, "match": "any" if any_word else "all", "limit": limit}
    for name, value in (("harm_type", harm_type), ("sector", sector), ("min_severity", min_severity),
                        ("party", party), ("taxonomy", taxonomy)):  # fmt: skip
        if value:
            params[name] = value
    if critical:
        params["critical_infrastructure"] = "true"
    result = _call(node_dir, token, "GET", "/api/v1/incidents", params=params)
    if as_json:
        _print(result)
        return
    table = Table(title=f"{result['total']} incident(s)")
    _key_column(table, [_short_key(h["origin"], h["incident_id"]) for h in result["hits"]])
    for col in ("title", "severity", "stage", "occurred"):
        table.add_column(col)
    for h in result["hits"]:
        style = "bold red" if h["critical_infrastructure"] else None
        table.add_row(
            _short_key(h["origin"], h["incident_id"]), (f"[{h['tlp']}] " if h.get("tlp") else "") + h["title"][:70],
            h["severity"], h["stage"],
            (h["occurred"] or "-")[:10], style=style,
        )  # fmt: skip
    Console().print(table)


@incident_app.command("show")
def show(
    key: str = typer.Argument(..., help="ORIGIN#ID"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """One incident with its stages, regulatory clocks, classifications, links and comments (JSON)."""
    origin, ident = _key(key)
    _print(_call(node_dir, token, "GET", "/api/v1/incident", params={"origin": origin, "id": ident}))


@incident_app.command("similar")
def similar(
    key: str = typer.Argument(..., help="ORIGIN#ID"),
    limit: int = typer.Option(5, "--limit"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Possible duplicates of an incident (never linked automatically)."""
    origin, ident = _key(key)
    _print(
        _call(
            node_dir, token, "GET", "/api/v1/incident/similar", params={"origin": origin, "id": ident, "limit": limit}
        )
    )


@incident_app.command("classify")
def classify(
    key: str = typer.Argument(..., help="ORIGIN#ID"),
    namespace: str = typer.Option(..., "--namespace", help="e.g. OECD, CSETv1, MIT"),
    version: str = typer.Option(..., "--version", help="taxonomy version (GET /api/v1/taxonomies)"),
    attr: list[str] = typer.Option(..., "--attr", "-a", help="FIELD=VALUE (JSON values allowed; repeatable)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Classify an incident under a taxonomy, as this party."""
    origin, ident = _key(key)
    attributes: dict[str, Any] = {}
    for item in attr:
        name, sep, value = item.partition("=")
        if not sep:
            raise MalformedRecord(f"--attr {item!r} is not FIELD=VALUE")
        try:
            attributes[name] = json.loads(value)
        except ValueError:
            attributes[name] = value
    body = {"incident": {"origin": origin, "id": ident}, "namespace": namespace, "taxonomy_version": version,
            "attributes": attributes}  # fmt: skip
    _print(_call(node_dir, token, "POST", "/api/v1/incident/classifications", json=body))


@incident_app.command("link")
def link(
    source: str = typer.Argument(..., help="ORIGIN#ID"),
    relation: str = typer.Argument(..., help="same-as, duplicate-of or related-to"),
    target: str = typer.Argument(..., help="ORIGIN#ID"),
    note: str = typer.Option("", "--note"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Assert a link between two incidents (the other party may confirm or dispute it)."""
    (so, si), (to, ti) = _key(source), _key(target)
    body = {"source": {"origin": so, "id": si}, "target": {"origin": to, "id": ti}, "relation": relation, "note": note}
    _print(_call(node_dir, token, "POST", "/api/v1/incident/links", json=body))


@incident_app.command("confirm")
def confirm(
    link_record: str = typer.Argument(..., help="ORIGIN#INDEX of the link record"),
    dispute: bool = typer.Option(False, "--dispute", help="dispute the link instead of confirming it"),
    note: str = typer.Option("", "--note"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Confirm (or dispute) another party's link naming one of your incidents."""
    origin, index = parse_record_ref(link_record, hint="e.g. cn.detente.example/log#42 (the link record)")
    body = {"origin": origin, "index": index, "verdict": "dispute" if dispute else "confirm", "note": note}
    _print(_call(node_dir, token, "POST", "/api/v1/incident/links/confirm", json=body))


@incident_app.command("import")
def import_(
    source: str = typer.Argument(..., help="aiid (a snapshot folder), avid (avid-db folder) or atlas (ATLAS.yaml)"),
    path: Path = typer.Argument(..., help="where the data is"),
    chunk: int = typer.Option(200, "--chunk", min=1, max=10_000, help="reports per request"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Import public incident data as this party's records (idempotent; shows progress; reports
    what was skipped and why)."""
    from detente.incidents import importers

    readers = {"aiid": importers.read_aiid, "avid": importers.read_avid, "atlas": importers.read_atlas}
    if source not in readers:
        raise MalformedRecord(f"unknown source {source!r}", hint="one of aiid, avid, atlas")
    if not path.exists():
        raise MalformedRecord(f"{path} does not exist", hint="point at the data folder (or ATLAS.yaml)")
    config, _ = load_config(node_dir)
    batch = readers[source](path, config.origin)
    by_incident: dict[str, list[Any]] = {}
    for c in batch.classifications:
        by_incident.setdefault(c.incident.id, []).append(c)
    totals = {"reports": 0, "classifications": 0}
    skipped = [{"id": s.record, "reason": s.reason} for s in batch.skipped]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(f"importing {source}", total=len(batch.incidents))
        for start in range(0, len(batch.incidents), chunk):
            reports = batch.incidents[start : start + chunk]
            classes = [c for r in reports for c in by_incident.get(r.incident_id, [])]
            body = {
                "reports": [r.model_dump(mode="json", exclude_defaults=True) for r in reports],
                "classifications": [c.model_dump(mode="json") for c in classes],
            }
            result = _call(node_dir, token, "POST", "/api/v1/incidents/import", json=body)
            totals["reports"] += result["reports"]
            totals["classifications"] += result["classifications"]
            skipped += result["skipped"]
            progress.advance(task, len(reports))
    _print({"source": source, "imported": totals, "skipped": len(skipped), "skipped_examples": skipped[:20]})


@incident_app.command("export-stix")
def export_stix(
    q: str = typer.Argument("", help="free text; empty: every incident"),
    party: str | None = typer.Option(None, "--party", help="only this party's incidents"),
    out: Path | None = typer.Option(None, "--out", help="write the bundle here (default: standard output)"),
    profile: str = typer.Option(
        "strict",
        "--profile",
        help="strict: every object (stix2-validator --strict); interop: without the TLP marking-definition "
        "objects, as the validator's --interop profile wants",
    ),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Export incidents and their links as a STIX 2.1 bundle (Incident Core, TLP 2.0)."""
    params: dict[str, Any] = {"q": q, "profile": profile} | ({"party": party} if party else {})
    bundle = _call(node_dir, token, "GET", "/api/v1/incidents/stix", params=params)
    text = json.dumps(bundle, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"{sum(o['type'] == 'incident' for o in bundle['objects'])} incident(s) written to {out}")


@incident_app.command("import-stix")
def import_stix(
    bundle: Path = typer.Argument(..., help="a STIX 2.1 bundle (JSON)"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """File the incidents of a STIX 2.1 bundle as this party's reports; lists what was skipped."""
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise MalformedRecord(f"cannot read {bundle}: {exc.strerror}") from None
    _print(_call(node_dir, token, "POST", "/api/v1/incidents/stix", content=data))


def working_group(
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """The working group's view: counts by harm type, sector, severity and party; what officials
    must still do (open and missed regulatory clocks); which reporting regimes were considered and
    why each did or did not apply; the critical-infrastructure incidents."""
    view = _call(node_dir, token, "GET", "/api/v1/working-group")
    if as_json:
        _print(view)
        return
    console = Console()
    for facet in ("harm_type", "severity", "party", "sector"):
        table = Table(title=f"incidents by {facet.replace('_', ' ')}")
        table.add_column(facet)
        table.add_column("count", justify="right")
        for value, count in sorted(view["by"][facet].items(), key=lambda kv: -kv[1])[:12]:
            table.add_row(value, str(count))
        console.print(table)
    open_clocks = view["open_clocks"]
    clocks = Table(title=f"what officials must still do: {len(open_clocks)} open or missed regulatory clock(s)")
    _key_column(clocks, [_short_key(c["origin"], c["incident_id"]) for c in open_clocks])
    clocks.add_column("to do")
    for c in open_clocks:
        todo = f"{c['state'].upper()}: {c['regime']} {c['name']}\ndue {_utc(c['due'])}\n{c['obligation']}\n{c['basis']}"
        style = "bold red" if c["state"] == "missed" else None
        clocks.add_row(_short_key(c["origin"], c["incident_id"]), todo, style=style)
    console.print(clocks)
    regimes = Table(title="reporting regimes considered, and why each did or did not apply")
    regimes.add_column("regime")
    regimes.add_column("source, status; incidents it applied to or not, and why")
    for r in view.get("regimes", []):
        counts = r["incidents"]
        since = f"applies from {r['applies_from'][:10]}" if r["applies_from"] else "no date it applies from is known"
        lines = [
            r["name"],
            r["citation"],
            f"{r['status']}; {since}",
            f"applied to {counts.get('applies', 0)} incident(s)",
        ]
        lines += [f"not applied to {counts[code]}: {reasons[0]}" for code, reasons in r["why_not"].items()]
        regimes.add_row(r["regime"], "\n".join(lines))
    console.print(regimes)
    critical = view["critical_infrastructure"]
    shown = critical["latest"]
    cii = Table(title=f"critical-infrastructure incidents: {critical['total']} (latest {len(shown)})")
    _key_column(cii, [_short_key(h["origin"], h["incident_id"]) for h in shown])
    cii.add_column("severity, occurred, title")
    for h in shown:
        about = f"{h['severity']}, occurred {(h['occurred'] or '-')[:10]}\n{h['title']}"
        cii.add_row(_short_key(h["origin"], h["incident_id"]), about)
    console.print(cii)
