"""The quarterly PDF, both editions, against the rules of PDF/A-2b (ISO 19005-2, level B) that an
archive depends on, read from the bytes with pypdf and a small TrueType reader.

No PDF/A validator is obtainable here: veraPDF (Java) is packaged on none of PyPI, Debian or npm,
the only registries reachable (the PyPI packages that mention it drive a veraPDF installed
separately). So each check below is one rule of veraPDF's own PDF/A-2B validation profile
(``veraPDF-validation-profiles``, ``PDF_A/PDFA-2B.xml``), named by its clause and test number:
file structure (6.1), output intent and colour (6.2.3, 6.2.4.3), operators (6.2.2), transparency
(6.2.10), fonts (6.2.11), actions and JavaScript (6.5, 6.6.1), metadata (6.6). Rules not checked
are listed in docs/report.md. This is not a conformance claim."""

from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
from datetime import UTC
from typing import Any

import pytest
from test_archive_pdf import NS  # the XMP namespaces, read alike by both files
from test_render import figures

from detente.report.pdf import render_pdf

pypdf = pytest.importorskip("pypdf")
from pypdf.generic import ContentStream  # noqa: E402

OPERATORS = set(  # ISO 32000-1 Annex A
    [
        "b",
        "B",
        "b*",
        "B*",
        "BDC",
        "BI",
        "BMC",
        "BT",
        "BX",
        "c",
        "cm",
        "CS",
        "cs",
        "d",
        "d0",
        "d1",
        "Do",
        "DP",
        "EI",
        "EMC",
        "ET",
        "EX",
        "f",
        "F",
        "f*",
        "G",
        "g",
        "gs",
        "h",
        "i",
        "ID",
        "j",
        "J",
        "K",
        "k",
        "l",
        "m",
        "M",
        "MP",
        "n",
        "q",
        "Q",
        "re",
        "RG",
        "rg",
        "ri",
        "s",
        "S",
        "SC",
        "sc",
        "SCN",
        "scn",
        "sh",
        "T*",
        "Tc",
        "Td",
        "TD",
        "Tf",
        "Tj",
        "TJ",
        "TL",
        "Tm",
        "Tr",
        "Ts",
        "Tw",
        "Tz",
        "v",
        "w",
        "W",
        "W*",
        "y",
        "'",
        '"',
    ]
)


@pytest.fixture(scope="module")
def busy_figures(busy: Any) -> Any:
    return figures(busy)


@pytest.fixture(scope="module", params=["en", "zh"])
def edition(request: pytest.FixtureRequest, busy_figures: Any) -> tuple[str, bytes, Any]:
    data = render_pdf(busy_figures, request.param)
    return request.param, data, pypdf.PdfReader(io.BytesIO(data))


def _objects(data: bytes) -> list[tuple[int, int]]:
    """(object number, byte offset) of each object in use, from the cross-reference table."""
    at = int(data.rsplit(b"startxref", 1)[1].split()[0])
    head = re.compile(rb"xref\r?\n0 (\d+)\r?\n").match(data, at)
    assert head is not None, "no classic xref table at startxref"
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf])", data[head.end() : head.end() + 20 * int(head.group(1))])
    return [(n, int(off)) for n, (off, _, kind) in enumerate(entries) if kind == b"n"]


