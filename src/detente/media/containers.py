"""Where China's implicit AIGC label lives in each media container, read and written over bytes.

=============  ==================================================  ============
MIME           place                                               ``location``
=============  ==================================================  ============
image/jpeg     XMP ``TC260:AIGC`` in the APP1 XMP segment           ``xmp``
image/png      XMP ``TC260:AIGC`` in iTXt ``XML:com.adobe.xmp``     ``xmp``
image/png      tEXt/iTXt keyword ``AIGC`` (seen in the wild)        ``png-text``
video/mp4      ``moov/udta/meta`` mdta key ``AIGC``                 ``mp4-udta``
video/mp4      XMP ``uuid`` box (read only)                         ``xmp``
audio/wav      RIFF chunk ``AIGC``                                  ``riff-chunk``
audio/mpeg     ID3v2.4 ``TXXX`` with description ``AIGC``           ``id3-txxx``
application/   Info dictionary key ``/AIGC`` (an incremental update)  ``pdf-info``
pdf
=============  ==================================================  ============

Writing inserts or replaces metadata only (no media data is decoded or re-encoded), replaces an
existing label instead of adding a second one, and keeps all other metadata. A file that holds
two different labels is refused (:class:`MalformedError`) rather than reported as either. Every
parser fails closed with :class:`MalformedError` (or :class:`~detente.errors.MalformedJSON` for a
label that is not an AIGC object); none raises ``IndexError`` or ``struct.error``.

Write China's label before signing C2PA: the C2PA hard binding then covers it; writing it after
signing breaks the binding (``assertion.dataHash.mismatch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from detente.errors import MalformedMedia
from detente.media import id3, isobmff, jpeg, pdf, png, riff
from detente.media.aigc import AigcLabel, parse_aigc_json
from detente.media.xmp import read_xmp_aigc, set_xmp_aigc

__all__ = ["SUPPORTED_MIME", "AigcFound", "AigcLocation", "detect_format", "read_aigc", "supports", "write_aigc"]

AigcLocation = Literal["xmp", "png-text", "mp4-udta", "riff-chunk", "id3-txxx", "pdf-info"]

SUPPORTED_MIME = ("image/jpeg", "image/png", "video/mp4", "audio/wav", "audio/mpeg", "application/pdf")

_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "video/quicktime": "video/mp4",
    "audio/mp4": "video/mp4",
    "audio/x-m4a": "video/mp4",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
}
_PNG_KEYWORDS = {png.XMP_KEYWORD, "AIGC"}


def supports(mime: str) -> bool:
    """Whether detente reads and writes the AIGC label in files of this media type."""
    return _ALIASES.get(mime, mime) in SUPPORTED_MIME


@dataclass(frozen=True)
class AigcFound:
    """A label read from a file: the label, the place it was found and the file's MIME type."""

    label: AigcLabel
    location: AigcLocation
    mime: str


