"""The report desk, its API routes and the CLI on a real node (SQLite store, real signing and
appending) served over real HTTP on loopback by uvicorn in this process."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI, Header
from report_data import CN, at, incident, text
from typer.testing import CliRunner

from detente.api.problems import install_problem_handlers
from detente.api.reports import add_report_routes
from detente.cli.report import report_app
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.reports import ReportDesk
from detente.node.tokens import Principal, authenticate, issue_token
from detente.records.record import Record
from detente.report.figures import QuarterlyFigures
from detente.report.html import render_html
from detente.report.pdf import render_pdf
from detente.report.records import QUARTERLY_REPORT, QuarterlyReport
from detente.store.node_protocol import PeerRow

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()


@dataclass
class Served:
    node: Node
    url: str
    directory: Path
    admin: str
    viewer: str


def report_api(node: Node) -> FastAPI:
    """The routes as ``create_app`` will mount them (same authentication dependency)."""
    app = FastAPI()
    install_problem_handlers(app)

    def principal(role: str):  # type: ignore[no-untyped-def]
        def dep(authorization: Annotated[str | None, Header()] = None) -> Principal:
            who = authenticate(node.state, authorization, int(node.clock()))
            who.require(role)
            return who

        return dep

    add_report_routes(app, node, Depends(principal("viewer")), Depends(principal("officer")))
    return app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    local = LocalNode("us", "us.example/log", tmp_path_factory.mktemp("desk") / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base, clock=lambda: NOW)
    cn = LocalNode("cn", CN, tmp_path_factory.mktemp("desk") / "cn").init()  # a pinned peer that never answers
    node.syncer.follow(PeerRow(name="cn", url="http://127.0.0.1:9", vkey=cn.vkey, cosigner_vkey=None, added=0))
    me = node.signer.identity.name
    node.writer.append(
        Record(
            type="detente.dev/hotline-message/v1",
            party=me,
            issued=at("2026-10-10T08:00"),
            to=(CN,),
            body={"priority": "flash", "topic": "urgent-concern"},
            text=text("Unexpected launch detected", "en", "检测到意外发射"),
        )
    )
    node.writer.append(
        Record(
            type="detente.dev/incident-report/v1",
            party=me,
            issued=at("2026-11-01T08:00"),
            body=incident(
                "inc-1",
                "initial",
                "ai-incident",
                "high",
                ["health"],
                ["healthcare"],
                text("Triage failure", "en", "分诊故障"),
            ),
        )
    )
    node.writer.append(
        Record(
            type="detente.dev/label-check/v1",
            party=me,
            issued=at("2026-11-02T08:00"),
            body={"sha256": "b" * 64, "mime": "image/png", "verdicts": {"cn-aigc": "fail", "c2pa": "pass"}},
        )
    )
    node.writer.append(  # the previous quarter: not counted
        Record(
            type="detente.dev/label-check/v1",
            party=me,
            issued=at("2026-09-02T08:00"),
            body={"sha256": "c" * 64, "mime": "image/png", "verdicts": {"cn-aigc": "pass"}},
        )
    )
    server = uvicorn.Server(uvicorn.Config(report_api(node), host=config.host, port=config.port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    viewer = issue_token(node.state, "viewer", "report test", int(NOW))
    yield Served(node, config.url, local.directory, local.token, viewer)
    server.should_exit = True
    thread.join(timeout=10)
    node.stop()


def get(s: Served, path: str, token: str | None = None, **kw: object) -> httpx.Response:
    return httpx.get(f"{s.url}{path}", headers={"Authorization": f"Bearer {token or s.viewer}"}, timeout=60, **kw)  # type: ignore[arg-type]


def test_figures_from_the_node(served: Served) -> None:
    desk = ReportDesk(served.node.party)
    f = desk.figures("2026Q4")
    assert f["records"] == 3 and f["party"] == "us.example/log"
    assert f["as_of"] == "2026-12-01T12:00:00Z"  # the quarter is not over: evaluated as of now
    assert f["hotline"]["by_priority"] == {"flash": 1, "immediate": 0, "routine": 0}
    assert f["incidents"]["by_harm_type"] == {"health": 1}
    assert f["labels"]["by_regime"] == {"c2pa": {"pass": 1}, "cn-aigc": {"fail": 1}}
    # the receipt was due 15 minutes after the message and CN (pinned, never running) never sent one
    assert f["misses"]["by_kind"] == {"receipt": 1, "response": 1}
    own = f["verification"]["logs"][0]
    assert own["role"] == "own" and own["size"] == 4 and own["root"] == served.node.log.checkpoint.root.hex()
    assert f["verification"]["alarms"] == []


def test_routes(served: Served) -> None:
    figures = get(served, "/api/v1/reports/quarterly/2026q4")
    assert figures.status_code == 200 and figures.json()["period"] == "2026Q4"
    html = get(served, "/api/v1/reports/quarterly/2026Q4.html", params={"lang": "zh"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert '<html lang="zh-Hans">' in html.text and "检测到意外发射" in html.text
    pdf = get(served, "/api/v1/reports/quarterly/2026Q4.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and 'filename="detente-2026Q4.pdf"' in pdf.headers["content-disposition"]

    bad = get(served, "/api/v1/reports/quarterly/2026Q5")
    assert bad.status_code == 400 and "2026Q4" in bad.json()["hint"]
    assert get(served, "/api/v1/reports/quarterly/2026Q4.html", params={"lang": "fr"}).status_code == 422
    assert get(served, "/api/v1/reports/quarterly/2026Q4", token="dtk_nope").status_code == 401


def test_publish_needs_an_officer_and_logs_a_verifiable_record(served: Served) -> None:
    url = f"{served.url}/api/v1/reports/quarterly/2026Q4/publish"
    refused = httpx.post(url, headers={"Authorization": f"Bearer {served.viewer}"}, timeout=60)
    assert refused.status_code == 403
    size = served.node.log.size
    done = httpx.post(url, params={"lang": "zh"}, headers={"Authorization": f"Bearer {served.admin}"}, timeout=60)
    assert done.status_code == 201, done.text
    out = done.json()
    assert out["index"] == size and out["origin"] == "us.example/log" and out["items_omitted"] is False
    [logged] = served.node.records.at("us.example/log", out["index"], quarantined=True)
    assert logged.leaf_hash == out["leaf_hash"] and logged.record.type == QUARTERLY_REPORT
    body = QuarterlyReport.model_validate(logged.record.body)
    assert (body.period, body.lang, body.html_sha256, body.pdf_sha256) == (
        "2026Q4",
        "zh",
        out["html_sha256"],
        out["pdf_sha256"],
    )
    # anyone holding the record re-renders the same documents from its figures
    figures = QuarterlyFigures.model_validate(body.figures)
    assert hashlib.sha256(render_html(figures, "zh").encode()).hexdigest() == body.html_sha256
    assert hashlib.sha256(render_pdf(figures, "zh")).hexdigest() == body.pdf_sha256


def test_cli_writes_both_documents(served: Served, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["quarterly", "2026Q4", "-o", str(tmp_path), "--lang", "zh", "-n", str(served.directory)]
    result = runner.invoke(report_app, [*args, "--token", served.viewer])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "detente-2026Q4.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "季度信息交换报告" in html
    assert (tmp_path / "detente-2026Q4.pdf").read_bytes().startswith(b"%PDF")

    # --publish: the files written are the ones whose hashes the signed record states
    result = runner.invoke(report_app, [*args, "--publish", "--token", served.admin])
    assert result.exit_code == 0, result.output
    record = served.node.records.at("us.example/log", served.node.log.size - 1, quarantined=True)[0].record
    assert record.type == QUARTERLY_REPORT
    assert hashlib.sha256((tmp_path / "detente-2026Q4.html").read_bytes()).hexdigest() == record.body["html_sha256"]
    assert hashlib.sha256((tmp_path / "detente-2026Q4.pdf").read_bytes()).hexdigest() == record.body["pdf_sha256"]

    result = runner.invoke(report_app, ["quarterly", "26Q4", "-n", str(served.directory), "--token", served.viewer])
    assert result.exit_code != 0
