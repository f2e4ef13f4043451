"""``detente demo --parties N`` (N ≥ 3): N parties' nodes and a neutral witness node as real
processes on loopback, each party pinning every other party and the witness, running the
multilateral story: a notice to several parties (a receipt from each, one acknowledgement missing
on purpose), a hotline message to all, an incident shared with all and linked by two, a statement
adopted only once k of N co-sign (the quorum is in the document), an arrangement among a subset,
and an audit from public URLs and keys under a k-of-N witness policy.

Every outcome it prints is read back from the nodes' APIs and checked; a missing one stops the
demo with an error (exit 1), so the test of the demo is a test of the outcomes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from detente.cli.audit import audit_table
from detente.cli.demo import DEMO_AGREEMENT, STATEMENTS, console, wait_for
from detente.cli.demo_stories import (
    arrangement_flow,
    hold,
    hotline_flow,
    incident_flow,
    notice_flow,
    quorum_flow,
    stop_all,
)
from detente.errors import VerificationError
from detente.node.auditor import run_audit
from detente.node.localnet import LocalNode
from detente.tlog.policy import parse_policy

__all__ = ["MAX_PARTIES", "PARTY_NAMES", "outside_policy", "party_policy", "pin_all", "run_parties", "settled"]

# Two-letter names as the parties' node names and in their origins (``uk.detente.example/log``):
# the first two as in the two-party demo, then others of a plausible multilateral forum.
PARTY_NAMES = ("us", "cn", "uk", "fr", "in", "br", "za", "jp", "ke", "mx")
MAX_PARTIES = len(PARTY_NAMES)
SETTLE_TIMEOUT = 600.0  # N nodes on a loaded machine: generous, polled, never slept on


def wait_until(what: str, check: Callable[[], bool], timeout: float = 240.0) -> None:
    """The demo's wait, with a longer default: N nodes on one machine."""
    wait_for(what, check, timeout)


def _witness_name(node: LocalNode) -> str:
    return f"{node.name}-w"


def party_policy(me: LocalNode, parties: Sequence[LocalNode], neutral: LocalNode, k: int) -> str:
    """The C2SP tlog-policy ``me`` audits every party's log with: a checkpoint counts when ``k`` of
    the N−1 *other* parties' witnesses and the neutral witness cosigned it. A log's own party never
    cosigns its own log, so for another party's log at most N−2 of them can: k ≤ N−2 can be met on
    every log, k = N−1 only on ``me``'s own."""
    others = [p for p in parties if p is not me]
    if not 1 <= k <= len(others):
        raise ValueError(f"k must be between 1 and {len(others)}, not {k}")
    lines = [f"log {p.vkey} {p.url}" for p in parties]
    lines += [f"witness {_witness_name(p)} {p.cosigner_vkey}" for p in others]
    lines.append(f"witness {_witness_name(neutral)} {neutral.cosigner_vkey}")
    lines.append(f"group others {k} {' '.join(_witness_name(p) for p in others)}")
    lines.append(f"group others-and-neutral all others {_witness_name(neutral)}")
    lines.append("quorum others-and-neutral")
    return "\n".join(lines) + "\n"


def outside_policy(parties: Sequence[LocalNode], neutral: LocalNode, k: int) -> str:
    """An outside auditor's policy: every party's log; a checkpoint counts when ``k`` of the
    parties' witnesses and the neutral witness cosigned it."""
    lines = [f"log {p.vkey} {p.url}" for p in parties]
    lines += [f"witness {_witness_name(p)} {p.cosigner_vkey}" for p in (*parties, neutral)]
    lines.append(f"group parties {k} {' '.join(_witness_name(p) for p in parties)}")
    lines.append(f"group parties-and-neutral all parties {_witness_name(neutral)}")
    lines.append("quorum parties-and-neutral")
    return "\n".join(lines) + "\n"


def pin_all(parties: Sequence[LocalNode], witness: LocalNode) -> None:
    """Keys exchanged out of band and pinned: each party pins every other party and the neutral
    witness; the witness pins every party. One thread per node (each edits only its own config)."""

    def pin_for(node: LocalNode) -> None:
        for other in [*parties, witness] if node is not witness else parties:
            if other is not node:
                node.pin(other)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(pin_for, [*parties, witness]))