def detect_format(data: bytes) -> str:
    """The MIME type the magic bytes announce, one of :data:`SUPPORTED_MIME`.

    Raises :class:`MalformedError` for anything else.
    """
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == png.PNG_SIGNATURE:
        return "image/png"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:3] == b"ID3" or (len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data[:5] == b"%PDF-":
        return "application/pdf"
    raise MalformedMedia(
        f"unrecognised media format (first bytes {data[:8].hex() or 'none'})",
        hint=f"supported: {', '.join(SUPPORTED_MIME)}",
    )


def _resolve(data: bytes, mime: str | None) -> str:
    detected = detect_format(data)
    if mime is not None:
        declared = mime.split(";", 1)[0].strip().lower()
        declared = _ALIASES.get(declared, declared)
        if declared != detected:
            raise MalformedMedia(
                f"declared type {mime} does not match the content, which is {detected}",
                hint="send the file's real type, or omit it and let detente detect it",
            )
    if detected not in SUPPORTED_MIME:
        raise MalformedMedia(
            f"AIGC labels in {detected} files are not supported yet",
            hint=f"supported: {', '.join(SUPPORTED_MIME)}",
        )
    return detected


def _one(found: list[tuple[AigcLabel, AigcLocation]], mime: str) -> AigcFound | None:
    if not found:
        return None
    label, location = found[0]
    for other, where in found[1:]:
        if other != label:
            raise MalformedMedia(
                f"{mime} file carries two different AIGC labels ({location} and {where})",
                hint="a file carries one AIGC label; rewrite it with: detente label apply",
            )
    return AigcFound(label, location, mime)


def read_aigc(data: bytes, mime: str | None = None) -> AigcFound | None:
    """The AIGC label in ``data``, or ``None`` when it carries none.

    ``mime``, when given, must agree with the content (aliases such as ``image/jpg`` are accepted).
    Raises :class:`MalformedError` for truncated, corrupt, unsupported or mislabelled files and
    oversized metadata, and :class:`~detente.errors.MalformedJSON` when the label is not an AIGC
    object.
    """
    kind = _resolve(data, mime)
    found: list[tuple[AigcLabel, AigcLocation]] = []
    if kind == "image/jpeg":
        packet = jpeg.read_jpeg_xmp(data)
        label = read_xmp_aigc(packet) if packet is not None else None
        if label is not None:
            found.append((label, "xmp"))
    elif kind == "image/png":
        for text in png.text_chunks(data, png.png_chunks(data), _PNG_KEYWORDS):
            if text.keyword == png.XMP_KEYWORD:
                label = read_xmp_aigc(text.text)
                if label is not None:
                    found.append((label, "xmp"))
            else:
                found.append((parse_aigc_json(text.text), "png-text"))
        found.sort(key=lambda f: f[1] != "xmp")
    elif kind == "video/mp4":
        found.extend((parse_aigc_json(value), "mp4-udta") for value in isobmff.read_mp4_aigc(data))
        packet = isobmff.read_mp4_xmp(data)
        label = read_xmp_aigc(packet) if packet is not None else None
        if label is not None:
            found.append((label, "xmp"))
    elif kind == "audio/wav":
        value = riff.read_riff_aigc(data)
        if value is not None:
            found.append((parse_aigc_json(value), "riff-chunk"))
    elif kind == "application/pdf":
        info_value = pdf.read_pdf_aigc(data)
        if info_value is not None:
            found.append((parse_aigc_json(info_value), "pdf-info"))
    else:
        text_value = id3.read_id3_aigc(data)
        if text_value is not None:
            found.append((parse_aigc_json(text_value), "id3-txxx"))
    return _one(found, kind)


def _write_png(data: bytes, label: AigcLabel) -> bytes:
    chunks = png.png_chunks(data)
    texts = png.text_chunks(data, chunks, _PNG_KEYWORDS)
    xmp = [t for t in texts if t.keyword == png.XMP_KEYWORD]
    if len(xmp) > 1:
        raise MalformedMedia(f"PNG has {len(xmp)} XMP chunks; one is allowed", hint="remove the extra XMP chunk")
    replacements: dict[int, bytes] = {}
    for text in texts:
        if text.keyword == png.XMP_KEYWORD:
            replacements[text.chunk.start] = png.itxt_chunk(png.XMP_KEYWORD, set_xmp_aigc(text.text, label))
        elif text.chunk.type == b"tEXt":  # keep the form the file already uses, with the new value
            replacements[text.chunk.start] = png.make_chunk(b"tEXt", b"AIGC\x00" + label.to_json().encode())
        else:
            replacements[text.chunk.start] = png.itxt_chunk("AIGC", label.to_json().encode())
    first_idat = next(c for c in chunks if c.type == b"IDAT")
    parts = [data[:8]]
    for chunk in chunks:
        if chunk is first_idat and not xmp:
            parts.append(png.itxt_chunk(png.XMP_KEYWORD, set_xmp_aigc(None, label)))
        parts.append(replacements.get(chunk.start, data[chunk.start : chunk.end]))
    parts.append(data[chunks[-1].end :])
    return b"".join(parts)


def write_aigc(data: bytes, label: AigcLabel, mime: str | None = None) -> bytes:
    """``data`` with ``label`` written where the rules place it for its container.

    JPEG and PNG get XMP ``TC260:AIGC`` (a PNG's existing ``AIGC`` text chunk is updated too),
    MP4 the ``moov/udta/meta`` key, WAV the ``AIGC`` chunk, MP3 ``TXXX:AIGC``, PDF the Info
    dictionary's ``/AIGC`` (appended as an incremental update). Media data is copied unchanged.
    The result is read back before it is returned. Raises :class:`MalformedError` as
    :func:`read_aigc` does, when the result would exceed a container's metadata limits, and when
    the label does not read back.
    """
    kind = _resolve(data, mime)
    out = _write(data, kind, label)
    found = read_aigc(out, kind)
    if found is None or found.label != label:  # a structure this writer misread: refuse, never guess
        raise MalformedMedia(
            f"the AIGC label did not read back after writing this {kind} file",
            hint="the file's metadata layout is unusual; re-export it with a standard tool and try again",
        )
    return out


def _write(data: bytes, kind: str, label: AigcLabel) -> bytes:
    value = label.to_json()
    if kind == "image/jpeg":
        return jpeg.write_jpeg_xmp(data, set_xmp_aigc(jpeg.read_jpeg_xmp(data), label))
    if kind == "image/png":
        return _write_png(data, label)
    if kind == "video/mp4":
        return isobmff.write_mp4_aigc(data, value.encode())
    if kind == "audio/wav":
        return riff.write_riff_aigc(data, value.encode())
    if kind == "application/pdf":
        return pdf.write_pdf_aigc(data, value)
    return id3.write_id3_aigc(data, value)
