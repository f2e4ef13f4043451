"""The report as a PDF (reportlab platypus tables, reportlab.graphics charts), with the same
content as the HTML: both render :func:`~detente.report.layout.build_document`.

An archive (:mod:`detente.report.archive`, PDF/A-2b as far as can be checked here): every
character is set in one embedded font, a TrueType subset of Noto Sans SC shipped with detente
(Latin, punctuation and GB 2312), so Chinese renders on a machine without CJK fonts; a character
outside it falls back to reportlab's CID font ``STSong-Light`` (not embedded), and such a PDF
does not claim PDF/A in its XMP. ``CreationDate`` is the figures' ``generated_at``; XMP metadata
that repeats the Info dictionary and an sRGB output intent are written, and every stream ends
with the end-of-line PDF/A asks for (:mod:`.pdf_streams`). The PDF is built
with reportlab's *invariant* mode, so the same figures and language always give the same bytes
(its hash can be published and checked). A paragraph with Chinese in it wraps between characters
(reportlab's ``CJK`` mode, which moves a Latin word whole to the next line); one without wraps
between words, and a word is cut only when it alone is wider than its column (a long identifier
in a narrow table cell)."""

from __future__ import annotations

import io
import re
from contextvars import ContextVar
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from detente.report.archive import FALLBACK, FONT, covered, mark_archival, register_fonts
from detente.report.blocks import Bars, Block, Facts, Lines, Para, RecordText
from detente.report.blocks import Table as TableBlock
from detente.report.figures import QuarterlyFigures
from detente.report.labels import Label, check_lang, label
from detente.report.layout import build_document
from detente.report.pdf_columns import fit_columns
from detente.report.pdf_streams import end_streams_with_eol
from detente.report.svg import PALETTE, axis, colour

__all__ = ["render_pdf"]

LATIN = LATIN_BOLD = FONT
_PAD = 4.0
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_FELL_BACK: ContextVar[set[str] | None] = ContextVar("fell_back", default=None)
"""The characters set in the fallback font (not embedded) in the PDF being built."""


def _fell_back(text: str) -> None:
    seen = _FELL_BACK.get()
    if seen is not None:
        seen.update(text)


def markup(text: str) -> str:
    """Paragraph markup for ``text``: escaped, with every run of characters the embedded font
    lacks set in the CID fallback font."""
    out: list[str] = []
    run: list[str] = []
    fallback = False
    for ch in text:
        missing = not covered(ch)
        if missing != fallback and run:
            out.append(_run("".join(run), fallback))
            run = []
        fallback = missing
        run.append(ch)
    if run:
        out.append(_run("".join(run), fallback))
    return "".join(out)


def _run(text: str, fallback: bool) -> str:
    if fallback:
        _fell_back(text)
        return f'<font name="{FALLBACK}">{escape(text)}</font>'
    return escape(text)


_CJK_STYLES: dict[str, ParagraphStyle] = {}


