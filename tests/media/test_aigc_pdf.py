"""China's AIGC label in a PDF's Info dictionary (``/AIGC``), written as an incremental update.

The PDFs are made with reportlab (a core dependency); pypdf, which writes the update, reads them
back independently here too. Random bytes behind the PDF magic are fuzzed with the other
containers (test_aigc_containers.py)."""

from __future__ import annotations

import io

import pytest

from detente.errors import MalformedError
from detente.media.aigc import AigcLabel
from detente.media.c2pa_credentials import make_party_chain
from detente.media.containers import detect_format, read_aigc, write_aigc
from detente.media.label import apply_labels, check_labels

pypdf = pytest.importorskip("pypdf", reason="the media extra is not installed")

LABEL = AigcLabel(label="1", content_producer="001191110102MACQD9K64010000", produce_id="ccf40794-pdf")
RELABEL = AigcLabel(label="2", content_propagator="平台-0001", propagate_id="p-42")


def pdf_sample(pages: int = 2) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setTitle("Quarterly note")
    for n in range(pages):
        c.drawString(72, 720, f"page {n + 1}: model evaluation summary")
        c.showPage()
    c.save()
    return buf.getvalue()


def page_texts(data: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_write_then_read_keeps_the_original_bytes_and_the_pages() -> None:
    original = pdf_sample()
    assert detect_format(original) == "application/pdf" and read_aigc(original) is None
    labelled = write_aigc(original, LABEL)
    assert labelled.startswith(original)  # an incremental update: nothing before it rewritten
    found = read_aigc(labelled)
    assert found is not None and (found.label, found.location, found.mime) == (LABEL, "pdf-info", "application/pdf")
    info = pypdf.PdfReader(io.BytesIO(labelled)).metadata
    assert info["/Title"] == "Quarterly note"  # the other Info entries are kept
    assert page_texts(labelled) == page_texts(original)


def test_a_second_write_replaces_the_label_and_an_equal_one_changes_nothing() -> None:
    once = write_aigc(pdf_sample(), LABEL)
    twice = write_aigc(once, RELABEL)
    found = read_aigc(twice)
    assert found is not None and found.label == RELABEL
    assert twice.startswith(once)
    assert write_aigc(twice, RELABEL) == twice


def test_truncated_encrypted_and_damaged_pdfs_are_typed_errors() -> None:
    labelled = write_aigc(pdf_sample(), LABEL)
    with pytest.raises(MalformedError, match="truncated") as excinfo:
        write_aigc(labelled[: len(labelled) - 20], RELABEL)
    assert excinfo.value.hint
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_sample())))
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(MalformedError, match="encrypted"):
        read_aigc(buf.getvalue())
    for damaged in (b"%PDF-1.7\n%%EOF\n", b"%PDF-1.7\n" + b"\x00" * 64 + b"\n%%EOF\n"):
        with pytest.raises(MalformedError, match="unreadable PDF"):
            read_aigc(damaged)


def test_a_pdf_is_labelled_for_both_regimes_and_both_verify() -> None:
    chain = make_party_chain("cn.detente.example/log", country="CN")
    signed = apply_labels(pdf_sample(), LABEL, chain)
    report = check_labels(signed, anchors_pem=chain.root_pem.decode())
    assert report.aigc is not None and report.aigc["where"] == "pdf-info"
    assert report.c2pa is not None and report.c2pa.state == "Trusted"
    assert {r.regime: r.verdict for r in report.regimes} == {"c2pa": "pass", "cn-aigc": "pass"}