def test_file_structure(edition: tuple[str, bytes, Any]) -> None:
    _, data, reader = edition
    assert re.match(rb"%PDF-1\.[0-7](\r\n|\n|\r)%", data)  # 6.1.2 t1
    comment = data.split(b"%", 2)[2]
    assert all(b > 127 for b in comment[:4])  # 6.1.2 t2
    assert len(reader.trailer["/ID"]) == 2 and "/Encrypt" not in reader.trailer  # 6.1.3 t1, t2
    assert re.search(rb"%%EOF(\r\n|\n|\r)?\Z", data)  # 6.1.3 t3
    objects = _objects(data)
    assert len(objects) > 10
    streams = 0
    for number, offset in objects:
        header = re.compile(rb"(\d+) (\d+) obj(\r\n|\n|\r| )").match(data, offset)  # 6.1.9: single spaces
        assert header is not None and int(header.group(1)) == number, f"xref offset of object {number} is wrong"
        obj = reader.get_object(number)
        if not isinstance(obj, pypdf.generic.StreamObject):
            continue
        streams += 1
        assert not {"/F", "/FFilter", "/FDecodeParms"} & set(obj)  # 6.1.7.1 t3
        filters = obj.get("/Filter")
        names = [] if filters is None else [filters] if isinstance(filters, str) else list(filters)
        assert "/LZWDecode" not in names and "/Crypt" not in names  # 6.1.7.2
        if "/Filter" in obj:
            assert names, f"object {number} has an empty /Filter"
        opened = re.compile(rb"stream(\r\n|\n)").search(data, offset)  # 6.1.7.1 t2: CRLF or LF after stream
        assert opened is not None
        length = re.compile(rb"/Length (\d+)").search(data, offset, opened.start())  # pypdf drops it from obj
        assert length is not None
        end = opened.end() + int(length.group(1))
        assert re.match(rb"(\r\n|\n|\r)endstream", data[end : end + 11]), (  # 6.1.7.1 t1 and t2
            f"object {number}: /Length does not end at an EOL before endstream: {data[end - 4 : end + 12]!r}"
        )
    assert streams >= 5


