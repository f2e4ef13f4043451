"""Build the quarterly report's embedded font: a TrueType subset of Noto Sans SC Regular.

reportlab embeds (and subsets per document) TrueType-outline fonts only, and Noto Sans SC ships
with CFF outlines, so this script converts the outlines to quadratic curves (fontTools' cu2qu,
within 1 unit of the 1000-unit em) after cutting the font down to what the report sets:
Latin (Basic, Latin-1, Extended-A), general and CJK punctuation, arrows, full-width forms, and
every character of GB 2312 (its 6,763 hanzi cover everyday simplified Chinese). The result is
committed as src/detente/report/assets/NotoSansSC-detente.ttf with the SIL Open Font License
beside it (Noto has no Reserved Font Name).

Run once, by hand, with fontTools installed (it is not a dependency of detente):

    pip install --target /tmp/ft fonttools
    PYTHONPATH=/tmp/ft python scripts/build_report_font.py NotoSansSC-Regular.otf

The source used: NotoSansSC-Regular.otf, version 2.004 as shipped in the PyPI package
pylopdf-fonts-zh-cn 0.1.1, sha256 faa6c9df652116dde789d351359f3d7e5d2285a2b2a1f04a2d7244df706d5ea9.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

OUT = Path(__file__).resolve().parent.parent / "src" / "detente" / "report" / "assets" / "NotoSansSC-detente.ttf"
RANGES = [
    (0x20, 0x7E),
    (0xA0, 0x17F),
    (0x2000, 0x206F),  # general punctuation
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (≤ ≥ ≠ ×)
    (0x25A0, 0x25FF),  # geometric shapes
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # half- and full-width forms
]


def _gb2312() -> set[int]:
    found = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def _to_truetype(font: TTFont) -> None:
    """CFF outlines to glyf (after fontTools' snippets/otf2ttf.py)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    for glyph in glyphs.values():
        glyph.recalcBounds(glyf)
    glyf.compile(font)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
                 "maxSizeOfInstructions", "maxComponentElements"):  # fmt: skip
        setattr(maxp, attr, 0)
    maxp.maxComponentDepth = 0
    maxp.numGlyphs = len(order)
    maxp.recalc(font)  # points, contours and the rest from the new glyf
    font["head"].indexToLocFormat = 1
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font.sfntVersion = "\x00\x01\x00\x00"


def main(source: str) -> None:
    unicodes = _gb2312()
    for low, high in RANGES:
        unicodes.update(range(low, high + 1))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(unicodes))
    subsetter.subset(font)
    _to_truetype(font)
    font.save(OUT)
    print(f"{OUT}: {OUT.stat().st_size:,} bytes, {len(font.getBestCmap()):,} characters")


if __name__ == "__main__":
    main(sys.argv[1])
