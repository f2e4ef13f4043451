"""The quarterly exchange report across two real nodes: the figures count what crossed between
them, the report is published as a signed record, and the other party re-renders the HTML and PDF
from the published figures to exactly the hashes that were signed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from detente.report.figures import QuarterlyFigures
from detente.report.html import render_html
from detente.report.pdf import render_pdf


def quarter(now: datetime) -> str:
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


def test_a_published_report_is_reproduced_by_the_other_party(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    period = quarter(datetime.now(UTC))
    sent = us.send(
        "detente.dev/hotline-message/v1",
        "Urgent: model weights exfiltration attempt",
        translations={"zh": "紧急：模型权重外泄企图"},
        body={"priority": "flash", "topic": "urgent-concern"},
        to=[cn.origin],
    )
    wait("cn to receive it", lambda: bool(cn.thread(us.origin, sent["index"])))
    assert cn.api("POST", f"/api/v1/threads/{us.origin}/{sent['index']}/ack", json={"note": "seen"}).status_code == 201
    wait("the ack at us", lambda: us.thread(us.origin, sent["index"]).get("states", {}).get(cn.origin) == "answered")

    figures = us.api("GET", f"/api/v1/reports/quarterly/{period}").json()
    text = str(figures)
    assert "flash" in text and "urgent-concern" in text
    html = us.api("GET", f"/api/v1/reports/quarterly/{period}.html", params={"lang": "zh"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'lang="zh' in html.text
    pdf = us.api("GET", f"/api/v1/reports/quarterly/{period}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert us.api("GET", "/api/v1/reports/quarterly/2026Q5").status_code == 400

    published = us.api("POST", f"/api/v1/reports/quarterly/{period}/publish", params={"lang": "en"})
    assert published.status_code == 201, published.text
    index = published.json()["index"]

    def mirrored() -> dict:  # type: ignore[type-arg]
        rows = cn.api("GET", "/api/v1/records", params={"origin": us.origin, "start": index, "limit": 1}).json()
        return rows[0]["record"] if rows else {}

    wait("the report record at cn", lambda: mirrored().get("type") == "detente.dev/quarterly-report/v1")
    body = mirrored()["body"]
    again = QuarterlyFigures.model_validate(body["figures"])
    assert hashlib.sha256(render_html(again, body["lang"]).encode()).hexdigest() == body["html_sha256"]
    assert hashlib.sha256(render_pdf(again, body["lang"])).hexdigest() == body["pdf_sha256"]