def _exchange(parties: Sequence[LocalNode], records: int) -> None:
    """Each party in turn sends a bilingual statement that refers to the previous party's last one."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("exchanging signed records", total=len(parties) * records)
        last: tuple[LocalNode, dict[str, Any]] | None = None
        for i in range(records):
            for p in parties:
                en, zh = STATEMENTS[i % len(STATEMENTS)]
                refs = []
                if last is not None:
                    refs = [
                        {"origin": last[0].origin, "index": last[1]["index"], "leaf_hash": last[1]["leaf_hash"]}
                        | {"rel": "reply-to"}
                    ]
                sent = p.send(
                    "detente.dev/statement/v1",
                    en.format(n=f"{p.name}-{i}"),
                    translations={"zh-Hans": zh.format(n=f"{p.name}-{i}")},
                    refs=refs,
                )
                last = (p, sent)
                progress.advance(task)


def settled(parties: Sequence[LocalNode], witness: LocalNode) -> bool:
    """Every party's log mirrored by every other party at its current size, and its checkpoint
    cosigned by every other party and the witness."""
    status = {p.name: p.status() for p in parties}
    for p in parties:
        s = status[p.name]
        if not {q.origin for q in parties if q is not p} | {witness.origin} <= set(s["cosigned_by"]):
            return False
        for q in parties:
            if q is p:
                continue
            mirrored = [x["mirrored_size"] for x in status[q.name]["peers"] if x["name"] == p.name]
            if mirrored != [s["size"]]:
                return False
    return True


def _audit(directory: Path, parties: Sequence[LocalNode], witness: LocalNode) -> Path:
    k = (len(parties) - 1) // 2 + 1  # a majority of the N-1 parties that can cosign each log
    policy_file = directory / "policy.txt"
    policy_file.write_text(outside_policy(parties, witness, k))
    console.print(
        f"audit policy: a checkpoint counts when {k} of the {len(parties)} parties' witnesses "
        "and the neutral witness cosigned it"
    )
    result = run_audit(parse_policy(policy_file.read_text()), directory / "audit-state.json")
    console.print(audit_table(result, "audit from public URLs and keys alone"))
    console.print(f"cross-log references resolved to their exact leaves: {result.references}")
    if not result.clean:
        raise VerificationError("the audit is not clean: " + "; ".join(result.problems or ["see table"]))
    return policy_file


def run_parties(directory: Path, n: int, records: int, keep_running: bool) -> None:
    """The N-party demo; every node it started is stopped when it ends (Ctrl-C, SIGTERM too)."""
    if directory.exists():
        shutil.rmtree(directory)
    parties = [LocalNode(name, f"{name}.detente.example/log", directory / name) for name in PARTY_NAMES[:n]]
    witness = LocalNode("witness", "witness.detente.example/log", directory / "witness")
    nodes = [*parties, witness]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda node: node.init(), nodes))
        for node in nodes:
            node.use_agreement(DEMO_AGREEMENT)
        pin_all(parties, witness)
        for node in nodes:
            node.start(timeout=180)
            console.print(f"[bold]{node.name:>7}[/] {node.url}  log key {node.vkey}")

        _exchange(parties, records)
        notice_flow(parties, wait_until)
        hotline_flow(parties, wait_until)
        incident_flow(parties, wait_until)
        quorum_flow(parties, wait_until, k=n // 2 + 1)
        arrangement_flow(parties, wait_until)

        wait_until(
            "every log to be mirrored by every party and cosigned",
            lambda: settled(parties, witness),
            SETTLE_TIMEOUT,
        )
        console.rule("checkpoints and their witnesses")
        for p in parties:
            s = p.status()
            by = ", ".join(sorted(o.split(".")[0] for o in s["cosigned_by"]))
            console.print(f"{p.name:>7}  size {s['size']:>4}, cosigned by {by}")
        policy_file = _audit(directory, parties, witness)

        console.print(
            f"[bold green]demo ok[/]: {n} parties exchanged, mirrored, cosigned and audited "
            "(quorum statement, subset arrangement)."
        )
        if keep_running:
            state = directory / "audit-state.json"
            hold(
                [
                    f"  console       {parties[0].url}/console/",
                    f"  token         {parties[0].token}",
                    f"  audit again   detente audit --policy {policy_file} --state {state}",
                ]
            )
        console.print("the nodes are stopped; run with --keep-running to explore them (console, API, audit again)")
    finally:
        stop_all(nodes)