def _fonts(reader: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            found[str(font["/BaseFont"])] = font
    return found


def _tables(program: bytes) -> dict[str, bytes]:
    count = struct.unpack(">H", program[4:6])[0]
    out = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", program[12 + 16 * i : 28 + 16 * i])
        out[tag.decode("latin-1")] = program[offset : offset + length]
    return out


def _cmap(cmap: bytes) -> tuple[list[tuple[int, int]], dict[int, int]]:
    """The encodings the font's cmap holds, and the (1,0) or (3,0) one as code → glyph."""
    count = struct.unpack(">H", cmap[2:4])[0]
    codes: dict[int, int] = {}
    encodings = []
    for i in range(count):
        platform, encoding, offset = struct.unpack(">HHI", cmap[4 + 8 * i : 12 + 8 * i])
        encodings.append((platform, encoding))
        fmt = struct.unpack(">H", cmap[offset : offset + 2])[0]
        if (platform, encoding) in ((1, 0), (3, 0)):
            if fmt == 0:
                codes = dict(enumerate(cmap[offset + 6 : offset + 262]))
            elif fmt == 6:
                first, n = struct.unpack(">HH", cmap[offset + 6 : offset + 10])
                ids = struct.unpack(f">{n}H", cmap[offset + 10 : offset + 10 + 2 * n])
                codes = {first + i: g for i, g in enumerate(ids)}
            else:
                pytest.fail(f"cmap format {fmt} is not read by this test")
    return encodings, codes


def _used_codes(reader: Any) -> dict[str, set[int]]:
    """Every byte code each font shows with Tj, TJ, ' and \" on every page."""
    used: dict[str, set[int]] = {}
    for page in reader.pages:
        names = {k: str(v.get_object()["/BaseFont"]) for k, v in page["/Resources"]["/Font"].items()}
        current = None
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                current = names[operands[0]]
            elif op in (b"Tj", b"'", b'"', b"TJ"):
                shown = operands[-1] if op != b"TJ" else [x for x in operands[0] if isinstance(x, bytes | str)]
                for s in shown if op == b"TJ" else [shown]:
                    raw = s if isinstance(s, bytes) else s.get_original_bytes()
                    used.setdefault(str(current), set()).update(raw)
    return used


def test_every_font_embedded_with_every_glyph_and_its_width(edition: tuple[str, bytes, Any]) -> None:
    _, _, reader = edition
    used = _used_codes(reader)
    fonts = _fonts(reader)
    assert set(used) <= set(fonts) and used
    for name, font in fonts.items():
        assert font["/Subtype"] == "/TrueType", name  # no Type0/CID font (the fallback) in an archival edition
        descriptor = font["/FontDescriptor"].get_object()
        program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        assert program is not None, f"{name} is not embedded"  # 6.2.11.4.1 t1
        tables = _tables(program.get_object().get_data())
        symbolic = bool(descriptor["/Flags"] & 4)
        encodings, codes = _cmap(tables["cmap"])
        if symbolic:
            assert "/Encoding" not in font  # 6.2.11.6 t3
            assert len(encodings) == 1 or (3, 0) in encodings, name  # 6.2.11.6 t4
        else:
            assert font.get("/Encoding") in ("/MacRomanEncoding", "/WinAnsiEncoding"), name  # 6.2.11.6 t2
        glyphs = struct.unpack(">H", tables["maxp"][4:6])[0]
        units = struct.unpack(">H", tables["head"][18:20])[0]
        metrics = struct.unpack(">H", tables["hhea"][34:36])[0]
        advances = struct.unpack(f">{metrics * 2}H", tables["hmtx"][: metrics * 4])[::2]
        widths, first = font["/Widths"], int(font["/FirstChar"])
        for code in sorted(used.get(name, ())):
            glyph = codes.get(code, 0)
            assert glyph != 0, f"{name}: code {code} shows .notdef"  # 6.2.11.8
            assert glyph < glyphs, f"{name}: code {code} names a glyph the program lacks"  # 6.2.11.4.1 t2
            program_width = advances[min(glyph, metrics - 1)] * 1000 / units
            assert abs(program_width - float(widths[code - first])) <= 1, (name, code)  # 6.2.11.5


def test_colour_operators_and_no_transparency(edition: tuple[str, bytes, Any]) -> None:
    _, _, reader = edition
    root = reader.trailer["/Root"]
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    icc = profile.get_data()
    assert icc[12:16] in (b"prtr", b"mntr") and icc[16:20] == b"RGB " and icc[36:40] == b"acsp"  # 6.2.3 t1
    assert icc[8] < 5 and profile["/N"] == 3  # ICC version below 5.0; N agrees with RGB
    seen: set[bytes] = set()
    for page in reader.pages:
        assert "/Group" not in page and "/AA" not in page  # 6.2.10: no transparency group; 6.6.1: no actions
        resources = page["/Resources"]
        for state in (resources.get("/ExtGState") or {}).values():
            state = state.get_object()
            assert state.get("/SMask", "/None") == "/None" and float(state.get("/ca", 1)) == 1.0
            assert float(state.get("/CA", 1)) == 1.0 and state.get("/BM", "/Normal") in ("/Normal", "/Compatible")
        for xobject in (resources.get("/XObject") or {}).values():
            assert "/SMask" not in xobject.get_object() and "/Group" not in xobject.get_object()
        seen.update(op for _, op in ContentStream(page.get_contents(), reader).operations)
    assert seen <= {o.encode() for o in OPERATORS}, seen - {o.encode() for o in OPERATORS}  # 6.2.2 t1
    assert not seen & {b"k", b"K"}  # 6.2.4.3 t3: no DeviceCMYK under an RGB output intent
    assert not seen & {b"cs", b"CS", b"sc", b"scn", b"SC", b"SCN", b"BI", b"Do"}  # only DeviceRGB/Gray, no images


def test_no_javascript_actions_or_annotations(edition: tuple[str, bytes, Any]) -> None:
    _, data, reader = edition
    for number, _ in _objects(data):
        obj = reader.get_object(number)
        if isinstance(obj, pypdf.generic.DictionaryObject):
            keys = set(obj)
            assert not keys & {"/JS", "/JavaScript", "/AA", "/OpenAction", "/Annots", "/AcroForm", "/EmbeddedFiles"}
            assert obj.get("/S") not in ("/JavaScript", "/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData")
    assert b"/JavaScript" not in data and b"/JS " not in data


def _xmp(reader: Any) -> tuple[bytes, Any]:
    metadata = reader.trailer["/Root"]["/Metadata"].get_object()
    assert metadata["/Type"] == "/Metadata" and metadata["/Subtype"] == "/XML"  # 6.6.2.1 t1
    assert "/Filter" not in metadata
    packet = metadata.get_data()
    packet.decode("utf-8")  # 6.6.2.1 t5
    header = packet.split(b"?>", 1)[0]
    assert header.startswith(b"<?xpacket begin=") and b"bytes=" not in header and b"encoding=" not in header
    rdf = ET.fromstring(packet.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0])  # 6.6.2.1 t4: well-formed
    return packet, rdf


