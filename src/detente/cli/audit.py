"""``detente audit``: verify party logs from their public URLs and keys alone."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from detente.cli.args import parse_record_ref
from detente.cli.note import read_input
from detente.crypto.canonical import parse_json
from detente.errors import MalformedPolicy, MalformedProof, VerificationError
from detente.node.auditor import AuditResult, check_disclosure, run_audit
from detente.node.config import load_agreement
from detente.tlog.policy import parse_policy

err = Console(stderr=True)


def audit_table(result: AuditResult, title: str) -> Table:
    table = Table(title=title)
    for col in ("log", "size", "records verified", "cosigned by", "problems"):
        table.add_column(col)
    for log in result.logs:
        table.add_row(
            log.origin,
            str(log.size),
            str(log.records),
            ", ".join(log.cosigned_by) or "-",
            "; ".join(log.problems) or "none",
        )
    return table


def _record(text: str) -> tuple[str, int]:
    return parse_record_ref(
        text, what="--record ", hint="e.g. --record us.detente.example/log#17", error=MalformedProof
    )


def audit(
    policy_file: Path = typer.Option(
        ..., "--policy", help="C2SP tlog-policy file: logs (vkey + URL), witnesses, quorum"
    ),
    state: Path | None = typer.Option(None, "--state", help="JSON file kept between runs (consistency over time)"),
    record: list[str] = typer.Option([], "--record", help="ORIGIN#INDEX whose inclusion to prove from the tiles"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    agreement: Path | None = typer.Option(
        None, "--agreement", help="the agreement's JSON file: deadlines and which witnesses' time counts (docs/time.md)"
    ),
    verify_disclosure: Path | None = typer.Option(
        None,
        "--verify-disclosure",
        help="a disclosure file (detente disclose): check that its content is what the sender sealed (docs/sealed.md)",
    ),
) -> None:
    """Audit logs: signatures, witness quorum, every entry since the last run, cross-log references,
    and every thread's outcome replayed on witnessed time (disputes listed; see docs/time.md).

    Exits 0 only when everything verifies (disputes about time are findings about the parties, not
    about the logs: they are reported, and do not fail the audit); the state file is updated only
    after a clean run.
    """
    try:
        policy = parse_policy(read_input(policy_file).decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedPolicy(f"{policy_file} is not UTF-8 text") from None
    if verify_disclosure is not None:
        disclosed = parse_json(read_input(verify_disclosure), what="disclosure")
        if not isinstance(disclosed, dict):
            raise VerificationError(f"{verify_disclosure} is not a disclosure (a JSON object)")
        _, content = check_disclosure(policy, disclosed)
        typer.echo(json.dumps({"verified": True, "record": disclosed["record"], "content": content}, indent=2,
                              ensure_ascii=False))  # fmt: skip
        return
    with Progress(console=err, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def tick(origin: str, done: int, total: int) -> None:
            if origin not in tasks:
                tasks[origin] = progress.add_task(origin, total=total)
            progress.update(tasks[origin], completed=done, total=total)

        rules = load_agreement(agreement) if agreement is not None else None
        result = run_audit(policy, state, records=[_record(r) for r in record], progress=tick, agreement=rules)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        Console().print(audit_table(result, "audit"))
        typer.echo(
            f"cross-log references checked: {result.references}; "
            f"{'clean' if result.clean else 'NOT clean: ' + '; '.join(result.problems)}"
        )
        t = result.time
        typer.echo(
            f"witnessed time: {t.verified} cosignatures verified, {len(t.refused)} refused, "
            f"{len(t.threads)} threads replayed, {len(t.disputes)} disputes"
        )
        for line in [*t.refused, *t.disputes]:
            typer.echo(f"  - {line}")
    if not result.clean:
        raise VerificationError("the audit found problems", hint="see the report above")
