"""``detente report quarterly PERIOD``: a quarter's exchange report from a running node, as
``detente-PERIOD.html`` and ``detente-PERIOD.pdf``; ``--publish`` also signs and logs it as a
``quarterly-report`` record (token from ``--token`` or ``DETENTE_TOKEN``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import typer

from detente.cli.notices import NODE, TOKEN, _call
from detente.errors import MalformedError
from detente.report.labels import check_lang
from detente.report.period import period_name

__all__ = ["report_app"]

report_app = typer.Typer(help="Quarterly exchange reports: HTML and PDF, signed and exchanged.", no_args_is_help=True)


@report_app.callback()
def _reports() -> None:
    """Quarterly exchange reports: HTML and PDF, signed and exchanged."""


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise MalformedError(f"cannot write {path}: {exc.strerror}", hint="check --output") from None


@report_app.command("quarterly")
def quarterly(
    period: str = typer.Argument(..., help="the quarter, e.g. 2026Q4"),
    output: Path = typer.Option(Path("."), "--output", "-o", help="folder to write detente-PERIOD.html and .pdf to"),
    lang: str = typer.Option("en", "--lang", help="primary language: en or zh (the other follows each heading)"),
    publish: bool = typer.Option(False, "--publish", help="also sign and log the report as a record"),
    node_dir: Path = NODE,
    token: str | None = TOKEN,
) -> None:
    """Write a quarter's exchange report (HTML and PDF) from the node's logs."""
    name = period_name(period)
    check_lang(lang)
    if not output.is_dir():
        raise MalformedError(f"{output} is not a folder", hint="create it, or pass an existing folder with -o")
    base = f"/api/v1/reports/quarterly/{name}"
    published: dict[str, Any] | None = None
    if publish:
        # the documents written are rendered from the published figures, so their SHA-256 are
        # the ones the signed record states (checked here)
        from detente.report.figures import QuarterlyFigures
        from detente.report.html import render_html
        from detente.report.pdf import render_pdf  # reportlab: loaded only when used

        published = _call(node_dir, token, "POST", f"{base}/publish", params={"lang": lang})
        figures = QuarterlyFigures.model_validate(published.pop("figures"))
        html = render_html(figures, lang).encode()
        pdf = render_pdf(figures, lang)
        for what, data in (("html", html), ("pdf", pdf)):
            if hashlib.sha256(data).hexdigest() != published[f"{what}_sha256"]:
                raise MalformedError(
                    f"the {what.upper()} rendered here does not match the hash the node published",
                    hint="run detente report from the same detente version as the node",
                )
    else:
        html = _call(node_dir, token, "GET", f"{base}.html", params={"lang": lang}, binary=True)
        pdf = _call(node_dir, token, "GET", f"{base}.pdf", params={"lang": lang}, binary=True)
    for suffix, data in (("html", html), ("pdf", pdf)):
        path = output / f"detente-{name}.{suffix}"
        _write(path, data)
        typer.echo(f"wrote {path} ({len(data):,} bytes)")
    if published is not None:
        typer.echo(json.dumps(published, ensure_ascii=False, indent=2))
