"""The stream syntax PDF/A asks for, on reportlab's output: an end-of-line marker before every
``endstream`` keyword (ISO 19005-2, 6.1.7.1; veraPDF's PDF/A-2B profile, clause 6.1.7.1 test 2).

reportlab writes ``stream\\n<data>endstream`` with ``/Length`` the size of ``<data>``. This inserts
one line feed after each stream's data (``/Length`` stays the size of the data, as 6.1.7.1 test 1
wants: the bytes after the EOL that follows ``stream`` and before the EOL that precedes
``endstream``) and moves every cross-reference offset and ``startxref`` by the bytes inserted
before it. Nothing else changes, so the same input gives the same bytes.
"""

from __future__ import annotations

import re

__all__ = ["end_streams_with_eol"]

_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])( \n| \r|\r\n)")
_LENGTH = re.compile(rb"/Length (\d+)(?!\s+\d+\s+R)")
_STREAM = b"\nstream\n"


def _xref(pdf: bytes) -> tuple[int, int, list[tuple[int, int, bytes, bytes]]]:
    """The classic cross-reference table reportlab writes: its offset, where its entries start,
    and each entry (offset, generation, kind, end-of-line)."""
    tail = pdf.rsplit(b"startxref", 1)
    if len(tail) != 2:
        raise RuntimeError("reportlab's PDF has no startxref: its output format changed")
    at = int(tail[1].split()[0])
    head = re.compile(rb"xref\r?\n0 (\d+)\r?\n").match(pdf, at)
    if head is None:
        raise RuntimeError("reportlab's PDF has no classic xref table: its output format changed")
    count, pos = int(head.group(1)), head.end()
    entries = []
    for _ in range(count):
        m = _XREF_ENTRY.match(pdf, pos)
        if m is None:
            raise RuntimeError("a malformed xref entry in reportlab's PDF: its output format changed")
        entries.append((int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)))
        pos = m.end()
    return at, head.end(), entries


def end_streams_with_eol(pdf: bytes) -> bytes:
    """``pdf`` with a line feed between each stream's data and its ``endstream`` keyword."""
    at, first_entry, entries = _xref(pdf)
    starts = sorted(o for o, _, kind, _ in entries if kind == b"n")
    inserts: list[int] = []
    for start, end in zip(starts, [*starts[1:], at], strict=True):
        body = pdf[start:end]
        opened = body.find(_STREAM)
        if opened < 0:
            continue
        length = _LENGTH.search(body, 0, opened)
        if length is None:
            raise RuntimeError(f"a stream at byte {start} has no direct /Length: reportlab's output format changed")
        data_end = start + opened + len(_STREAM) + int(length.group(1))
        if pdf[data_end : data_end + 9] != b"endstream":
            raise RuntimeError(f"the stream at byte {start} does not end where its /Length says")
        inserts.append(data_end)
    out = bytearray()
    last = 0
    for p in inserts:
        out += pdf[last:p] + b"\n"
        last = p
    out += pdf[last:first_entry]

    def moved(offset: int) -> int:
        return offset + sum(1 for p in inserts if p <= offset)

    for offset, gen, kind, eol in entries:
        out += b"%010d %05d %s%s" % (moved(offset) if kind == b"n" else offset, gen, kind, eol)
    rest = pdf[first_entry + 20 * len(entries) :]
    before, _, after = rest.rpartition(b"startxref")
    tail = re.sub(rb"^(\s*)\d+", lambda m: m.group(1) + str(moved(at)).encode(), after, count=1)
    return bytes(out + before + b"startxref" + tail)
