"""The quarterly PDF as an archive, checked by opening the PDF (pypdf): every font embedded (one
TrueType subset of Noto Sans SC, no base-14 or CID font left to the viewer), XMP metadata
identifying PDF/A-2b that agrees with the Info dictionary, the figures' own creation date, an
sRGB output intent, a document ID; no word cut across lines; record types named in the
reader's language. No PDF/A validator is obtainable here (veraPDF is Java), so these are the
checks that matter, not a conformance claim."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC
from html.parser import HTMLParser
from typing import Any

import pytest
from report_data import build_busy
from test_render import figures

from detente.report.html import render_html
from detente.report.pdf import render_pdf
from detente.report.record_types import TYPE_NAMES

pypdf = pytest.importorskip("pypdf")

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}


@pytest.fixture(scope="module")
def busy_figures() -> Any:
    return figures(build_busy().records)


@pytest.fixture(scope="module", params=["en", "zh"])
def edition(request: pytest.FixtureRequest, busy_figures: Any) -> tuple[str, Any, Any]:
    data = render_pdf(busy_figures, request.param)
    import io

    return request.param, pypdf.PdfReader(io.BytesIO(data)), data


def _fonts(reader: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            found[str(font["/BaseFont"])] = font
    return found


def test_every_font_is_embedded(edition: tuple[str, Any, bytes]) -> None:
    _, reader, _ = edition
    fonts = _fonts(reader)
    assert fonts
    for name, font in fonts.items():
        assert font["/Subtype"] == "/TrueType", name
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{name} is not embedded"
        assert re.fullmatch(r"/[A-Z]{6}\+NotoSansSC-Regular", name), name  # a subset of the shipped font
        assert "/ToUnicode" in font  # text can be copied and searched


def test_metadata_date_and_output_intent(edition: tuple[str, Any, bytes], busy_figures: Any) -> None:
    lang, reader, _ = edition
    info = reader.metadata
    when = busy_figures.generated_at.astimezone(UTC)
    assert info["/CreationDate"] == when.strftime("D:%Y%m%d%H%M%S+00'00'") == info["/ModDate"]
    assert when.year >= 2026  # the figures' time, not reportlab's invariant 2000-01-01
    root = reader.trailer["/Root"]
    packet = root["/Metadata"].get_object().get_data()
    assert root["/Metadata"].get_object()["/Subtype"] == "/XML"
    rdf = ET.fromstring(packet.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0])
    desc = rdf.find(".//rdf:Description", NS)
    assert desc is not None
    assert desc.findtext("pdfaid:part", namespaces=NS) == "2"
    assert desc.findtext("pdfaid:conformance", namespaces=NS) == "B"
    assert desc.findtext("xmp:CreateDate", namespaces=NS) == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert desc.findtext("dc:title/rdf:Alt/rdf:li", namespaces=NS) == info["/Title"]
    assert desc.findtext("dc:creator/rdf:Seq/rdf:li", namespaces=NS) == info["/Author"]
    assert desc.findtext("pdf:Producer", namespaces=NS) == info["/Producer"]
    assert desc.findtext("xmp:CreatorTool", namespaces=NS) == info["/Creator"]
    assert desc.findtext("dc:language/rdf:Bag/rdf:li", namespaces=NS) == ("zh-Hans" if lang == "zh" else "en")
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    icc = profile.get_data()
    assert profile["/N"] == 3 and icc[36:40] == b"acsp" and icc[16:20] == b"RGB "
    assert len(reader.trailer["/ID"]) == 2


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def word_fragments(figures: Any, lang: str, reader: Any) -> list[str]:
    """Latin words in the PDF's text that are not words of the same document as HTML."""
    page = _Text()
    page.feed(render_html(figures, lang))  # the same document, laid out by a browser instead
    words = set(re.findall(r"[A-Za-z]{2,}", " ".join(page.parts)))
    text = "\n".join(p.extract_text() for p in reader.pages)
    return sorted({w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in words})


def test_no_word_is_cut_across_lines(edition: tuple[str, Any, bytes], busy_figures: Any) -> None:
    lang, reader, _ = edition
    cut = word_fragments(busy_figures, lang, reader)
    assert not cut, f"fragments of words in the PDF: {cut}"


def test_record_types_are_named_in_the_readers_language(edition: tuple[str, Any, bytes]) -> None:
    lang, reader, _ = edition
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "hotline-message" not in text and "takedown-request" not in text
    named = ("热线消息", "下架请求") if lang == "zh" else ("hotline message", "takedown request")
    assert all(n in text for n in named), named


def test_every_catalogued_type_has_a_name_in_both_languages() -> None:
    import json
    from importlib.resources import files

    from detente.records.catalogue import CATALOGUE

    assert {t.split("/")[-2] for t in CATALOGUE} <= set(TYPE_NAMES)
    console = json.loads((files("detente.console") / "static" / "i18n.json").read_text())
    for key, en in console["en"].items():
        if key.startswith("type."):
            assert TYPE_NAMES[key[5:]] == (en, console["zh"][key]), key
