"""Inline SVG charts drawn by hand: horizontal bars (grouped or stacked) and lines. Each chart is
an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states its numbers, values
printed beside the bars, and colours from the Okabe–Ito palette (told apart without colour
vision too: every series is labelled and lines have their own dash pattern and marker)."""

from __future__ import annotations

import math
from html import escape

from detente.report.blocks import Bars, Lines

__all__ = ["PALETTE", "axis", "bars_svg", "colour", "lines_svg"]

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
INK, GRID, FONT = "#1a1a1a", "#d0d0d0", "font-family:'Noto Sans','Noto Sans CJK SC',system-ui,sans-serif"
WIDTH, LABEL_W = 680, 220


def axis(peak: float) -> tuple[float, float]:
    """``(top, step)`` of a value axis from 0 that shows ``peak``: whole-number steps of 1, 2 or
    5 × 10ⁿ, at most five of them (counts never get a 2.5 tick)."""
    peak = max(peak, 1.0)
    power = 10 ** max(0, math.floor(math.log10(peak)) - 1)
    while True:
        for unit in (1, 2, 5):
            step = unit * power
            if peak / step <= 5:
                return float(step * math.ceil(peak / step)), float(step)
        power *= 10


def colour(chart: Bars, series: int) -> str:
    given = chart.colours
    return given[series % len(given)] if given else PALETTE[series % len(PALETTE)]


def _num(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:,.1f}"


def _clip(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _head(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-t {chart_id}-d" style="{FONT}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _text_width(text: str, size: int = 12) -> float:
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


def _legend(names: list[str], colours: list[str], y: int, x0: int = LABEL_W, lines: bool = False) -> list[str]:
    out: list[str] = []
    x = x0
    for i, (name, colour) in enumerate(zip(names, colours, strict=True)):
        if lines:
            dash = DASHES[i % len(DASHES)]
            out.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 18}" y2="{y - 4}" stroke="{colour}" stroke-width="2.5"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
            x += 24
        else:
            out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
            x += 16
        out.append(f'<text x="{x}" y="{y}" font-size="12" fill="{INK}">{escape(name)}</text>')
        x += 14 + int(_text_width(name))
    return out


def bars_svg(chart: Bars, chart_id: str) -> str:
    names = [name for name, _ in chart.series]
    n_cat, n_ser = len(chart.categories), len(chart.series)
    totals = [sum(values[i] for _, values in chart.series) for i in range(n_cat)]
    peak = max(totals) if chart.stacked else max((x for _, values in chart.series for x in values), default=0)
    scale_max, step = axis(peak)
    ticks = round(scale_max / step)
    bar_h = 16
    group_h = bar_h if chart.stacked or n_ser == 1 else bar_h * n_ser
    top = 34 if n_ser > 1 else 14
    height = top + n_cat * (group_h + 10) + 28
    plot_w = WIDTH - LABEL_W - 60
    desc = "; ".join(
        f"{cat}: " + ", ".join(f"{name} {_num(values[i])}" for name, values in chart.series)
        for i, cat in enumerate(chart.categories)
    )
    out = _head(chart_id, chart.title.text, desc, WIDTH, height)
    if n_ser > 1:
        out += _legend(names, [colour(chart, i) for i in range(n_ser)], 20)
    base_y = top + n_cat * (group_h + 10)
    for t in range(ticks + 1):  # grid and axis labels
        x = LABEL_W + plot_w * t / ticks
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{base_y}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{x:.1f}" y="{base_y + 16}" font-size="11" fill="{INK}" text-anchor="middle">'
            f"{_num(step * t)}</text>"
        )
    for i, cat in enumerate(chart.categories):
        y = top + i * (group_h + 10)
        out.append(
            f'<text x="{LABEL_W - 8}" y="{y + group_h / 2 + 4:.1f}" font-size="12" fill="{INK}" text-anchor="end">'
            f"<title>{escape(cat)}</title>{escape(_clip(cat))}</text>"
        )
        out += _bar_group(chart, i, y, bar_h, (plot_w, scale_max), totals[i])
    out.append(f'<line x1="{LABEL_W}" y1="{top - 4}" x2="{LABEL_W}" y2="{base_y}" stroke="{INK}"/>')
    out.append("</svg>")
    return "\n".join(out)


def _bar_group(chart: Bars, i: int, y: int, bar_h: int, scale: tuple[float, float], total: float) -> list[str]:
    """The bars of category ``i`` (side by side, or stacked with the total after them); ``scale`` is
    the plot's width and the value at its right edge."""
    out: list[str] = []
    plot_w, scale_max = scale
    cat, n_ser = chart.categories[i], len(chart.series)
    x = float(LABEL_W)
    for s, (name, values) in enumerate(chart.series):
        w = plot_w * values[i] / scale_max
        fill = colour(chart, s)
        by = y if chart.stacked or n_ser == 1 else y + s * bar_h
        if w > 0:
            out.append(
                f'<rect x="{x:.1f}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" fill="{fill}">'
                f"<title>{escape(f'{cat} · {name}: {_num(values[i])}')}</title></rect>"
            )
        if chart.stacked:
            x += w
        else:
            out.append(
                f'<text x="{LABEL_W + w + 4:.1f}" y="{by + bar_h - 4}" font-size="11" fill="{INK}">'
                f"{_num(values[i])}</text>"
            )
    if chart.stacked:
        out.append(f'<text x="{x + 4:.1f}" y="{y + bar_h - 4}" font-size="11" fill="{INK}">{_num(total)}</text>')
    return out


def lines_svg(chart: Lines, chart_id: str) -> str:
    height, left, top, bottom = 260, 48, 34, 36
    plot_w, plot_h = WIDTH - left - 20, height - top - bottom
    n = len(chart.x_labels)
    scale_max, step = axis(max((x for _, values in chart.series for x in values), default=0))
    ticks = round(scale_max / step)
    desc = "; ".join(f"{name}: " + ", ".join(_num(x) for x in values) for name, values in chart.series)
    desc = f"{', '.join(chart.x_labels)}. {desc}"
    out = _head(chart_id, chart.title.text, desc, WIDTH, height)
    names = [name for name, _ in chart.series]
    out += _legend(names, [PALETTE[i % len(PALETTE)] for i in range(len(names))], 20, left, lines=True)

    def xy(i: int, value: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * value / scale_max

    for t in range(ticks + 1):
        y = top + plot_h - plot_h * t / ticks
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="{INK}" text-anchor="end">'
            f"{_num(step * t)}</text>"
        )
    for i, x_label in enumerate(chart.x_labels):
        x, _ = xy(i, 0)
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="10" fill="{INK}" text-anchor="middle">'
            f"{escape(x_label)}</text>"
        )
    for s, (name, values) in enumerate(chart.series):
        colour, dash = PALETTE[s % len(PALETTE)], DASHES[s % len(DASHES)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, val) for i, val in enumerate(values)))
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f"><title>{escape(name)}</title></polyline>"
        )
        for i, val in enumerate(values):
            x, y = xy(i, val)
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(f'{chart.x_labels[i]} · {name}: {_num(val)}')}</title></circle>"
            )
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{INK}"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{INK}"/>'
    )
    out.append("</svg>")
    return "\n".join(out)
