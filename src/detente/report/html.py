"""The report as one self-contained HTML document: inline CSS and inline SVG charts, no script,
nothing fetched from the network. Headings carry both languages (each marked with its ``lang``);
record texts appear in their original language, with the reader's translation beside them when
the record carries one. The same figures and language always give the same bytes."""

from __future__ import annotations

from html import escape

from detente.report.blocks import Bars, Block, Facts, Lines, Para, RecordText, Table
from detente.report.figures import QuarterlyFigures
from detente.report.labels import Label, check_lang, label
from detente.report.layout import build_document
from detente.report.svg import bars_svg, lines_svg

__all__ = ["render_html"]

CSS = """
:root { color: #1a1a1a; background: #ffffff; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
  line-height: 1.5; max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.other { color: #4a4a4a; font-weight: normal; font-size: .85em; }
.sub { color: #4a4a4a; margin-top: 0; }
nav ol { columns: 2; padding-left: 1.2rem; }
a { color: #005a8c; }
a:focus, a:hover { outline: 2px solid #D55E00; outline-offset: 2px; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; width: 100%; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #b0b0b0; padding: .25rem .45rem; vertical-align: top; text-align: left; }
th { background: #eef3f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #4a4a4a; }
.tr { display: block; color: #4a4a4a; font-size: .9em; }
.tr::before { content: "→ "; }
@media print { h2 { break-before: auto; } figure, table { break-inside: avoid; } }
"""


def _label(lab: Label, *, sep: str = " · ") -> str:
    """The primary text, then the other language's text in its own ``lang`` span."""
    return f'{escape(lab.text)}<span class="other" lang="{lab.other_lang}">{sep}{escape(lab.other)}</span>'


def _cell(cell: str | RecordText, reader: str) -> str:
    if isinstance(cell, str):
        return escape(cell)
    out = f'<span lang="{escape(cell.original_lang)}">{escape(cell.original)}</span>'
    if cell.translation is not None and cell.translation_lang is not None:
        tr = label("translation", reader).text
        out += (
            f'<span class="tr" lang="{escape(cell.translation_lang)}" title="{escape(tr)}">'
            f"{escape(cell.translation)}</span>"
        )
    return out


def _table(t: Table, reader: str) -> str:
    head = "".join(
        f'<th scope="col"{" class=num" if i in t.numeric else ""}>{_label(c, sep=" / ")}</th>'
        for i, c in enumerate(t.columns)
    )
    rows = []
    for row in t.rows:
        cells = []
        for i, cell in enumerate(row):
            tag = "th scope=row" if i == 0 else "td"
            cls = ' class="num"' if i in t.numeric else ""
            cells.append(f"<{tag}{cls}>{_cell(cell, reader)}</{tag.split()[0]}>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<table><caption>{_label(t.caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _block(block: Block, reader: str, chart_id: str) -> str:
    if isinstance(block, Para):
        return (
            f'<p>{escape(block.text.text)}<br><span class="other" lang="{block.text.other_lang}">'
            f"{escape(block.text.other)}</span></p>"
        )
    if isinstance(block, Facts):
        items = "".join(f"<dt>{_label(k, sep=' / ')}</dt><dd>{escape(v)}</dd>" for k, v in block.rows)
        return f'<dl class="facts">{items}</dl>'
    if isinstance(block, Table):
        return _table(block, reader)
    svg = bars_svg(block, chart_id) if isinstance(block, Bars) else lines_svg(block, chart_id)
    note = label("chart_data", reader)
    return f"<figure>{svg}<figcaption>{_label(block.title)}. {escape(note.text)}</figcaption></figure>"


def render_html(figures: QuarterlyFigures, lang: str = "en") -> str:
    """The whole report as an HTML document, ``lang`` (``en`` or ``zh``) first."""
    check_lang(lang)
    doc = build_document(figures, lang)
    nav = "".join(f'<li><a href="#{s.id}">{_label(s.heading)}</a></li>' for s in doc.sections)
    body = []
    charts = 0
    for section in doc.sections:
        parts = [f'<section id="{section.id}" aria-labelledby="{section.id}-h">']
        parts.append(f'<h2 id="{section.id}-h">{_label(section.heading)}</h2>')
        for block in section.blocks:
            if isinstance(block, Bars | Lines):
                charts += 1
            parts.append(_block(block, lang, f"chart{charts}"))
        parts.append("</section>")
        body.append("\n".join(parts))
    html_lang = "zh-Hans" if lang == "zh" else "en"
    toc = label("summary", lang)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{html_lang}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{escape(doc.title.text)} {escape(doc.subtitle)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            "<header>",
            f"<h1>{_label(doc.title)}</h1>",
            f'<p class="sub">{escape(doc.subtitle)}</p>',
            f'<nav aria-label="{escape(toc.text)}"><ol>{nav}</ol></nav>',
            "</header>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
