"""RIFF/WAVE chunks, and the ``AIGC`` chunk that carries the label's JSON.

A RIFF file is ``RIFF`` <size, little-endian> ``WAVE`` then chunks of id, size and data, each
padded to an even length. The label is a top-level chunk with id ``AIGC``; writing replaces it in
place or appends it after the last chunk, fixes the RIFF size, and copies the audio (``data``)
chunk byte for byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from detente.errors import MalformedMedia

__all__ = ["RiffChunk", "read_riff_aigc", "riff_chunks", "write_riff_aigc"]

_KEY = b"AIGC"
_MAX_VALUE = 1 << 16
_HINT = "the file is not a complete RIFF/WAVE file: re-export it from the original"


@dataclass(frozen=True)
class RiffChunk:
    """One chunk: ``data[start:end]`` is id, size, data and any pad byte."""

    id: bytes
    start: int
    size: int
    end: int

    @property
    def body(self) -> slice:
        return slice(self.start + 8, self.start + 8 + self.size)


def riff_chunks(data: bytes) -> list[RiffChunk]:
    """The top-level chunks of a ``RIFF``/``WAVE`` file, each bounds-checked.

    Raises :class:`MalformedError` when the header is wrong, the declared RIFF size disagrees
    with the file, or a chunk runs past it.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise MalformedMedia("not a RIFF/WAVE file", hint=_HINT)
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data):
        raise MalformedMedia(f"WAV is truncated: RIFF declares {end} bytes, the file has {len(data)}", hint=_HINT)
    chunks: list[RiffChunk] = []
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise MalformedMedia(f"WAV chunk header at byte {pos} is truncated", hint=_HINT)
        cid, size = struct.unpack_from("<4sI", data, pos)
        stop = pos + 8 + size + (size & 1)
        if pos + 8 + size > end:
            raise MalformedMedia(f"WAV chunk {cid!r} at byte {pos} runs past the end of the RIFF data", hint=_HINT)
        stop = min(stop, end)  # a missing final pad byte is common and harmless
        chunks.append(RiffChunk(cid, pos, size, stop))
        pos = stop
    if not any(c.id == b"fmt " for c in chunks) or not any(c.id == b"data" for c in chunks):
        raise MalformedMedia("WAV has no fmt or data chunk", hint=_HINT)
    return chunks


def _aigc(chunks: list[RiffChunk]) -> RiffChunk | None:
    found = [c for c in chunks if c.id == _KEY]
    if len(found) > 1:
        raise MalformedMedia(f"WAV has {len(found)} AIGC chunks", hint="a file carries one AIGC label")
    return found[0] if found else None


def read_riff_aigc(data: bytes) -> bytes | None:
    """The body of the ``AIGC`` chunk, or ``None``."""
    chunk = _aigc(riff_chunks(data))
    if chunk is None:
        return None
    if chunk.size > _MAX_VALUE:
        raise MalformedMedia(
            f"WAV AIGC chunk is {chunk.size} bytes; the limit is {_MAX_VALUE}",
            hint="this metadata is too large to be an AIGC label",
        )
    return data[chunk.body].rstrip(b"\x00")


def write_riff_aigc(data: bytes, value: bytes) -> bytes:
    """``data`` with its ``AIGC`` chunk set to ``value`` (replaced in place, else appended)."""
    chunks = riff_chunks(data)
    new = _KEY + struct.pack("<I", len(value)) + value + (b"\x00" if len(value) & 1 else b"")
    existing = _aigc(chunks)
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    body = data[12:riff_end]
    if existing is not None:
        body = data[12 : existing.start] + new + data[existing.end : riff_end]
    else:
        if len(body) & 1:
            body += b"\x00"  # restore the final chunk's pad byte before appending
        body += new
    if len(body) + 4 > 0xFFFFFFFF:
        raise MalformedMedia("WAV would exceed the 4 GiB RIFF limit", hint=_HINT)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body + data[riff_end:]
