"""What makes the quarterly PDF an archive (PDF/A-2b, ISO 19005-2, level B): one font, embedded;
the creation date of the figures; XMP metadata that agrees with the Info dictionary; an sRGB
output intent.

**The font.** ``assets/NotoSansSC-detente.ttf`` is a TrueType subset of Noto Sans SC Regular
(SIL Open Font License 1.1, ``assets/OFL.txt``; built by ``scripts/build_report_font.py``): Latin,
punctuation, arrows, full-width forms and every character of GB 2312, 2.4 MB in the repository.
reportlab embeds it per document as a subset of the glyphs used (a report is tens of kilobytes),
so Chinese renders the same on a machine without any CJK font. A character outside the subset
(a rare hanzi in an incident title) is set in reportlab's CID font ``STSong-Light``, which is
*not* embedded (the reader's viewer supplies it): such a PDF is no longer PDF/A.

**The date.** ``CreationDate`` and ``ModDate`` are the figures' ``generated_at``, and the XMP
packet says the same; the PDF is otherwise built in reportlab's invariant mode, so the same
figures give the same bytes.

**What is not checked here.** No PDF/A validator is obtainable (veraPDF is Java and packaged on
none of PyPI, Debian or npm); ``tests/report/test_pdf_archive.py`` checks the rules of veraPDF's
PDF/A-2B profile that matter for an archive, one by one (docs/report.md lists which). A document
with a character set in the fallback font does not claim PDF/A in its XMP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["FALLBACK", "FONT", "covered", "mark_archival", "register_fonts"]

FONT = "NotoSansSC-detente"
FALLBACK = "STSong-Light"
PRODUCER = "ReportLab PDF Library - www.reportlab.com"
_ASSETS = files("detente.report") / "assets"
_registered: dict[str, Any] = {}


def register_fonts() -> None:
    """Register the embedded font (and the CID fallback) with reportlab, once."""
    if _registered:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    with (_ASSETS / "NotoSansSC-detente.ttf").open("rb") as handle:
        font = TTFont(FONT, handle)
    pdfmetrics.registerFont(font)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    _registered["font"] = font


def covered(ch: str) -> bool:
    """Whether the embedded font has a glyph for ``ch``."""
    register_fonts()
    return ord(ch) in _registered["font"].face.charToGlyph


def _pdf_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def _xmp(title: str, author: str, subject: str, keywords: str, lang: str, when: datetime, pdfa: bool) -> bytes:
    """The XMP packet: the Info dictionary's entries in their XMP form (ISO 19005-1, Table 1, which
    ISO 19005-2 keeps), and the PDF/A identification only when ``pdfa``."""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    t, a, s = escape(title), escape(author), escape(subject)
    ident = "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>" if pdfa else ""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"{ident}"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{t}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{a}</rdf:li></rdf:Seq></dc:creator>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{s}</rdf:li></rdf:Alt></dc:description>'
        f"<dc:language><rdf:Bag><rdf:li>{escape(lang)}</rdf:li></rdf:Bag></dc:language>"
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:ModifyDate>{stamp}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{stamp}</xmp:MetadataDate>"
        "<xmp:CreatorTool>detente</xmp:CreatorTool>"
        f"<pdf:Producer>{PRODUCER}</pdf:Producer><pdf:Keywords>{escape(keywords)}</pdf:Keywords>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def mark_archival(
    canvas: Any,
    *,
    title: str,
    author: str,
    subject: str,
    keywords: str,
    lang: str,
    when: datetime,
    pdfa: bool = True,
) -> None:
    """Give the document being drawn on ``canvas`` its creation date, XMP metadata and output
    intent (call once, on the first page). ``pdfa``: whether to claim PDF/A-2b in the XMP, which
    a document with a font that is not embedded must not do."""
    from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString

    doc = canvas._doc
    stamp = _pdf_date(when)
    canvas.setDateFormatter(lambda *_: stamp)
    doc.info.producer = PRODUCER
    doc.info.keywords = keywords
    metadata = PDFStream(  # no filters: not even an empty /Filter key on the metadata stream
        PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
        _xmp(title, author, subject, keywords, lang, when, pdfa),
    )
    canvas.setCatalogEntry("Metadata", doc.Reference(metadata))
    icc = PDFStream(PDFDictionary({"N": 3}), (_ASSETS / "sRGB.icc").read_bytes())
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString("sRGB"),
            "Info": PDFString("sRGB IEC61966-2.1"),
            "DestOutputProfile": doc.Reference(icc),
        }
    )
    catalog = doc.Catalog
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, "OutputIntents"]  # reportlab lists the keys it writes
    canvas.setCatalogEntry("OutputIntents", PDFArray([intent]))
