"""The report renders for an empty quarter and the busy one, in both languages: the HTML parses,
is self-contained and accessible, and shows the figures; the PDF is a PDF that reportlab paged."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import ClassVar

import pytest
from report_data import CN, US, VERIFICATION, withheld_quarter

from detente.errors import MalformedError
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import Logged
from detente.report.figures import QuarterlyFigures
from detente.report.html import render_html
from detente.report.pdf import markup, render_pdf
from detente.report.quarter import quarterly_figures

NOW = datetime(2027, 1, 10, tzinfo=UTC)
SECTIONS = [
    "summary",
    "notices",
    "withheld",
    "deadlines",
    "time_claims",
    "sealed",
    "misses",
    "hotline",
    "incidents",
    "evaluations",
    "labels",
    "exportctl",
    "commitments",
    "verification",
]


class Page(HTMLParser):
    """Collects what the checks need: tags, attributes, text, and tag balance."""

    VOID: ClassVar[set[str]] = {"meta", "br", "link", "img", "input", "hr", "rect", "line", "circle", "polyline"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)
        self.in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.stack == []
    return page


def figures(records: list[Logged]) -> QuarterlyFigures:
    return quarterly_figures(records, default_agreement(US, CN), US, "2026Q4", verification=VERIFICATION, now=NOW)


@pytest.fixture(scope="module")
def busy_figures(busy: list[Logged]) -> QuarterlyFigures:
    return figures(busy)


@pytest.fixture(scope="module")
def empty_figures() -> QuarterlyFigures:
    return quarterly_figures([], default_agreement(US), US, "2026Q4", verification={}, now=NOW)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_busy_html(busy_figures: QuarterlyFigures, lang: str) -> None:
    html = render_html(busy_figures, lang)
    page = parse(html)
    text = " ".join(page.text)
    assert page.all("html")[0]["lang"] == ("en" if lang == "en" else "zh-Hans")
    # self-contained: no script, no external resource
    assert not page.all("script") and not page.all("link") and not page.all("img")
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    # both languages in the headings, the primary one first, each marked with its lang
    h2 = [a for t, a in page.tags if t == "h2"]
    assert [a["id"] for a in h2] == [f"{s}-h" for s in SECTIONS]
    if lang == "en":
        assert "Hotline use" in text and "热线使用情况" in text
        assert text.index("Hotline use") < text.index("热线使用情况")
    else:
        assert text.index("热线使用情况") < text.index("Hotline use")
    other = "zh" if lang == "en" else "en"
    assert any(a.get("lang") == other for a in page.all("span"))
    # every table has a caption; every chart is an image with a title and a description
    assert len(page.all("table")) == len(page.all("caption")) > 10
    svgs = page.all("svg")
    assert len(svgs) >= 8
    assert all(a["role"] == "img" and a["aria-labelledby"] for a in svgs)
    assert len(page.all("title")) > len(svgs) and len(page.all("desc")) == len(svgs)
    assert page.all("polyline")  # the weekly line chart
    # the figures are in it
    for expected in (
        "2026Q4",
        US,
        CN,
        "ALPHA-1",
        "cn.example/log#cn-7",
        "cyber-uplift@1.0",
        "mra-1 v1",
        "equivocation",
    ):
        assert expected in text, expected
    cells = [t.strip() for t in page.text]
    assert "51" in cells  # records in the quarter
    # record texts: the original, then the reader's translation
    if lang == "en":
        assert "电网异常" in text and "Grid anomaly" in text
        assert "Unexpected launch detected" in text and "检测到意外发射" not in text
    else:
        assert "Unexpected launch detected" in text and "检测到意外发射" in text
        assert "Grid anomaly" not in text
    assert any(a.get("lang") == "zh" and a.get("class") is None for a in page.all("span"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_empty_html(empty_figures: QuarterlyFigures, lang: str) -> None:
    page = parse(render_html(empty_figures, lang))
    text = " ".join(page.text)
    assert ("None in this quarter." if lang == "en" else "本季度没有。") in text
    assert ("No equivocation or inconsistency alarm." if lang == "en" else "没有分叉或不一致警报。") in text
    assert len(page.all("svg")) == 1  # only the (flat) weekly chart


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("which", ["empty", "busy"])
def test_pdf(request: pytest.FixtureRequest, which: str, lang: str) -> None:
    f = request.getfixturevalue(f"{which}_figures")
    pdf = render_pdf(f, lang)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    counts = re.findall(rb"/Count (\d+) /Kids \[[^\]]*\] /Type /Pages", pdf)
    assert len(counts) == 1
    pages = int(counts[0])
    assert pages >= (3 if which == "busy" else 1)
    assert b"/STSong-Light" not in pdf and b"/Helvetica" not in pdf  # one embedded font (test_archive_pdf.py)
    assert render_pdf(f, lang) == pdf  # invariant: the same figures give the same bytes


def test_html_is_deterministic(busy_figures: QuarterlyFigures) -> None:
    assert render_html(busy_figures, "zh") == render_html(busy_figures, "zh")


def test_unknown_language(busy_figures: QuarterlyFigures) -> None:
    with pytest.raises(MalformedError) as err:
        render_html(busy_figures, "fr")
    assert err.value.hint == "choose en or zh"
    with pytest.raises(MalformedError):
        render_pdf(busy_figures, "ru")


def test_record_text_is_escaped(busy: list[Logged]) -> None:
    from report_data import Logs, at, text

    g = Logs()
    g.add(
        CN,
        "hotline-message",
        at("2026-10-02T00:00"),
        {"priority": "flash", "topic": "crisis"},
        to=(US,),
        text=text("<script>alert(1)</script> & more", "en"),
    )
    f = figures(g.records)
    html = render_html(f, "en")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert render_pdf(f, "en").startswith(b"%PDF")


def test_pdf_markup_sets_only_what_the_embedded_font_lacks_in_the_cid_font() -> None:
    assert markup("Hotline · 热线 <b>") == "Hotline · 热线 &lt;b&gt;"
    # 䶮 (U+4DAE, CJK Extension A) is outside GB 2312 and so outside the embedded subset.
    assert markup("中䶮 x") == '中<font name="STSong-Light">䶮</font> x'


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_quota_excesses_are_shown_in_both_languages(lang: str) -> None:
    f = figures(withheld_quarter().records)
    page = parse(render_html(f, lang))
    text = " ".join(page.text)
    cells = [t.strip() for t in page.text]
    # the heading and the table caption carry both languages, the reader's first
    for en, zh in (
        ("Withheld notifications and the quota", "不予通报记录与配额"),
        ("Withheld notifications over the agreed quota", "超出约定配额的不予通报记录"),
    ):
        assert en in text and zh in text
        assert (text.index(en) < text.index(zh)) == (lang == "en")
    assert f"{US}#2" in cells and "3 / 2 (2026)" in cells and "frontier-model-evaluation" in cells
    assert ("yes" if lang == "en" else "是") in cells  # the notice declared itself over the quota
    assert render_pdf(f, lang).startswith(b"%PDF")
