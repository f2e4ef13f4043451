"""``detente``: the command line. Sub-commands live in their own modules; this module wires them
together and is the single place where errors become ``detente: error:`` lines and exit codes."""

from __future__ import annotations

import os
import sys

import typer

from detente import __version__
from detente.cli import (
    audit,
    catalogue,
    commitments,
    demo,
    evals,
    exportctl,
    incidents,
    journal,
    keys,
    log,
    media,
    node,
    note,
    notices,
    publish,
    report,
    sealed,
    tlog,
)
from detente.cli.render import render_error
from detente.errors import DetenteError, MalformedError

__all__ = ["app", "main"]

app = typer.Typer(
    name="detente",
    help="Verifiable AI confidence-building measures: signed records in witnessed Merkle logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(keys.app, name="key")
app.add_typer(log.app, name="log")
app.add_typer(note.app, name="note")
app.add_typer(tlog.app, name="tlog")
app.add_typer(node.peer_app, name="peer")
app.add_typer(node.token_app, name="token")
app.command("init")(node.init)
app.command("serve")(node.serve)
app.add_typer(notices.notice_app, name="notice")
app.command("inbox")(notices.inbox)
app.command("ack")(notices.ack)
app.add_typer(incidents.incident_app, name="incident")
app.command("working-group")(incidents.working_group)
app.add_typer(evals.eval_app, name="eval")
app.add_typer(commitments.commitment_app, name="commitment")
app.add_typer(commitments.glossary_app, name="glossary")
app.add_typer(media.label_app, name="label")
app.add_typer(media.watermark_app, name="watermark")
app.add_typer(media.takedown_app, name="takedown")
app.add_typer(exportctl.exportctl_app, name="exportctl")
app.add_typer(report.report_app, name="report")
app.command("catalogue")(catalogue.catalogue)
app.command("audit")(audit.audit)
app.command("publish")(publish.publish)
app.command("open")(sealed.open_record)
app.command("disclose")(sealed.disclose)
keys.app.command("encryption")(sealed.encryption)
app.command("journal")(journal.journal)
app.command("demo")(demo.demo)


@app.command("version")
def version() -> None:
    """Print the detente version."""
    typer.echo(__version__)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the detente version and exit."
    ),
) -> None:
    """Verifiable AI confidence-building measures: signed records in witnessed Merkle logs."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        # not standalone: click's own errors come back here and are printed like every other
        # refusal (``detente: error:`` and ``detente: hint:``), not in click's box
        code = app(args=args, prog_name="detente", standalone_mode=False)
    except typer.TyperException as exc:  # typer's own (click's): usage, an unknown option, a bad value
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: typer printed its help, as before
            return 2
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "detente"
        usage = MalformedError(exc.format_message(), hint=f"see {where} --help")
        return render_error(usage, as_json="--json" in args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except DetenteError as exc:
        return render_error(exc, as_json="--json" in args)
    except (KeyboardInterrupt, typer.Abort):
        print("detente: error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, without a traceback unless asked for
        if os.environ.get("DETENTE_DEBUG"):
            raise
        print(f"detente: error: internal error ({exc.__class__.__name__}: {exc})", file=sys.stderr)
        print(
            "detente: hint: this is a bug in detente; rerun with DETENTE_DEBUG=1 for details and report it",
            file=sys.stderr,
        )
        return 4
    return code if isinstance(code, int) else 0  # typer.Exit(code) comes back as its code


if __name__ == "__main__":
    sys.exit(main())
