"""PNG chunks, and the text chunks that carry an AIGC label: the XMP ``iTXt`` chunk (keyword
``XML:com.adobe.xmp``) and a ``tEXt``/``iTXt`` chunk with keyword ``AIGC`` holding the JSON.

Every chunk's length and CRC-32 is checked (PNG spec §5.3); image data (``IDAT``) is copied
byte for byte. New text chunks go before the first ``IDAT``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from detente.errors import MalformedMedia, MetadataTooLarge

__all__ = [
    "PNG_SIGNATURE",
    "XMP_KEYWORD",
    "PngChunk",
    "TextChunk",
    "itxt_chunk",
    "make_chunk",
    "png_chunks",
    "text_chunks",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = "XML:com.adobe.xmp"
_MAX_TEXT = 1 << 20  # decompressed iTXt text we accept
_HINT = "the file is not a complete PNG (ISO/IEC 15948): re-export it from the original"


@dataclass(frozen=True)
class PngChunk:
    """One chunk: ``data[start:end]`` is length, type, data and CRC."""

    type: bytes
    start: int
    end: int

    @property
    def data_start(self) -> int:
        return self.start + 8

    @property
    def data_end(self) -> int:
        return self.end - 4


@dataclass(frozen=True)
class TextChunk:
    """A ``tEXt`` or ``iTXt`` chunk's keyword and (decompressed) text."""

    chunk: PngChunk
    keyword: str
    text: bytes


def png_chunks(data: bytes) -> list[PngChunk]:
    """All chunks from IHDR to IEND, each length- and CRC-checked.

    Raises :class:`MalformedError` on a bad signature, a truncated or corrupt chunk, or a missing
    IHDR, IDAT or IEND.
    """
    if data[:8] != PNG_SIGNATURE:
        raise MalformedMedia("not a PNG file: bad signature", hint=_HINT)
    chunks: list[PngChunk] = []
    pos = 8
    while True:
        if pos + 12 > len(data):
            raise MalformedMedia(f"PNG is truncated at byte {pos}: no IEND chunk", hint=_HINT)
        length, ctype = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            raise MalformedMedia(f"PNG chunk at byte {pos} runs past the end of the file", hint=_HINT)
        if not ctype.isalpha() or not ctype.isascii():
            raise MalformedMedia(f"PNG chunk at byte {pos} has an invalid type {ctype!r}", hint=_HINT)
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(data[pos + 4 : end - 4]) != crc:
            raise MalformedMedia(f"PNG chunk {ctype.decode()} at byte {pos} fails its CRC", hint=_HINT)
        chunk = PngChunk(ctype, pos, end)
        if not chunks and ctype != b"IHDR":
            raise MalformedMedia("PNG does not start with an IHDR chunk", hint=_HINT)
        chunks.append(chunk)
        pos = end
        if ctype == b"IEND":
            break
    if not any(c.type == b"IDAT" for c in chunks):
        raise MalformedMedia("PNG has no image data (IDAT)", hint=_HINT)
    return chunks


def _split(body: bytes, at: int, what: str) -> tuple[bytes, int]:
    nul = body.find(b"\x00", at)
    if nul < 0:
        raise MalformedMedia(f"PNG {what} is not NUL-terminated", hint=_HINT)
    return body[at:nul], nul + 1


def _text(data: bytes, chunk: PngChunk) -> TextChunk:
    body = data[chunk.data_start : chunk.data_end]
    keyword_bytes, at = _split(body, 0, f"{chunk.type.decode()} keyword")
    keyword = keyword_bytes.decode("latin-1")
    if chunk.type == b"tEXt":
        return TextChunk(chunk, keyword, body[at:])
    if at + 2 > len(body):
        raise MalformedMedia("PNG iTXt chunk is truncated after its keyword", hint=_HINT)
    compressed, method = body[at], body[at + 1]
    _, at = _split(body, at + 2, "iTXt language tag")
    _, at = _split(body, at, "iTXt translated keyword")
    text = body[at:]
    if compressed:
        if compressed != 1 or method != 0:
            raise MalformedMedia(
                f"PNG iTXt chunk {keyword!r} has unknown compression {compressed}/{method}", hint=_HINT
            )
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, _MAX_TEXT)
        except zlib.error as exc:
            raise MalformedMedia(f"PNG iTXt chunk {keyword!r} does not inflate: {exc}", hint=_HINT) from None
        if inflater.unconsumed_tail or not inflater.eof:
            raise MalformedMedia(
                f"PNG iTXt chunk {keyword!r} inflates past {_MAX_TEXT} bytes or is cut short",
                hint="this metadata is too large or truncated",
            )
    return TextChunk(chunk, keyword, text)


def text_chunks(data: bytes, chunks: list[PngChunk], keywords: set[str]) -> list[TextChunk]:
    """The ``tEXt`` and ``iTXt`` chunks whose keyword is in ``keywords``."""
    found = []
    for chunk in chunks:
        if chunk.type in (b"tEXt", b"iTXt"):
            keyword = data[chunk.data_start : chunk.data_end].split(b"\x00", 1)[0]
            if keyword.decode("latin-1") in keywords:
                found.append(_text(data, chunk))
    return found


def make_chunk(ctype: bytes, body: bytes) -> bytes:
    """A chunk with its length and CRC."""
    if len(body) > _MAX_TEXT:
        raise MetadataTooLarge(f"PNG chunk body is {len(body)} bytes; the limit here is {_MAX_TEXT}")
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def itxt_chunk(keyword: str, text: bytes) -> bytes:
    """An uncompressed ``iTXt`` chunk with empty language tag and translated keyword."""
    return make_chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text)
