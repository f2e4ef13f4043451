"""``detente demo``: two parties' nodes and a neutral auditor node, as real processes on
loopback with SQLite, exchanging signed records both ways, witnessing each other, and a clean
audit from public URLs and keys alone."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from detente.cli.audit import audit_table
from detente.errors import StoreUnavailable, VerificationError
from detente.node.auditor import run_audit
from detente.node.localnet import LocalNode
from detente.tlog.policy import parse_policy

console = Console()

# (record type, English, Chinese): mechanisms the source document names.
NOTICES = [
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
]


def _wait(what: str, check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise StoreUnavailable(f"timed out waiting for {what}")


def demo(
    directory: Path = typer.Option(Path("demo-node"), "--dir", help="where the three nodes' folders go"),
    records: int = typer.Option(20, "--records", min=1, max=10_000, help="records each party sends"),
    keep_running: bool = typer.Option(False, "--keep-running", help="leave the nodes up to explore (Ctrl-C stops)"),
) -> None:
    """Start us, cn and a neutral auditor node on loopback; exchange, witness, audit."""
    if directory.exists():
        shutil.rmtree(directory)
    us = LocalNode("us", "us.detente.example/log", directory / "us")
    cn = LocalNode("cn", "cn.detente.example/log", directory / "cn")
    auditor = LocalNode("audit", "audit.detente.example/log", directory / "audit")
    nodes = [us, cn, auditor]
    try:
        for n in nodes:
            n.init()
        # Keys are exchanged out of band and pinned: each party witnesses the other; the auditor
        # witnesses both and both pin the auditor as a witness of theirs.
        us.pin(cn)
        cn.pin(us)
        auditor.pin(us)
        auditor.pin(cn)
        us.pin(auditor)
        cn.pin(auditor)
        for n in nodes:
            n.start()
            console.print(f"[bold]{n.name:>5}[/] {n.url}  log key {n.vkey}")

        sent: dict[str, list[dict[str, Any]]] = {"us": [], "cn": []}
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("exchanging signed records", total=2 * records)
            for i in range(records):
                rtype, en, zh = NOTICES[i % len(NOTICES)]
                sent["us"].append(us.send(rtype, en.format(n=i), translations={"zh-Hans": zh.format(n=i)}))
                progress.advance(task)
                # CN answers each US record, referring to the exact leaf it answers.
                ref = {
                    "origin": us.origin,
                    "index": sent["us"][-1]["index"],
                    "leaf_hash": sent["us"][-1]["leaf_hash"],
                    "rel": "reply-to",
                }
                sent["cn"].append(
                    cn.send(
                        "detente.dev/hotline-message/v1",
                        f"已收到 {i}。",
                        lang="zh-Hans",
                        translations={"en": f"Received {i}."},
                        refs=[ref],
                    )
                )
                progress.advance(task)

        def settled() -> bool:
            s_us, s_cn = us.status(), cn.status()
            mirrored = all(p["mirrored_size"] == s_cn["size"] for p in s_us["peers"] if p["name"] == "cn") and all(
                p["mirrored_size"] == s_us["size"] for p in s_cn["peers"] if p["name"] == "us"
            )
            return (
                mirrored
                and {"cn.detente.example/log", "audit.detente.example/log"} <= set(s_us["cosigned_by"])
                and {"us.detente.example/log", "audit.detente.example/log"} <= set(s_cn["cosigned_by"])
            )

        _wait("both logs to be mirrored and cosigned", settled)
        for n in (us, cn):
            console.rule(f"{n.name}: checkpoint with its witnesses' cosignatures")
            text = httpx.get(f"{n.url}/log/checkpoint", timeout=10).text
            console.print(text, markup=False, highlight=False, soft_wrap=True)

        policy_file = directory / "policy.txt"
        policy_file.write_text(
            f"log {us.vkey} {us.url}\nlog {cn.vkey} {cn.url}\n"
            f"witness us-w {us.cosigner_vkey}\nwitness cn-w {cn.cosigner_vkey}\n"
            f"witness auditor-w {auditor.cosigner_vkey}\n"
            "group parties any us-w cn-w\ngroup parties-and-auditor all parties auditor-w\n"
            "quorum parties-and-auditor\n"
        )
        result = run_audit(parse_policy(policy_file.read_text()), directory / "audit-state.json")
        table = audit_table(result, "audit from public URLs and keys alone")
        console.print(table)
        console.print(f"cross-log references resolved to their exact leaves: {result.references}")
        if not result.clean:
            raise VerificationError("the audit is not clean: " + "; ".join(result.problems or ["see table"]))

        console.print("[bold green]demo ok[/]: records exchanged both ways, mirrored, cosigned and audited.")
        console.print("Where to look next:")
        console.print(f"  API docs      {us.url}/docs   (token: {us.token})")
        console.print(f"  checkpoint    {cn.url}/log/checkpoint")
        console.print(f"  audit again   detente audit --policy {policy_file} --state {directory / 'audit-state.json'}")
        if keep_running:
            console.print("nodes keep running; press Ctrl-C to stop them")
            while True:
                time.sleep(3600)
    finally:
        for n in nodes:
            n.stop()
