"""JPEG marker segments up to the first scan, and the XMP APP1 segment in them.

Only the header segments are parsed and rewritten; the entropy-coded image data after SOS is
copied byte for byte. The XMP packet lives in an APP1 segment whose payload starts with
``http://ns.adobe.com/xap/1.0/\\0`` (XMP Part 3, §1.1.3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from detente.errors import MalformedMedia

__all__ = ["XMP_APP1_HEADER", "JpegSegment", "jpeg_segments", "read_jpeg_xmp", "write_jpeg_xmp"]

XMP_APP1_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_SEGMENT_PAYLOAD = 0xFFFF - 2
_HINT = "the file is not a complete JPEG (ITU T.81): re-export it from the original"
_SOS, _EOI, _APP0, _APP1 = 0xDA, 0xD9, 0xE0, 0xE1


@dataclass(frozen=True)
class JpegSegment:
    """One marker segment: ``data[start:end]`` is the whole segment, marker included."""

    marker: int
    start: int
    end: int
    payload_start: int


def jpeg_segments(data: bytes) -> list[JpegSegment]:
    """The marker segments from SOI up to and including SOS.

    Raises :class:`MalformedError` when the file is truncated or a marker is malformed.
    """
    if data[:2] != b"\xff\xd8":
        raise MalformedMedia("not a JPEG file: no SOI marker", hint=_HINT)
    segments: list[JpegSegment] = []
    pos = 2
    while True:
        if pos + 2 > len(data):
            raise MalformedMedia(f"JPEG is truncated at byte {pos}: no scan (SOS) found", hint=_HINT)
        if data[pos] != 0xFF:
            raise MalformedMedia(
                f"JPEG has a bad marker at byte {pos}: 0x{data[pos]:02x} where 0xFF belongs", hint=_HINT
            )
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if marker in (0x00, 0xD8, _EOI):
            raise MalformedMedia(f"JPEG has marker 0xFF{marker:02X} before its first scan at byte {pos}", hint=_HINT)
        if pos + 4 > len(data):
            raise MalformedMedia(f"JPEG is truncated in the segment at byte {pos}", hint=_HINT)
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise MalformedMedia(
                f"JPEG segment 0xFF{marker:02X} at byte {pos} runs past the end of the file", hint=_HINT
            )
        segments.append(JpegSegment(marker, pos, end, pos + 4))
        if marker == _SOS:
            if data.rfind(b"\xff\xd9", end) < 0:
                raise MalformedMedia("JPEG is truncated: its scan has no EOI marker", hint=_HINT)
            return segments
        pos = end


def _xmp_segments(data: bytes, segments: list[JpegSegment]) -> list[JpegSegment]:
    return [
        s
        for s in segments
        if s.marker == _APP1 and data[s.payload_start : s.payload_start + len(XMP_APP1_HEADER)] == XMP_APP1_HEADER
    ]


def read_jpeg_xmp(data: bytes) -> bytes | None:
    """The standard XMP packet, or ``None`` when the file has none."""
    found = _xmp_segments(data, jpeg_segments(data))
    if not found:
        return None
    if len(found) > 1:
        raise MalformedMedia(f"JPEG has {len(found)} standard XMP segments; XMP Part 3 allows one", hint=_HINT)
    return data[found[0].payload_start + len(XMP_APP1_HEADER) : found[0].end]


def write_jpeg_xmp(data: bytes, packet: bytes) -> bytes:
    """``data`` with its XMP APP1 segment replaced by ``packet`` (inserted after APP0/APP1 if absent)."""
    segments = jpeg_segments(data)
    payload = XMP_APP1_HEADER + packet
    if len(payload) > _MAX_SEGMENT_PAYLOAD:
        raise MalformedMedia(
            f"XMP packet is {len(packet)} bytes; a JPEG APP1 segment holds at most "
            f"{_MAX_SEGMENT_PAYLOAD - len(XMP_APP1_HEADER)}",
            hint="remove other XMP properties (extended XMP is not written)",
        )
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    found = _xmp_segments(data, segments)
    if len(found) > 1:
        raise MalformedMedia(f"JPEG has {len(found)} standard XMP segments; XMP Part 3 allows one", hint=_HINT)
    if found:
        return data[: found[0].start] + segment + data[found[0].end :]
    at = 2
    for s in segments:
        if s.marker not in (_APP0, _APP1) or s.start != at:
            break
        at = s.end
    return data[:at] + segment + data[at:]