def _paragraph(marked: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph that wraps as its language wants: between characters when it holds Chinese."""
    if not _CJK.search(marked):
        return Paragraph(marked, style)
    cjk = _CJK_STYLES.get(style.name)
    if cjk is None:
        cjk = _CJK_STYLES[style.name] = ParagraphStyle(style.name + "-cjk", parent=style, wordWrap="CJK")
    return Paragraph(marked, cjk)


def _font_for(*texts: str) -> str:
    missing = [ch for t in texts for ch in t if not covered(ch)]
    _fell_back("".join(missing))
    return FALLBACK if missing else FONT


class _Styles:
    def __init__(self) -> None:
        self.title = ParagraphStyle("title", fontName=LATIN_BOLD, fontSize=20, leading=26, spaceAfter=4)
        self.sub = ParagraphStyle("sub", fontName=LATIN, fontSize=10, leading=13, textColor=colors.HexColor("#4a4a4a"))
        self.h2 = ParagraphStyle("h2", fontName=LATIN_BOLD, fontSize=14, leading=18, spaceBefore=14, spaceAfter=6)
        self.body = ParagraphStyle("body", fontName=LATIN, fontSize=9.5, leading=12.5, spaceAfter=4)
        self.cell = ParagraphStyle("cell", fontName=LATIN, fontSize=8, leading=10)
        self.num = ParagraphStyle("num", parent=self.cell, alignment=2)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=LATIN_BOLD)
        self.caption = ParagraphStyle("caption", fontName=LATIN_BOLD, fontSize=9.5, leading=12, spaceBefore=6)
        self.other = ParagraphStyle("other", parent=self.body, textColor=colors.HexColor("#4a4a4a"))


def _both(lab: Label, sep: str = " · ") -> str:
    return f'{markup(lab.text)}<font color="#4a4a4a">{markup(sep + lab.other)}</font>'


def _cell(cell: str | RecordText, style: ParagraphStyle) -> Paragraph | list[Paragraph]:
    """A table cell; a party's words and their translation as two paragraphs, each wrapping as
    its own language does (one paragraph holding both would wrap the Latin one in CJK mode)."""
    if isinstance(cell, str):
        return _paragraph(markup(cell), style)
    out = [_paragraph(markup(cell.original), style)]
    if cell.translation is not None:
        out.append(_paragraph(f'<font color="#4a4a4a">{markup("→ " + cell.translation)}</font>', style))
    return out


def _raw(cell: str | RecordText) -> str:
    if isinstance(cell, str):
        return cell
    return cell.original + ("\n→ " + cell.translation if cell.translation is not None else "")


def _head(lab: Label, style: ParagraphStyle, other: ParagraphStyle) -> list[Any]:
    """A header cell: the reader's language, then the other, each wrapping as its language does."""
    return [_paragraph(markup(lab.text), style), _paragraph(markup(lab.other), other)]


def _table(t: TableBlock, st: _Styles, reader: str, width: float) -> list[Any]:
    n = len(t.columns)
    first = width * (0.28 if n > 3 else 1 / n)
    preferred = [first] + [(width - first) / (n - 1)] * (n - 1) if n > 1 else [width]
    texts = [[c.text for c in t.columns], [c.other for c in t.columns], *[[_raw(c) for c in row] for row in t.rows]]
    widths, size = fit_columns(
        texts, preferred, size=st.cell.fontSize, padding=_PAD * 2 + 1, measure=lambda s, z: stringWidth(s, FONT, z)
    )
    cell, num, head = (
        ParagraphStyle(f"{s.name}-{size}", parent=s, fontSize=size, leading=size * 1.25)
        for s in (st.cell, st.num, st.head)
    )
    other = ParagraphStyle(f"head-other-{size}", parent=head, textColor=colors.HexColor("#4a4a4a"))
    rows = [[_cell(c, num if i in t.numeric else cell) for i, c in enumerate(row)] for row in t.rows]
    table = Table([[_head(c, head, other) for c in t.columns], *rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, size),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0b0b0")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef3f8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
                ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
            ]
        )
    )
    return [_paragraph(_both(t.caption), st.caption), table, Spacer(1, 6)]


def _legend(names: list[str], fills: list[str], x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 0
    legend.dx, legend.dy = 8, 8
    legend.fontName = _font_for(*names)
    legend.fontSize = 8
    legend.colorNamePairs = [(colors.HexColor(c), n) for c, n in zip(fills, names, strict=True)]
    legend.autoXPadding = 12
    legend.variColumn = 1
    legend.boxAnchor = "nw"
    legend.dxTextSpace = 4
    legend.columnMaximum = 1
    return legend


def _bars(chart: Bars, width: float) -> Drawing:
    n_cat, n_ser = len(chart.categories), len(chart.series)
    per = 14 if chart.stacked or n_ser == 1 else 10 * n_ser
    plot_h = n_cat * (per + 6)
    top = 30 if n_ser > 1 else 18
    height = plot_h + top + 22
    d = Drawing(width, height, initialFontName=FONT)
    d.add(String(0, height - 10, chart.title.text, fontName=_font_for(chart.title.text), fontSize=9))
    bc = HorizontalBarChart()
    bc.x, bc.y = 150, 18
    bc.width, bc.height = width - 190, plot_h
    bc.data = [list(values) for _, values in chart.series]
    totals = [sum(v[i] for _, v in chart.series) for i in range(n_cat)]
    peak = max(totals) if chart.stacked else max((x for _, v in chart.series for x in v), default=0)
    top_value, step = axis(peak)
    bc.valueAxis.valueMin, bc.valueAxis.valueMax, bc.valueAxis.valueStep = 0, top_value, step
    bc.valueAxis.labels.fontName, bc.valueAxis.labels.fontSize = LATIN, 7
    bc.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"
    names = [c if len(c) <= 34 else c[:33] + "…" for c in chart.categories]
    bc.categoryAxis.categoryNames = names
    bc.categoryAxis.labels.fontName = _font_for(*names)
    bc.categoryAxis.labels.fontSize = 7
    bc.categoryAxis.labels.boxAnchor = "e"
    bc.categoryAxis.labels.dx = -4
    bc.categoryAxis.reverseDirection = 1
    if chart.stacked:
        bc.categoryAxis.style = "stacked"
    bc.barSpacing = 0
    bc.groupSpacing = 6
    for i in range(n_ser):
        bc.bars[i].fillColor = colors.HexColor(colour(chart, i))
        bc.bars[i].strokeColor = None
    if not chart.stacked:
        bc.barLabelFormat = lambda v: f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"
        bc.barLabels.fontName, bc.barLabels.fontSize = LATIN, 6.5
        bc.barLabels.boxAnchor, bc.barLabels.dx = "w", 3
    d.add(bc)
    if n_ser > 1:
        d.add(_legend([name for name, _ in chart.series], [colour(chart, i) for i in range(n_ser)], 150, height - 16))
    return d


def _lines(chart: Lines, width: float) -> Drawing:
    height = 190
    d = Drawing(width, height, initialFontName=FONT)
    d.add(String(0, height - 10, chart.title.text, fontName=_font_for(chart.title.text), fontSize=9))
    lc = HorizontalLineChart()
    lc.x, lc.y = 36, 24
    lc.width, lc.height = width - 50, height - 64
    lc.data = [list(values) for _, values in chart.series]
    top_value, step = axis(max((x for _, v in chart.series for x in v), default=0))
    lc.valueAxis.valueMin, lc.valueAxis.valueMax, lc.valueAxis.valueStep = 0, top_value, step
    lc.valueAxis.labels.fontName, lc.valueAxis.labels.fontSize = LATIN, 7
    lc.categoryAxis.categoryNames = list(chart.x_labels)
    lc.categoryAxis.labels.fontName, lc.categoryAxis.labels.fontSize = LATIN, 6.5
    lc.joinedLines = 1
    for i in range(len(chart.series)):
        lc.lines[i].strokeColor = colors.HexColor(PALETTE[i % len(PALETTE)])
        lc.lines[i].strokeWidth = 1.6
        if i % 4:
            lc.lines[i].strokeDashArray = [(4, 2), (1, 2), (6, 2, 1, 2)][i % 4 - 1]
    d.add(lc)
    names = [name for name, _ in chart.series]
    d.add(_legend(names, [PALETTE[i % len(PALETTE)] for i in range(len(names))], 36, height - 16))
    return d


def _flow(block: Block, st: _Styles, reader: str, width: float) -> list[Any]:
    if isinstance(block, Para):
        return [_paragraph(markup(block.text.text) + "<br/>" + markup(block.text.other), st.other)]
    if isinstance(block, Facts):
        other = ParagraphStyle("head-other", parent=st.head, textColor=colors.HexColor("#4a4a4a"))
        rows = [[_head(k, st.head, other), _paragraph(markup(v), st.cell)] for k, v in block.rows]
        t = Table(rows, colWidths=[width * 0.38, width * 0.62])
        t.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 8),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        return [t, Spacer(1, 6)]
    if isinstance(block, TableBlock):
        return _table(block, st, reader, width)
    drawing = _bars(block, width) if isinstance(block, Bars) else _lines(block, width)
    return [KeepTogether([drawing, Spacer(1, 8)])]