def test_xmp_identifies_pdfa_2b_and_repeats_the_info_dictionary(
    edition: tuple[str, bytes, Any], busy_figures: Any
) -> None:
    lang, _, reader = edition
    _, rdf = _xmp(reader)
    (desc,) = rdf.findall(".//rdf:Description", NS)
    namespaces = {el.tag.split("}")[0][1:] for el in desc.iter() if el is not desc and "}" in el.tag}
    assert namespaces <= set(NS.values())  # 6.6.2.3.1: predefined schemas only, no extension needed
    assert desc.findtext("pdfaid:part", namespaces=NS) == "2"  # 6.6.4 t2
    assert desc.findtext("pdfaid:conformance", namespaces=NS) == "B"  # 6.6.4 t3
    info = reader.metadata
    when = busy_figures.generated_at.astimezone(UTC)
    assert when.year >= 2026  # the figures' own time, not reportlab's invariant 2000-01-01
    xmp_of = {  # ISO 19005-1 Table 1: each Info entry and its XMP equivalent
        "/Title": desc.findtext("dc:title/rdf:Alt/rdf:li", namespaces=NS),
        "/Author": desc.findtext("dc:creator/rdf:Seq/rdf:li", namespaces=NS),
        "/Subject": desc.findtext("dc:description/rdf:Alt/rdf:li", namespaces=NS),
        "/Keywords": desc.findtext("pdf:Keywords", namespaces=NS),
        "/Creator": desc.findtext("xmp:CreatorTool", namespaces=NS),
        "/Producer": desc.findtext("pdf:Producer", namespaces=NS),
        "/CreationDate": desc.findtext("xmp:CreateDate", namespaces=NS),
        "/ModDate": desc.findtext("xmp:ModifyDate", namespaces=NS),
    }
    assert set(info) - {"/Trapped"} <= set(xmp_of)  # no Info entry without its XMP form (Trapped has none)
    for key, value in info.items():
        if key in ("/CreationDate", "/ModDate"):
            assert value == when.strftime("D:%Y%m%d%H%M%S+00'00'")
            assert xmp_of[key] == when.strftime("%Y-%m-%dT%H:%M:%SZ"), key
        elif key in xmp_of:
            assert value and xmp_of[key] == value, key
    assert desc.findtext("dc:language/rdf:Bag/rdf:li", namespaces=NS) == ("zh-Hans" if lang == "zh" else "en")


def test_a_character_outside_the_embedded_font_withdraws_the_pdfa_claim(busy_figures: Any) -> None:
    """A rare hanzi (U+4DAE, outside GB 2312) is set in the CID fallback font, which is not
    embedded: the PDF then says nothing of PDF/A, rather than claim it falsely."""
    rare = busy_figures.model_copy(update={"party": "us.example/log䶮"})
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(rare, "en")))
    fonts = _fonts(reader)
    assert any("FontFile2" not in str(f.get("/FontDescriptor")) and f["/Subtype"] == "/Type0" for f in fonts.values())
    _, rdf = _xmp(reader)
    assert not rdf.findall(".//pdfaid:part", NS) and not rdf.findall(".//pdfaid:conformance", NS)
    assert rdf.findtext(".//dc:creator/rdf:Seq/rdf:li", namespaces=NS) == "us.example/log䶮"
