"""``detente demo``: two parties' nodes and a neutral auditor node, as real processes on
loopback with SQLite, exchanging signed records both ways, witnessing each other, and a clean
audit from public URLs and keys alone."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from detente.cli.audit import audit_table
from detente.errors import StoreUnavailable, VerificationError
from detente.exportctl.brief import one_line
from detente.node.auditor import run_audit
from detente.node.localnet import LocalNode, parties_policy
from detente.tlog.policy import parse_policy

console = Console()

# (English, Chinese): statements on the mechanisms the source document names.
STATEMENTS = [
    (
        "Statement {n}: both parties affirm meaningful human control over AI-enabled weapon systems.",
        "声明 {n}：双方确认对人工智能赋能武器系统保持有意义的人类控制。",
    ),
    (
        "Statement {n}: shared robustness benchmarks will be published with signed results.",
        "声明 {n}：将公布共享的鲁棒性基准及其签名结果。",
    ),
    (
        "Statement {n}: AI-enabled disinformation incidents will be reported to the working group.",
        "声明 {n}：人工智能驱动的虚假信息事件将报告给工作组。",
    ),
]
# Deadlines for the demo: a link test must be acknowledged within 3 seconds, so the demo can
# show a missed deadline and its escalation without waiting an hour.
DEMO_AGREEMENT = {
    "agreement_id": "detente-demo",
    "response_within": {
        "detente.dev/link-test/v1": 3,
        "detente.dev/pre-test-notification/v1": 86400,
        "detente.dev/hotline-message/v1": 3600,
    },
    "escalation": [{"action": "resend", "after": 0}, {"action": "second-channel", "after": 1}],
}


def wait_for(what: str, check: Callable[[], object], timeout: float = 30.0) -> None:
    """Poll ``check`` until it holds, or a typed error naming ``what`` (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise StoreUnavailable(f"timed out waiting for {what}")


def _protocol_flow(us: LocalNode, cn: LocalNode) -> None:
    """A notice acknowledged, an urgent hotline message, and a deadline missed on purpose."""
    console.rule("notification protocol")
    from detente.cli.demo_stories import pre_test_notice  # it imports this module's console

    notice = pre_test_notice(us, [cn.origin], "US-2026-041")
    wait_for(
        "cn's automatic receipt",
        lambda: us.thread(us.origin, notice["index"]).get("states") == {cn.origin: "received"},
    )
    console.print(
        f"us → cn  pre-test notification #{notice['index']}: [bold]received[/] (automatic receipt in cn's log)"
    )
    cn.api("POST", f"/api/v1/threads/{us.origin}/{notice['index']}/ack", json={"note": "已阅 / noted"})
    wait_for(
        "cn's acknowledgement", lambda: us.thread(us.origin, notice["index"]).get("states") == {cn.origin: "answered"}
    )
    console.print("         acknowledged by a cn officer: [bold]answered[/]")
    flash = cn.send(
        "detente.dev/hotline-message/v1",
        "紧急：检测到针对电网调度系统的人工智能驱动攻击迹象。",
        lang="zh-Hans",
        translations={"en": "Urgent: signs of an AI-driven attack on grid dispatch systems."},
        to=[us.origin],
        body={"priority": "flash", "topic": "critical-infrastructure-early-warning", "sector": "energy"},
    )
    wait_for("the flash message at us", lambda: bool(us.thread(cn.origin, flash["index"])))
    us.api("POST", f"/api/v1/threads/{cn.origin}/{flash['index']}/ack", json={"note": "received, investigating"})
    console.print(
        f"cn → us  [bold red]FLASH[/] hotline message #{flash['index']} (critical-infrastructure early warning): "
        "received and acknowledged"
    )
    test = us.send(
        "detente.dev/link-test/v1", "The quick brown fox jumped over the lazy dog's back 1234567890", to=[cn.origin]
    )
    console.print(f"us → cn  link test #{test['index']}: nobody at cn answers within the agreed 3 s …")

    def missed() -> bool:
        t = us.thread(us.origin, test["index"])
        types = [r["record"]["type"] for r in cn.api("GET", "/api/v1/records", params={"limit": 1000}).json()]
        return bool(t.get("escalations")) and "detente.dev/deadline-missed/v1" in types

    wait_for("the missed deadline and its escalation", missed)
    console.print(
        "         deadline missed: recorded in [bold]both[/] logs; us escalated "
        f"(step {us.thread(us.origin, test['index'])['escalations'][-1]}: resend)"
    )


def _incident_flow(us: LocalNode, cn: LocalNode) -> None:
    """An incident reported by one party, found in Chinese at the other, reported there too,
    suggested as a duplicate, linked, and the link confirmed."""
    console.rule("shared incident database")
    report = {
        "incident_id": "us-2026-0007",
        "category": "serious-ai-incident",
        "title": {
            "original": {
                "lang": "en",
                "text": "Load-forecasting model under-predicted demand; regional grid shed load",
            },
            "translations": {"zh-Hans": "负荷预测模型低估需求，区域电网被迫减负荷"},
        },
        "description": {
            "original": {
                "lang": "en",
                "text": "A machine-learning load forecast fed automatic dispatch; in a cold snap it under-predicted "
                "demand by 18 % and operators shed load for 40 minutes.",
            }
        },
        "ai_relation": "the model's forecast drove automatic dispatch decisions",
        "submitter": "US grid regulator duty desk",
        "supporting_materials": ["https://example.org/grid/2026-11-20-outage"],
        "severity": "high",
        "harm_types": ["critical-infrastructure"],
        "critical_infrastructure": True,
        "sectors": ["energy"],
        "occurred_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "aware_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "jurisdictions": ["EU"],
    }
    filed = us.api("POST", "/api/v1/incidents", json={"report": report}).json()
    console.print(
        f"us       incident {report['incident_id']} filed as #{filed['index']}; critical infrastructure, so an "
        f"early-warning hotline message #{filed['early_warning']['index']} went to cn at once"
    )

    def found() -> list[dict[str, Any]]:
        return list(cn.api("GET", "/api/v1/incidents", params={"q": "电网 负荷"}).json()["hits"])

    wait_for("us's incident in cn's search", lambda: bool(found()))
    console.print(f"cn       search 「电网 负荷」 finds: {found()[0]['incident_id']} ({found()[0]['title'][:60]}…)")
    own = dict(report)
    own.update(
        incident_id="cn-2026-0113",
        title={
            "original": {"lang": "zh-Hans", "text": "区域电网减负荷：负荷预测模型故障"},
            "translations": {"en": "Regional grid load shedding: load-forecasting model failure"},
        },
        submitter="CN grid operator",
        jurisdictions=["CN"],
        reporter_type="cii-operator",
    )
    mine = cn.api("POST", "/api/v1/incidents", json={"report": own}).json()
    top = mine["possible_duplicates"][0]
    console.print(f"cn       files its own report; possible duplicate: {top['incident_id']} (score {top['score']})")
    asserted: dict[str, Any] = {}

    def linked() -> bool:  # a busy SQLite node may answer 503 (retry later): the demo retries it
        resp = cn.api(
            "POST",
            "/api/v1/incident/links",
            json={
                "source": {"origin": cn.origin, "id": own["incident_id"]},
                "target": {"origin": top["origin"], "id": top["incident_id"]},
                "relation": "same-as",
            },
        )
        if resp.status_code == 201:
            asserted.update(resp.json())
        elif resp.status_code < 500:
            raise VerificationError(f"cn could not assert the link: {resp.text[:300]}")
        return resp.status_code == 201

    wait_for("cn to assert the link", linked)
    link = asserted

    def confirmed() -> bool:
        body = {"origin": cn.origin, "index": link["index"], "verdict": "confirm", "note": "same event / 同一事件"}
        return us.api("POST", "/api/v1/incident/links/confirm", json=body).status_code == 201

    wait_for("us to confirm cn's link", confirmed)
    console.print("cn → us  link same-as asserted by cn, [bold]confirmed[/] by us; nothing merged or deleted")


def _media_flow(us: LocalNode, cn: LocalNode) -> None:
    """An AI-generated image labeled by cn under both regimes (China's label first, then C2PA),
    checked at us against cn's published root; a takedown request from us answered by cn."""
    console.rule("synthetic media")
    try:
        import c2pa  # noqa: F401
    except ImportError:
        console.print("(skipped: the media extra is not installed: pip install 'detente[media]')")
        return
    image = (resources.files("detente.cli") / "demo_data" / "generated.jpg").read_bytes()
    params = {"producer": "001191110102MACQD9K64010000", "produce_id": "cn-demo-0001"}
    labeled = cn.api("POST", "/api/v1/labels/apply", content=image, params=params).content
    console.print(
        f"cn       labels an AI-generated image: AIGC implicit label, then C2PA signed ({len(labeled):,} bytes)"
    )

    def anchored() -> bool:
        return any(a["party"] == cn.origin for a in us.api("GET", "/api/v1/labels/anchors").json())

    wait_for("cn's C2PA root at us", anchored)
    report = us.api("POST", "/api/v1/labels/check", content=labeled, params={"record": "true"}).json()
    verdicts = ", ".join(f"{r['regime']} {r['verdict']}" for r in report["regimes"])
    console.print(
        f"us       checks it: C2PA [bold]{report['c2pa']['state']}[/] (cn's root, published as a record); {verdicts}"
    )
    plain = us.api("POST", "/api/v1/labels/check", content=image).json()
    failed = [rule for r in plain["regimes"] for rule in r["failed"]]
    console.print(f"us       the unlabeled original fails: {', '.join(failed)}")
    request = {
        "content_sha256": plain["sha256"],
        "url": "https://video.example.cn/v/8812",
        "platform": "video.example.cn",
        "category": "unlabeled-synthetic",
        "legal_basis": "takedown arrangement of 2026, clause 3 (unlabeled synthetic media)",
        "evidence": plain,
    }
    text = {"original": {"lang": "en", "text": "Unlabeled synthetic image"}, "translations": {"zh": "未标识的合成图像"}}
    sent = us.api("POST", "/api/v1/takedowns", json={"to": cn.origin, "request": request, "text": text}).json()
    answer = {"action": "acted", "measures": ["labelled", "demoted"]}

    def answered() -> bool:
        body = {"origin": us.origin, "index": sent["index"], "response": answer}
        return cn.api("POST", "/api/v1/takedowns/response", json=body).status_code == 201

    wait_for("cn to answer the takedown", answered)
    console.print(f"us → cn  takedown request #{sent['index']}; cn [bold]acted[/]: labelled, demoted")


def _export_flow(us: LocalNode, cn: LocalNode) -> None:
    """Two chips classified as of two dates, a co-signed supplier recognition, a disclosure."""
    console.rule("export controls")
    # the verdict with any is-informed letter (the H20's of April 2025) and the unverified-fact count
    for name, day in (("A800 80GB", "2023-06-01"), ("A800 80GB", "2024-01-01"), ("H20", "2025-06-01")):
        out = us.api("POST", "/api/v1/exportctl/classify", json={"name": name, "as_of": day, "regimes": ["us-ear"]})
        console.print(f"us       classify {name} as of {day}: {one_line(out.json(), 'us-ear')}")
    supplier = {"supplier_id": "acme-fab", "name": "ACME Foundry", "country": "US", "effective": "2026-01-01"}
    us.api("POST", "/api/v1/exportctl/suppliers", json=supplier)
    arrangement = {
        "arrangement_id": "mra-demo",
        "parties": [us.origin, cn.origin],
        "recognizes": {cn.origin: [us.origin], us.origin: [cn.origin]},
        "scope": {"original": {"lang": "en", "text": "Trusted suppliers"}, "translations": {"zh": "可信供应商"}},
        "effective": "2026-01-01",
    }
    digest = us.api("POST", "/api/v1/exportctl/recognitions", json=arrangement).json()["digest"]
    sign = {"arrangement_id": "mra-demo", "version": 1, "digest": digest}
    wait_for(
        "cn to co-sign", lambda: cn.api("POST", "/api/v1/exportctl/recognitions/sign", json=sign).status_code == 201
    )

    def recognized() -> list[dict[str, Any]]:
        rows = us.api("GET", "/api/v1/exportctl/recognized", params={"supplier_id": "acme-fab"}).json()
        return list(rows[0]["recognized_by"]) if rows else []

    wait_for("the recognition in force at us", lambda: bool(recognized()))
    by = recognized()[0]
    console.print(f"us + cn  acme-fab (listed by us) recognized by cn since {by['since']} under {by['arrangement']}")
    text = {
        "original": {"lang": "en", "text": "One board shipped without a licence"},
        "translations": {"zh": "一块板卡未经许可出口"},
    }
    notice = us.api("POST", "/api/v1/exportctl/disclosures", json={"to": [cn.origin], "text": text}).json()
    due = next(d for d in us.api("GET", "/api/v1/exportctl/disclosures").json() if d["index"] == notice["index"])
    console.print(
        f"us → cn  inadvertent-violation notice #{notice['index']} by hotline; "
        f"full narrative due {due['narrative_due'][:10]}"
    )


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def demo(
    directory: Path = typer.Option(Path("demo-node"), "--dir", help="where the three nodes' folders go"),
    records: int = typer.Option(20, "--records", min=1, max=10_000, help="records each party sends"),
    keep_running: bool = typer.Option(False, "--keep-running", help="leave the nodes up to explore (Ctrl-C stops)"),
    parties: int = typer.Option(
        2,
        "--parties",
        min=2,
        max=10,
        help="how many parties: 2 is us, cn and an auditor; more (up to 10) run the multilateral story "
        "with a neutral witness (docs/cli.md)",
    ),
) -> None:
    """Start us, cn and a neutral auditor node on loopback; exchange, witness, audit. With
    --parties N (3 to 10): N parties and a neutral witness, the multilateral story. Every node it
    started is stopped when it ends, on Ctrl-C and on SIGTERM too."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # the finally below stops the nodes
    if parties > 2:
        from detente.cli.demo_parties import run_parties  # it imports this module's story text

        run_parties(directory, parties, records, keep_running)
        return
    if directory.exists():
        shutil.rmtree(directory)
    us = LocalNode("us", "us.detente.example/log", directory / "us")
    cn = LocalNode("cn", "cn.detente.example/log", directory / "cn")
    auditor = LocalNode("audit", "audit.detente.example/log", directory / "audit")
    nodes = [us, cn, auditor]
    from detente.cli.demo_stories import hold, stop_all  # it imports this module's console

    try:
        for n in nodes:
            n.init()
            n.use_agreement(DEMO_AGREEMENT)
        # Keys are exchanged out of band and pinned: each party witnesses the other; the auditor
        # witnesses both and both pin the auditor as a witness of theirs.
        us.pin(cn)
        cn.pin(us)
        auditor.pin(us)
        auditor.pin(cn)
        us.pin(auditor)
        cn.pin(auditor)
        for n in nodes:
            n.start(timeout=180)  # a loaded machine takes long to import and open the store
            console.print(f"[bold]{n.name:>5}[/] {n.url}  log key {n.vkey}")

        sent: dict[str, list[dict[str, Any]]] = {"us": [], "cn": []}
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("exchanging signed records", total=2 * records)
            for i in range(records):
                en, zh = STATEMENTS[i % len(STATEMENTS)]
                sent["us"].append(
                    us.send("detente.dev/statement/v1", en.format(n=i), translations={"zh-Hans": zh.format(n=i)})
                )
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
                        "detente.dev/statement/v1",
                        f"已收到 {i}。",
                        lang="zh-Hans",
                        translations={"en": f"Received {i}."},
                        refs=[ref],
                    )
                )
                progress.advance(task)

        _protocol_flow(us, cn)
        _incident_flow(us, cn)
        _media_flow(us, cn)
        _export_flow(us, cn)

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

        wait_for("both logs to be mirrored and cosigned", settled)
        for n in (us, cn):
            console.rule(f"{n.name}: checkpoint with its witnesses' cosignatures")
            text = httpx.get(f"{n.url}/log/checkpoint", timeout=10).text
            console.print(text, markup=False, highlight=False, soft_wrap=True)

        policy_file = directory / "policy.txt"
        policy_file.write_text(parties_policy(us, cn, auditor))
        result = run_audit(parse_policy(policy_file.read_text()), directory / "audit-state.json")
        table = audit_table(result, "audit from public URLs and keys alone")
        console.print(table)
        console.print(f"cross-log references resolved to their exact leaves: {result.references}")
        if not result.clean:
            raise VerificationError("the audit is not clean: " + "; ".join(result.problems or ["see table"]))

        console.print("[bold green]demo ok[/]: records exchanged both ways, mirrored, cosigned and audited.")
        if keep_running:
            console.print("Where to look next (while the nodes run):")
            state = directory / "audit-state.json"
            hold(
                [
                    f"  console       {us.url}/console/",
                    f"  API docs      {us.url}/docs",
                    f"  token         {us.token}",
                    f"  checkpoint    {cn.url}/log/checkpoint",
                    f"  audit again   detente audit --policy {policy_file} --state {state}",
                ]
            )
        console.print("the nodes are stopped; run with --keep-running to explore them (console, API, audit again)")
    finally:
        stop_all(nodes)
