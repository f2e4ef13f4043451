"""``detente demo``: two parties, each with its own key and SQLite log, sign records, witness
each other's checkpoints and check an inclusion proof with nothing but public keys."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import VerificationError
from detente.node.keyfile import read_identity, write_identity
from detente.node.tilelog import TileLog
from detente.records.entry import open_entry, seal_record
from detente.records.record import Record
from detente.records.text import BilingualText, LangText
from detente.store.sqlite import SQLiteStore
from detente.tlog.checkpoint import open_checkpoint
from detente.tlog.cosignature import cosign, verify_cosignatures
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_consistency, verify_inclusion

console = Console()

PARTIES = {
    "us": "us.detente.example/log",
    "cn": "cn.detente.example/log",
}

# (record type, English, Chinese): the mechanisms the source document names.
TEMPLATES = [
    (
        "detente.dev/pre-test-notification/v1",
        "Pre-test notification {n}: high-risk AI model evaluation scheduled; window and contact attached.",
        "测试前通知 {n}：已安排高风险人工智能模型评估；附时间窗口和联系人。",
    ),
    (
        "detente.dev/hotline-message/v1",
        "Hotline link test {n}: please acknowledge receipt.",
        "热线链路测试 {n}：请确认收到。",
    ),
    (
        "detente.dev/incident-report/v1",
        "Incident report {n}: AI-enabled disinformation campaign observed; initial stage.",
        "事件报告 {n}：发现人工智能驱动的虚假信息活动；初步阶段。",
    ),
    (
        "detente.dev/statement/v1",
        "Statement {n}: both parties affirm meaningful human control over AI-enabled weapon systems.",
        "声明 {n}：双方确认对人工智能赋能武器系统保持有意义的人类控制。",
    ),
]


def _records(party: str, start: int, count: int, original: str) -> list[Record]:
    out = []
    now = datetime.now(UTC)
    for n in range(start, start + count):
        rtype, en, zh = TEMPLATES[n % len(TEMPLATES)]
        texts = {"en": en.format(n=n), "zh-Hans": zh.format(n=n)}
        other = "zh-Hans" if original == "en" else "en"
        out.append(
            Record(
                type=rtype,
                party=party,
                issued=now,
                body={"sequence": n},
                text=BilingualText(
                    original=LangText(lang=original, text=texts[original]),
                    translations={other: texts[other]},
                ),
            )
        )
    return out


def _append_all(
    log: TileLog, ident: Ed25519Identity, records: list[Record], batch: int, progress: Progress, label: str
) -> None:
    task = progress.add_task(label, total=len(records))
    for i in range(0, len(records), batch):
        chunk = records[i : i + batch]
        log.append([seal_record(r, ident) for r in chunk])
        progress.advance(task, len(chunk))


def demo(
    directory: Path = typer.Option(Path("demo-node"), "--dir", help="where the two nodes' keys and databases go"),
    records: int = typer.Option(2000, "--records", min=1, max=1_000_000, help="records per party"),
    batch: int = typer.Option(500, "--batch", min=1, max=10_000, help="records per append batch"),
    fresh: bool = typer.Option(True, "--fresh/--reuse", help="start from empty nodes"),
) -> None:
    """Run two parties' logs on SQLite: sign, append, witness, prove, detect tampering."""
    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    idents: dict[str, Ed25519Identity] = {}
    logs: dict[str, TileLog] = {}
    for side, origin in PARTIES.items():
        keyfile = directory / side / "party.key"
        if not keyfile.exists():
            write_identity(Ed25519Identity.generate(origin), keyfile)
        idents[side] = read_identity(keyfile)
        logs[side] = TileLog.create(SQLiteStore(directory / side / "log.db", create=True), idents[side])
        console.print(f"[bold]{origin}[/]  vkey {idents[side].vkey()}")

    us, cn = logs["us"], logs["cn"]
    us_vkey, cn_cosigner = idents["us"].vkey(), idents["cn"].cosigner_vkey()
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        _append_all(
            us,
            idents["us"],
            _records(us.origin, us.size, records, "en"),
            batch,
            progress,
            "us: sign + append",
        )
        _append_all(
            cn,
            idents["cn"],
            _records(cn.origin, cn.size, records, "zh-Hans"),
            batch,
            progress,
            "cn: sign + append",
        )
    elapsed = time.perf_counter() - started

    # The CN node witnesses the US log: verify with the US key only, then cosign.
    first = open_checkpoint(us.signed_checkpoint(), [verifier_for(us_vkey)], origin=us.origin)
    cosig = cosign(first.checkpoint, idents["cn"], int(time.time()))
    cosigned = first.note.note.with_signatures([cosig])
    console.rule("US checkpoint, cosigned by the CN witness")
    console.print(cosigned.to_bytes().decode(), markup=False, highlight=False, soft_wrap=True)

    # US appends more; the witness checks the log grew append-only before cosigning again.
    with Progress(console=console, transient=True) as progress:
        _append_all(
            us,
            idents["us"],
            _records(us.origin, us.size, max(records // 4, 1), "en"),
            batch,
            progress,
            "us: more records",
        )
    second = open_checkpoint(us.signed_checkpoint(), [verifier_for(us_vkey)], origin=us.origin)
    proof = us.consistency_proof(first.checkpoint.size, second.checkpoint.size)
    verify_consistency(
        first.checkpoint.size, second.checkpoint.size, first.checkpoint.root, second.checkpoint.root, proof
    )
    console.print(
        f"consistency {first.checkpoint.size} → {second.checkpoint.size}: verified "
        f"({len(proof)} hashes); CN cosigns the new checkpoint"
    )

    # An auditor with only public keys checks one record end to end.
    index = first.checkpoint.size // 2
    note = parse_note(cosigned.to_bytes())
    audited = open_checkpoint(note, [verifier_for(us_vkey)], origin=us.origin)
    witnessed = verify_cosignatures(note, [verifier_for(cn_cosigner)])
    entry = us.entry(index)
    path = us.inclusion_proof(index, audited.checkpoint.size)
    verify_inclusion(leaf_hash(entry), index, audited.checkpoint.size, path, audited.checkpoint.root)
    record = open_entry(entry, [us_vkey]).record
    assert record.text is not None
    table = Table(title=f"record {index} of {us.origin}: inclusion proof verified")
    table.add_column("field")
    table.add_column("value")
    table.add_row("type", record.type)
    table.add_row("signed by", record.party)
    table.add_row("witnessed by", ", ".join(c.witness for c in witnessed))
    table.add_row(f"original ({record.text.original.lang})", record.text.original.text)
    for lang, text in record.text.translations.items():
        table.add_row(f"translation ({lang})", text)
    console.print(table)

    # Tampering is detected: one changed byte in the entry breaks the proof.
    tampered = bytearray(entry)
    tampered[len(tampered) // 2] ^= 0x01
    try:
        verify_inclusion(leaf_hash(bytes(tampered)), index, audited.checkpoint.size, path, audited.checkpoint.root)
    except VerificationError as exc:
        console.print(f"[green]tampered copy rejected:[/] {exc.message}")
    else:
        raise VerificationError("a tampered entry verified: the demo found a bug")

    total = records * 2 + max(records // 4, 1)
    console.print(
        f"[bold green]demo ok[/]: {total} signed records in two logs "
        f"({total / max(elapsed, 1e-9):,.0f} records/s incl. signing); files in {directory}/"
    )
