"""The report's commitments section: versions drafted, signed, withdrawn and in force in the
quarter, each with its adoption rule, from real (unsigned-envelope) records through the same
ledger the node uses; shown in both editions of the HTML and the PDF."""

from __future__ import annotations

import io
from typing import Any

import pytest
from report_data import CN, US, Logs, at, text
from test_archive_pdf import word_fragments
from test_render import figures, parse

from detente.commitments.model import CommitmentDocument, document_digest
from detente.report.html import render_html
from detente.report.pdf import render_pdf

OTHER = "eu.example/log"


def _document(document_id: str, parties: list[str], title: str, zh: str, **extra: Any) -> dict[str, Any]:
    body = {
        "document_id": document_id,
        "version": 1,
        "kind": "statement",
        "title": text(title, "en", zh).model_dump(mode="json"),
        "parties": parties,
        "clauses": [{"id": "1", "text": text("Both keep a human in the loop.", "en").model_dump(mode="json")}],
        **extra,
    }
    return CommitmentDocument.model_validate(body).model_dump(mode="json", exclude_none=True)


def _sign(g: Logs, party: str, body: dict[str, Any], when: str) -> None:
    digest = document_digest(CommitmentDocument.model_validate(body))
    g.add(party, "commitment-signature", at(when), {"document_id": body["document_id"], "version": 1, "digest": digest})


@pytest.fixture(scope="module")
def quarter() -> Any:
    g = Logs()
    adopted = _document("ai-nc-2026", [US, CN], "Human control of nuclear use", "核武器使用的人类控制")
    g.add(US, "commitment-document", at("2026-10-05T00:00"), adopted)
    _sign(g, US, adopted, "2026-10-06T00:00")
    _sign(g, CN, adopted, "2026-10-20T00:00")
    waiting = _document("eval-sharing", [US, CN], "Sharing evaluation results", "分享评测结果")
    g.add(CN, "commitment-document", at("2026-11-02T00:00"), waiting)
    _sign(g, CN, waiting, "2026-11-03T00:00")
    quorum = _document("forum-2026", [US, CN, OTHER], "Forum statement", "论坛声明", quorum=2)
    g.add(OTHER, "commitment-document", at("2026-11-10T00:00"), quorum)
    _sign(g, OTHER, quorum, "2026-11-11T00:00")
    _sign(g, US, quorum, "2026-11-12T00:00")
    g.add(US, "implementation-report", at("2026-12-01T00:00"), {
        "document_id": "ai-nc-2026", "year": 2026, "report": text("Done.", "en").model_dump(mode="json"),
    })  # fmt: skip
    return figures(g.records)


def test_the_figures(quarter: Any) -> None:
    c = quarter.commitments
    assert (c.documents, c.signatures, c.withdrawals, c.implementation_reports) == (3, 5, 0, 1)
    rows = {r.document: r for r in c.items}
    assert set(rows) == {"ai-nc-2026 v1", "eval-sharing v1", "forum-2026 v1"}
    assert (rows["ai-nc-2026 v1"].status, rows["ai-nc-2026 v1"].signed_by) == ("in-force", sorted([US, CN]))
    assert rows["ai-nc-2026 v1"].adopted_at == at("2026-10-20T00:00")
    assert (rows["eval-sharing v1"].status, rows["eval-sharing v1"].rule) == ("awaiting", "all")
    assert (rows["forum-2026 v1"].status, rows["forum-2026 v1"].rule) == ("in-force", "2 of 3")
    assert c.in_force == 2
    assert quarter.without_items().commitments.items == [] and quarter.without_items().commitments.signatures == 5


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_both_editions_show_it(quarter: Any, lang: str) -> None:
    page = parse(render_html(quarter, lang))
    cells = [t.strip() for t in page.text]
    assert "ai-nc-2026 v1" in cells and "forum-2026 v1" in cells
    words = ("in force", "awaiting signatures", "2 of 3", "Human control of nuclear use")
    if lang == "zh":
        words = (
            "生效中",
            "待签署",
            "3 方中的 2 方",
            "Human control of nuclear use",
        )  # the original, with its translation
    assert all(w in cells for w in words), words
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(quarter, lang)))
    pdf_text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())  # lines joined
    assert ("Commitments" if lang == "en" else "承诺") in pdf_text
    assert all(w in pdf_text for w in words[:2]), words
    assert not word_fragments(quarter, lang, reader)  # titles with a translation wrap word by word
