"""MP3 files and the ID3v2 ``TXXX`` frame with description ``AIGC`` that carries the label.

The tag is read and written by mutagen, which rewrites only the ID3v2 tag at the start of the
file (saved as ID3v2.4, other frames kept) and leaves the MPEG audio frames untouched. The tag
header and the first audio frame are checked here first, so a truncated file fails with a typed
error rather than whatever the library happens to raise.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from detente.errors import ConfigError, MalformedMedia

__all__ = ["check_mp3", "read_id3_aigc", "write_id3_aigc"]

_KEY = "AIGC"
_HINT = "the file is not a complete MP3 (ID3v2 tag then MPEG audio frames): re-export it from the original"


def _is_frame_sync(data: bytes, pos: int) -> bool:
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return False
    version, layer = (data[pos + 1] >> 3) & 3, (data[pos + 1] >> 1) & 3
    bitrate, rate = data[pos + 2] >> 4, (data[pos + 2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def check_mp3(data: bytes) -> int:
    """Check the ID3v2 header (if any) and that an MPEG audio frame follows; return the tag's end."""
    end = 0
    if data[:3] == b"ID3":
        if len(data) < 10:
            raise MalformedMedia("MP3 ID3v2 header is truncated", hint=_HINT)
        major, flags, size_bytes = data[3], data[5], data[6:10]
        if major not in (2, 3, 4) or any(b & 0x80 for b in size_bytes):
            raise MalformedMedia(
                f"MP3 ID3v2 header is corrupt (version 2.{major}, size {size_bytes.hex()})", hint=_HINT
            )
        (raw,) = struct.unpack(">I", size_bytes)
        size = (raw & 0x7F) | ((raw >> 1) & 0x3F80) | ((raw >> 2) & 0x1FC000) | ((raw >> 3) & 0xFE00000)
        end = 10 + size + (10 if major == 4 and flags & 0x10 else 0)
        if end > len(data):
            raise MalformedMedia(f"MP3 is truncated inside its ID3v2 tag ({end} bytes declared)", hint=_HINT)
    if not _is_frame_sync(data, end):
        raise MalformedMedia(f"MP3 has no MPEG audio frame at byte {end}", hint=_HINT)
    return end


def _mutagen() -> Any:
    """mutagen (GPL-2.0-or-later), imported only for MP3 labels: it is in the ``media`` extra."""
    try:
        import mutagen.id3
    except ImportError:
        raise ConfigError("MP3 labels need the mutagen package", hint="pip install 'detente[media]'") from None
    return mutagen  # mutagen's API is untyped


def _load(data: bytes) -> Any:
    if check_mp3(data) == 0:
        return None
    mutagen = _mutagen()
    try:
        return mutagen.id3.ID3(io.BytesIO(data))
    except (mutagen.MutagenError, ValueError, EOFError, struct.error) as exc:
        raise MalformedMedia(f"MP3 ID3v2 tag does not parse: {exc}", hint=_HINT) from None


def _aigc_frames(tags: Any) -> list[Any]:
    return [f for f in tags.getall("TXXX") if f.desc.casefold() == _KEY.casefold()]


def read_id3_aigc(data: bytes) -> str | None:
    """The text of the ``TXXX:AIGC`` frame, or ``None``."""
    tags = _load(data)
    if tags is None:
        return None
    frames = _aigc_frames(tags)
    if not frames:
        return None
    if len(frames) > 1 or len(frames[0].text) != 1:
        raise MalformedMedia("MP3 carries more than one TXXX:AIGC value", hint="a file carries one AIGC label")
    return str(frames[0].text[0])


def write_id3_aigc(data: bytes, value: str) -> bytes:
    """``data`` with ``TXXX:AIGC`` set to ``value`` in an ID3v2.4 tag; audio frames unchanged."""
    mutagen = _mutagen()
    tags = _load(data) or mutagen.id3.ID3()
    for frame in _aigc_frames(tags):
        tags.delall(frame.HashKey)
    tags.add(mutagen.id3.TXXX(encoding=mutagen.id3.Encoding.UTF8, desc=_KEY, text=[value]))
    out = io.BytesIO(data)
    try:
        tags.save(out, v2_version=4)
    except (mutagen.MutagenError, ValueError, struct.error) as exc:
        raise MalformedMedia(f"MP3 ID3v2 tag cannot be rewritten: {exc}", hint=_HINT) from None
    return out.getvalue()
