"""ISO base media (MP4/MOV) boxes, and the AIGC label in ``moov/udta/meta``.

TC260-PG-20257A places the label the way ffmpeg writes metadata with ``-movflags
use_metadata_tags``: a ``meta`` box with handler ``mdta``, a ``keys`` box naming ``AIGC`` (key
namespace ``mdta``) and an ``ilst`` item for that key index whose ``data`` box holds the JSON as
UTF-8 (type 1). Reading also looks at ``moov/meta`` and at an XMP ``uuid`` box.

Writing rebuilds only the ``moov`` box. When ``moov`` precedes the media data, the chunk offsets
in every ``stco``/``co64`` table are shifted by the change in its size so they still point at the
same, unchanged ``mdat`` bytes. Files whose layout carries other absolute offsets after ``moov``
(fragments, ``saio``, ``iloc``) are refused rather than corrupted.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from detente.errors import MalformedMedia

__all__ = ["XMP_UUID", "Box", "boxes", "read_mp4_aigc", "read_mp4_xmp", "write_mp4_aigc"]

XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
_HINT = "the file is not a complete ISO BMFF/MP4 file (ISO/IEC 14496-12): re-mux it from the original"
_KEY = b"AIGC"
_MAX_VALUE = 1 << 16
_MAX_DEPTH_BOXES = 100_000


@dataclass(frozen=True)
class Box:
    """One box: ``data[start:end]`` whole, its payload from ``start + header``."""

    type: bytes
    start: int
    end: int
    header: int

    @property
    def payload(self) -> int:
        return self.start + self.header


def boxes(data: bytes, start: int, end: int, *, top: bool = False) -> list[Box]:
    """The boxes laid end to end in ``data[start:end]``, each bounds-checked.

    Size 0 ("to the end of the file") is accepted only for the last box at the top level.
    """
    found: list[Box] = []
    pos = start
    while pos < end:
        if end - pos == 4 and data[pos:end] == b"\x00\x00\x00\x00":
            break  # QuickTime's optional 32-bit terminator at the end of a udta list
        if pos + 8 > end:
            raise MalformedMedia(f"MP4 box header at byte {pos} is truncated", hint=_HINT)
        size, btype = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise MalformedMedia(f"MP4 box {btype!r} at byte {pos} has a truncated 64-bit size", hint=_HINT)
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            if not top:
                raise MalformedMedia(f"MP4 box {btype!r} at byte {pos} has size 0 inside another box", hint=_HINT)
            size = end - pos
        if btype == b"uuid":
            header += 16
        if size < header or pos + size > end:
            raise MalformedMedia(f"MP4 box {btype!r} at byte {pos} runs past its parent (size {size})", hint=_HINT)
        found.append(Box(btype, pos, pos + size, header))
        if len(found) > _MAX_DEPTH_BOXES:
            raise MalformedMedia("MP4 has too many boxes at one level", hint=_HINT)
        pos += size
    return found


def _children(data: bytes, box: Box) -> list[Box]:
    return boxes(data, box.payload, box.end)


def _one(found: list[Box], btype: bytes, where: str) -> Box | None:
    matches = [b for b in found if b.type == btype]
    if len(matches) > 1:
        raise MalformedMedia(f"MP4 has {len(matches)} {btype.decode()} boxes in {where}", hint=_HINT)
    return matches[0] if matches else None


def _top(data: bytes) -> tuple[list[Box], Box]:
    top = boxes(data, 0, len(data), top=True)
    if not top or top[0].type != b"ftyp":
        raise MalformedMedia("MP4 does not start with an ftyp box", hint=_HINT)
    moov = _one(top, b"moov", "the file")
    if moov is None:
        raise MalformedMedia("MP4 has no moov box", hint=_HINT)
    return top, moov


def _meta_children_start(data: bytes, meta: Box) -> int:
    """``meta`` is a full box in ISO BMFF but a plain container in QuickTime; tell them apart."""
    if data[meta.payload + 4 : meta.payload + 8] == b"hdlr":
        return meta.payload
    return meta.payload + 4


def _handler(data: bytes, meta_children: list[Box]) -> bytes | None:
    hdlr = _one(meta_children, b"hdlr", "meta")
    if hdlr is None:
        return None
    if hdlr.payload + 12 > hdlr.end:
        raise MalformedMedia("MP4 hdlr box is truncated", hint=_HINT)
    return data[hdlr.payload + 8 : hdlr.payload + 12]


def _keys(data: bytes, keys: Box) -> list[tuple[bytes, bytes]]:
    if keys.payload + 8 > keys.end:
        raise MalformedMedia("MP4 keys box is truncated", hint=_HINT)
    (count,) = struct.unpack_from(">I", data, keys.payload + 4)
    entries: list[tuple[bytes, bytes]] = []
    pos = keys.payload + 8
    for _ in range(count):
        if pos + 8 > keys.end:
            raise MalformedMedia("MP4 keys box holds fewer keys than it declares", hint=_HINT)
        size, namespace = struct.unpack_from(">I4s", data, pos)
        if size < 8 or pos + size > keys.end:
            raise MalformedMedia(f"MP4 key entry at byte {pos} runs past the keys box", hint=_HINT)
        entries.append((namespace, data[pos + 8 : pos + size]))
        pos += size
    return entries


def _item_value(data: bytes, item: Box) -> bytes:
    data_box = _one(_children(data, item), b"data", "an ilst item")
    if data_box is None or data_box.payload + 8 > data_box.end:
        raise MalformedMedia("MP4 ilst item for AIGC has no data box", hint=_HINT)
    type_indicator = data[data_box.payload : data_box.payload + 4]
    if type_indicator != b"\x00\x00\x00\x01":
        raise MalformedMedia(f"MP4 AIGC value is not UTF-8 text (data type {type_indicator.hex()})", hint=_HINT)
    value = data[data_box.payload + 8 : data_box.end]
    if len(value) > _MAX_VALUE:
        raise MalformedMedia(
            f"MP4 AIGC value is {len(value)} bytes; the limit is {_MAX_VALUE}",
            hint="this metadata is too large to be an AIGC label",
        )
    return value


def _metas(data: bytes, moov: Box) -> Iterator[Box]:
    moov_children = _children(data, moov)
    udta = _one(moov_children, b"udta", "moov")
    if udta is not None:
        meta = _one(_children(data, udta), b"meta", "udta")
        if meta is not None:
            yield meta
    meta = _one(moov_children, b"meta", "moov")
    if meta is not None:
        yield meta


def read_mp4_aigc(data: bytes) -> list[bytes]:
    """The AIGC values (raw JSON bytes) in the ``mdta`` metadata of ``moov/udta/meta`` and ``moov/meta``."""
    _, moov = _top(data)
    values = []
    for meta in _metas(data, moov):
        children = boxes(data, _meta_children_start(data, meta), meta.end)
        if _handler(data, children) != b"mdta":
            continue
        keys_box, ilst = _one(children, b"keys", "meta"), _one(children, b"ilst", "meta")
        if keys_box is None or ilst is None:
            continue
        keys = _keys(data, keys_box)
        for item in _children(data, ilst):
            (index,) = struct.unpack(">I", item.type)
            if 1 <= index <= len(keys) and keys[index - 1] == (b"mdta", _KEY):
                values.append(_item_value(data, item))
    return values


def read_mp4_xmp(data: bytes) -> bytes | None:
    """The XMP packet of a top-level XMP ``uuid`` box, if any."""
    top, _ = _top(data)
    xmp = [b for b in top if b.type == b"uuid" and data[b.start + b.header - 16 : b.payload] == XMP_UUID]
    if len(xmp) > 1:
        raise MalformedMedia(f"MP4 has {len(xmp)} XMP uuid boxes", hint=_HINT)
    return data[xmp[0].payload : xmp[0].end] if xmp else None


def _box(btype: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 > 0xFFFFFFFF:
        raise MalformedMedia("MP4 moov box would exceed 4 GiB", hint=_HINT)
    return struct.pack(">I", len(payload) + 8) + btype + payload


def _data_item(index: int, value: bytes) -> bytes:
    return _box(struct.pack(">I", index), _box(b"data", b"\x00\x00\x00\x01\x00\x00\x00\x00" + value))


def _new_meta(value: bytes) -> bytes:
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 13)
    keys = _box(b"keys", b"\x00\x00\x00\x00" + struct.pack(">I", 1) + _box(b"mdta", _KEY))
    return _box(b"meta", b"\x00\x00\x00\x00" + hdlr + keys + _box(b"ilst", _data_item(1, value)))


def _edit_meta(data: bytes, meta: Box, value: bytes) -> bytes:
    start = _meta_children_start(data, meta)
    children = boxes(data, start, meta.end)
    handler = _handler(data, children)
    if handler != b"mdta":
        raise MalformedMedia(
            f"MP4 udta/meta uses handler {handler!r}, not mdta; an AIGC key cannot be added beside it",
            hint="re-mux with: ffmpeg -i in.mp4 -c copy -movflags use_metadata_tags out.mp4",
        )
    keys_box, ilst = _one(children, b"keys", "meta"), _one(children, b"ilst", "meta")
    keys = _keys(data, keys_box) if keys_box is not None else []
    items = _children(data, ilst) if ilst is not None else []
    matching = [i + 1 for i, key in enumerate(keys) if key == (b"mdta", _KEY)]
    if len(matching) > 1:
        raise MalformedMedia("MP4 keys box names AIGC more than once", hint=_HINT)
    index = matching[0] if matching else len(keys) + 1
    if not matching:
        keys.append((b"mdta", _KEY))
    new_items = b"".join(data[i.start : i.end] for i in items if struct.unpack(">I", i.type)[0] != index)
    keys_payload = b"\x00\x00\x00\x00" + struct.pack(">I", len(keys)) + b"".join(_box(ns, k) for ns, k in keys)
    new_keys = _box(b"keys", keys_payload)
    new_ilst = _box(b"ilst", new_items + _data_item(index, value))
    out = []
    for child in children:
        if child.type == b"keys":
            out.append(new_keys)
        elif child.type == b"ilst":
            out.append(new_ilst)
        else:
            out.append(data[child.start : child.end])
    if keys_box is None:
        out.append(new_keys)
    if ilst is None:
        out.append(new_ilst)
    return _box(b"meta", data[meta.payload : start] + b"".join(out))


def _rebuild(data: bytes, parent: Box, child_type: bytes, new_child: bytes) -> bytes:
    """``parent`` with its one ``child_type`` child replaced by ``new_child`` (appended if absent)."""
    kids = _children(data, parent)
    existing = _one(kids, child_type, parent.type.decode("latin-1"))
    parts = [new_child if k is existing else data[k.start : k.end] for k in kids]
    if existing is None:
        parts.append(new_child)
    return _box(parent.type, b"".join(parts))


def _stbls(data: bytes, moov: Box) -> Iterator[Box]:
    for trak in (b for b in _children(data, moov) if b.type == b"trak"):
        for mdia in (b for b in _children(data, trak) if b.type == b"mdia"):
            for minf in (b for b in _children(data, mdia) if b.type == b"minf"):
                yield from (b for b in _children(data, minf) if b.type == b"stbl")


def _shift_offsets(moov_bytes: bytes, threshold: int, delta: int) -> bytes:
    """Add ``delta`` to every chunk offset at or past ``threshold`` in a standalone moov box."""
    out = bytearray(moov_bytes)
    (moov,) = boxes(moov_bytes, 0, len(moov_bytes))
    for stbl in _stbls(moov_bytes, moov):
        for table in _children(moov_bytes, stbl):
            if table.type == b"saio":
                raise MalformedMedia(
                    "MP4 sample tables hold absolute offsets this writer does not move (saio)",
                    hint="re-mux the file with its moov box after mdat (ffmpeg without +faststart)",
                )
            if table.type not in (b"stco", b"co64"):
                continue
            width, fmt = (4, ">I") if table.type == b"stco" else (8, ">Q")
            if table.payload + 8 > table.end:
                raise MalformedMedia(f"MP4 {table.type.decode()} box is truncated", hint=_HINT)
            (count,) = struct.unpack_from(">I", moov_bytes, table.payload + 4)
            if table.payload + 8 + count * width > table.end:
                raise MalformedMedia(f"MP4 {table.type.decode()} box holds fewer offsets than it declares", hint=_HINT)
            for n in range(count):
                at = table.payload + 8 + n * width
                (offset,) = struct.unpack_from(fmt, moov_bytes, at)
                if offset >= threshold:
                    offset += delta
                    if offset >= 1 << (8 * width):
                        raise MalformedMedia("MP4 chunk offset would overflow stco", hint="re-mux with co64 offsets")
                    struct.pack_into(fmt, out, at, offset)
    return bytes(out)


def write_mp4_aigc(data: bytes, value: bytes) -> bytes:
    """``data`` with the AIGC key of ``moov/udta/meta`` set to ``value``; media data unchanged."""
    top, moov = _top(data)
    udta = _one(_children(data, moov), b"udta", "moov")
    if udta is None:
        new_udta = _box(b"udta", _new_meta(value))
    else:
        meta = _one(_children(data, udta), b"meta", "udta")
        new_meta = _new_meta(value) if meta is None else _edit_meta(data, meta, value)
        new_udta = _rebuild(data, udta, b"meta", new_meta)
    new_moov = _rebuild(data, moov, b"udta", new_udta)
    delta = len(new_moov) - (moov.end - moov.start)
    later = [b for b in top if b.start >= moov.end]
    if delta and later:
        if any(b.type in (b"moof", b"mfra", b"meta") for b in later):
            raise MalformedMedia(
                "MP4 is fragmented or has top-level metadata after moov; its absolute offsets cannot be moved safely",
                hint="re-mux the file as a plain (non-fragmented) MP4",
            )
        new_moov = _shift_offsets(new_moov, moov.end, delta)
    return data[: moov.start] + new_moov + data[moov.end :]