def render_pdf(figures: QuarterlyFigures, lang: str = "en") -> bytes:
    """The whole report as PDF bytes, ``lang`` (``en`` or ``zh``) first."""
    check_lang(lang)
    register_fonts()
    fell_back: set[str] = set()
    token = _FELL_BACK.set(fell_back)
    try:
        return _render(figures, lang, fell_back)
    finally:
        _FELL_BACK.reset(token)


def _render(figures: QuarterlyFigures, lang: str, fell_back: set[str]) -> bytes:
    doc = build_document(figures, lang)
    st = _Styles()
    out = io.BytesIO()
    footer = f"{doc.title.text} · {doc.subtitle}"
    footer_font = _font_for(footer)
    keywords = f"detente; {label('title', 'en').text}; {figures.period}"
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{doc.title.text} {doc.subtitle}",
        author=figures.party,
        subject=label("title", "en").text,
        keywords=keywords,
        lang="zh-Hans" if lang == "zh" else "en",
        creator="detente",
        initialFontName=FONT,
        invariant=1,
    )
    width = A4[0] - 32 * mm

    def first(canvas: Any, _doc: Any) -> None:
        mark_archival(
            canvas,
            title=f"{doc.title.text} {doc.subtitle}",
            author=figures.party,
            subject=label("title", "en").text,
            keywords=keywords,
            lang="zh-Hans" if lang == "zh" else "en",
            when=figures.generated_at,
            pdfa=not fell_back,  # every character is in the embedded font (the story is built by now)
        )
        page(canvas, _doc)

    def page(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(footer_font, 7.5)
        canvas.setFillColor(colors.HexColor("#4a4a4a"))
        canvas.drawString(16 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 16 * mm, 10 * mm, str(canvas.getPageNumber()))
        canvas.restoreState()

    story: list[Any] = [
        _paragraph(markup(doc.title.text), st.title),
        _paragraph(markup(doc.title.other), st.sub),
        _paragraph(markup(doc.subtitle), st.sub),
        Spacer(1, 8),
    ]
    for section in doc.sections:
        story.append(_paragraph(_both(section.heading), st.h2))
        for block in section.blocks:
            story.extend(_flow(block, st, lang, width))
    pdf.build(story, onFirstPage=first, onLaterPages=page)
    return end_streams_with_eol(out.getvalue())
