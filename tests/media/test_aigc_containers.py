"""China's implicit AIGC label in real containers: round trips, media data untouched, one label
per file, other metadata kept, and every bad input a typed error.

JPEG and MP4 samples are the real files in ``tests/data/c2pa`` (see its SOURCES.md); PNG comes
from Pillow, WAV from the standard library's ``wave``, MP3 is a run of valid MPEG-1 Layer III
frames (silence) tagged by mutagen.
"""

from __future__ import annotations

import io
import struct
import wave
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutagen.id3 import ID3, TIT2, TXXX
from mutagen.mp3 import MP3
from PIL import Image, PngImagePlugin

from detente.errors import MalformedError, MalformedJSON
from detente.media.aigc import AigcLabel
from detente.media.containers import detect_format, read_aigc, write_aigc

DATA = Path(__file__).parent.parent / "data" / "c2pa"

LABEL = AigcLabel(
    label="1",
    content_producer="001191110102MACQD9K64010000",
    produce_id="ccf40794-0e83-4b96-8243-72a3fa70f06e",
    reserved_code1='{"Type":"TC260PG","AlgID":"sm3"} <&>',  # characters XML and JSON must escape
)
RELABEL = AigcLabel(label="2", content_propagator="平台-0001", propagate_id="p-42")

# --- samples -----------------------------------------------------------------------------------


def jpeg_sample() -> bytes:
    return (DATA / "no_manifest.jpg").read_bytes()


def mp4_sample() -> bytes:
    return (DATA / "video1.mp4").read_bytes()


def png_sample(xmp: bytes | None = None) -> bytes:
    image = Image.new("RGB", (17, 9))
    image.putdata([(x * 13 % 256, x * 7 % 256, x % 256) for x in range(17 * 9)])
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "made by the detente tests")
    if xmp is not None:
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


FRAMES = b"".join(struct.pack(">HH", 0xFFFB, 0x9064) + bytes(413) for _ in range(12))  # 12 × 417-byte frames


def pcm() -> bytes:
    return bytes((i * 37) % 256 for i in range(2 * 2 * 501))


def wav_sample() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm())
    info = b"INFO" + b"ISFT" + struct.pack("<I", 8) + b"detente\x00"
    data = out.getvalue() + b"LIST" + struct.pack("<I", len(info)) + info
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]


def mp3_sample(tagged: bool = True, v2_version: int = 4) -> bytes:
    if not tagged:
        return FRAMES
    tags = ID3()
    tags.add(TIT2(encoding=3, text=["detente test tone"]))
    out = io.BytesIO(FRAMES)
    tags.save(out, v2_version=v2_version)
    return out.getvalue()


SAMPLES: dict[str, Callable[[], bytes]] = {
    "image/jpeg": jpeg_sample,
    "image/png": png_sample,
    "video/mp4": mp4_sample,
    "audio/wav": wav_sample,
    "audio/mpeg": mp3_sample,
}
LOCATION = {
    "image/jpeg": "xmp",
    "image/png": "xmp",
    "video/mp4": "mp4-udta",
    "audio/wav": "riff-chunk",
    "audio/mpeg": "id3-txxx",
}

# --- independent views of the media data (not using the code under test) ----------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def jpeg_segments(data: bytes) -> list[bytes]:
    """Whole header segments up to SOS, then everything from SOS on as one piece."""
    pos, segments = 2, []
    while data[pos + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", data, pos + 2)
        segments.append(data[pos : pos + 2 + length])
        pos += 2 + length
    return [*segments, data[pos:]]


def mp4_top(data: bytes) -> dict[bytes, tuple[int, int]]:
    pos, boxes = 0, {}
    while pos < len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        boxes.setdefault(kind, (pos, pos + size))
        pos += size
    return boxes


def mp4_chunk_offsets(data: bytes) -> list[int]:
    """Every stco entry in moov (the C2PA manifest also names 'stco', so search moov only)."""
    start, end = mp4_top(data)[b"moov"]
    offsets = []
    pos = data.find(b"stco", start, end)
    while pos >= 0:
        (count,) = struct.unpack_from(">I", data, pos + 8)
        offsets += struct.unpack_from(f">{count}I", data, pos + 12)
        pos = data.find(b"stco", pos + 4, end)
    return offsets


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("mime", SAMPLES)
def test_write_then_read_gives_the_label_back(mime: str) -> None:
    original = SAMPLES[mime]()
    assert detect_format(original) == mime
    assert read_aigc(original) is None
    labelled = write_aigc(original, LABEL)
    found = read_aigc(labelled, mime)
    assert found is not None
    assert (found.label, found.location, found.mime) == (LABEL, LOCATION[mime], mime)


@pytest.mark.parametrize("mime", SAMPLES)
def test_a_second_write_replaces_the_label_rather_than_adding_one(mime: str) -> None:
    twice = write_aigc(write_aigc(SAMPLES[mime](), LABEL), RELABEL)
    found = read_aigc(twice)
    assert found is not None and found.label == RELABEL
    assert twice.count(b"ContentProducer") == 1
    assert b"ccf40794" not in twice
    assert write_aigc(twice, RELABEL) == twice  # idempotent


def test_jpeg_image_data_and_other_segments_are_unchanged() -> None:
    original = jpeg_sample()
    labelled = write_aigc(original, LABEL)
    before, after = jpeg_segments(original), jpeg_segments(labelled)
    assert before[-1] == after[-1]  # SOS and the entropy-coded data, byte for byte
    xmp = [s for s in before if s[4:33] == b"http://ns.adobe.com/xap/1.0/\x00"]
    assert [s for s in before if s not in xmp] == [s for s in after if s[4:33] != b"http://ns.adobe.com/xap/1.0/\x00"]
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(labelled)) as b:
        assert a.tobytes() == b.tobytes()


def test_jpeg_keeps_the_other_xmp_properties() -> None:
    original = jpeg_sample()
    labelled = write_aigc(write_aigc(original, LABEL), RELABEL)

    def xmp(data: bytes) -> ET.Element:
        segment = next(s for s in jpeg_segments(data) if s[4:33] == b"http://ns.adobe.com/xap/1.0/\x00")
        return ET.fromstring(segment[33:])

    old, new = xmp(original), xmp(labelled)
    old_props = {(e.tag, tuple(sorted(e.attrib.items())), (e.text or "").strip()) for e in old.iter()}
    new_props = {(e.tag, tuple(sorted(e.attrib.items())), (e.text or "").strip()) for e in new.iter()}
    assert old_props <= new_props
    assert b"dcterms:provenance" in labelled


def test_jpeg_without_xmp_gets_an_app1_after_app0() -> None:
    original = (DATA / "C.jpg").read_bytes()
    labelled = write_aigc(original, LABEL)
    segments = jpeg_segments(labelled)
    assert segments[0][:2] == b"\xff\xe0" and segments[1][4:33] == b"http://ns.adobe.com/xap/1.0/\x00"
    assert jpeg_segments(original)[1:] == segments[2:]


def test_png_pixels_and_idat_are_unchanged_and_text_is_kept() -> None:
    original = png_sample()
    labelled = write_aigc(original, LABEL)
    assert [c for c in png_chunks(original) if c[0] == b"IDAT"] == [c for c in png_chunks(labelled) if c[0] == b"IDAT"]
    kinds = [c[0] for c in png_chunks(labelled)]
    assert kinds.index(b"iTXt") < kinds.index(b"IDAT")
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(labelled)) as b:
        assert a.tobytes() == b.tobytes()
        assert b.text["Comment"] == "made by the detente tests"
        b.load()  # Pillow checks every CRC on the way


def test_png_existing_xmp_is_edited_not_duplicated() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:format>image/png</dc:format></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    labelled = write_aigc(png_sample(xmp), LABEL)
    itxt = [c for c in png_chunks(labelled) if c[0] == b"iTXt"]
    assert len(itxt) == 1
    assert b"<dc:format>image/png</dc:format>" in itxt[0][1]
    found = read_aigc(labelled)
    assert found is not None and found.label == LABEL


def with_text_chunk(png: bytes, keyword: bytes, text: bytes, kind: bytes = b"tEXt") -> bytes:
    body = keyword + b"\x00" + text
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


def test_png_text_chunk_seen_in_the_wild_is_read_and_updated_on_write() -> None:
    wild = with_text_chunk(
        png_sample(), b"AIGC", b'{"AIGC":{"Label":"1","ContentPropagator":"001191440101MA9Y9T4H7A00000"}}'
    )
    found = read_aigc(wild)
    assert found is not None and found.location == "png-text"
    assert found.label.content_propagator == "001191440101MA9Y9T4H7A00000"
    rewritten = write_aigc(wild, RELABEL)
    found = read_aigc(rewritten)
    assert found is not None and (found.label, found.location) == (RELABEL, "xmp")
    texts = [c for c in png_chunks(rewritten) if c[0] == b"tEXt" and c[1].startswith(b"AIGC\x00")]
    assert len(texts) == 1 and b'"Label":"2"' in texts[0][1]


def test_png_with_two_different_labels_is_refused() -> None:
    labelled = write_aigc(png_sample(), LABEL)
    conflicting = with_text_chunk(labelled, b"AIGC", b'{"Label":"3"}')
    with pytest.raises(MalformedError, match="two different AIGC labels"):
        read_aigc(conflicting)


def test_mp4_media_data_is_unchanged_and_offsets_still_point_at_it() -> None:
    original = mp4_sample()
    labelled = write_aigc(original, LABEL)
    old_box, new_box = mp4_top(original), mp4_top(labelled)
    mdat_old, mdat_new = original[slice(*old_box[b"mdat"])], labelled[slice(*new_box[b"mdat"])]
    assert mdat_old == mdat_new
    old_offsets, new_offsets = mp4_chunk_offsets(original), mp4_chunk_offsets(labelled)
    assert len(old_offsets) == len(new_offsets) > 0
    for old, new in zip(old_offsets, new_offsets, strict=True):
        assert original[old : old + 64] == labelled[new : new + 64]
    assert b"\xa9TIM" in labelled[slice(*new_box[b"moov"])]  # the udta's other entries stay


def mdta_mp4(handler: bytes = b"mdta") -> bytes:
    """A minimal MP4 with moov after mdat and an mdta meta holding another key."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload) + 8) + kind + payload

    hdlr = box(b"hdlr", bytes(8) + handler + bytes(13))
    keys = box(b"keys", bytes(4) + struct.pack(">I", 1) + box(b"mdta", b"com.example.title"))
    ilst = box(b"ilst", box(struct.pack(">I", 1), box(b"data", b"\x00\x00\x00\x01" + bytes(4) + b"hello")))
    meta = box(b"meta", bytes(4) + hdlr + keys + ilst)
    return box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"mdat", b"media bytes") + box(b"moov", box(b"udta", meta))


def test_mp4_keeps_other_mdta_keys() -> None:
    original = mdta_mp4()
    labelled = write_aigc(original, LABEL)
    assert labelled.startswith(original[: mp4_top(original)[b"moov"][0]])  # ftyp and mdat untouched
    assert b"com.example.title" in labelled and b"hello" in labelled
    found = read_aigc(labelled)
    assert found is not None and found.label == LABEL
    relabelled = write_aigc(labelled, RELABEL)
    assert relabelled.count(b"AIGC") == 1 and b"hello" in relabelled


def test_mp4_with_itunes_metadata_is_refused_with_a_hint() -> None:
    with pytest.raises(MalformedError, match="mdir") as excinfo:
        write_aigc(mdta_mp4(b"mdir"), LABEL)
    assert excinfo.value.hint and "use_metadata_tags" in excinfo.value.hint


def test_wav_audio_and_other_chunks_are_unchanged() -> None:
    original = wav_sample()
    labelled = write_aigc(original, LABEL)
    with wave.open(io.BytesIO(labelled)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        assert w.readframes(10_000) == pcm()
    assert original[original.index(b"LIST") :] in labelled
    assert struct.unpack_from("<I", labelled, 4)[0] == len(labelled) - 8


def test_mp3_audio_frames_and_other_frames_are_unchanged() -> None:
    labelled = write_aigc(mp3_sample(v2_version=3), LABEL)
    assert labelled.endswith(FRAMES)
    tags = ID3(io.BytesIO(labelled))
    assert tags.version == (2, 4, 0)
    assert str(tags["TIT2"]) == "detente test tone"
    assert MP3(io.BytesIO(labelled)).info.bitrate == 128_000


def test_mp3_without_a_tag_gets_one() -> None:
    labelled = write_aigc(mp3_sample(tagged=False), LABEL)
    assert labelled.endswith(FRAMES) and labelled.startswith(b"ID3\x04")
    found = read_aigc(labelled)
    assert found is not None and found.location == "id3-txxx"


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mime", SAMPLES)
def test_truncated_files_are_typed_errors(mime: str) -> None:
    labelled = write_aigc(SAMPLES[mime](), LABEL)
    header_end = {"image/jpeg": 600, "image/png": 200, "video/mp4": 200, "audio/wav": 44, "audio/mpeg": 200}[mime]
    cuts = {1, 3, 5, 9, 11, 20, header_end // 2, header_end}
    if mime != "audio/mpeg":  # an MP3 cut inside its audio frames still parses; MPEG has no length field
        cuts |= {len(labelled) // 2, len(labelled) - 1}
    for cut in sorted(cuts):
        with pytest.raises(MalformedError):
            read_aigc(labelled[:cut])
        with pytest.raises(MalformedError):
            write_aigc(labelled[:cut], RELABEL)


def corrupt(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


CORRUPTIONS: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("image/jpeg", lambda d: corrupt(d, 4, b"\xff\xff"), "bad marker at byte 65539"),
    ("image/jpeg", lambda d: corrupt(d, 4 + struct.unpack_from(">H", d, 4)[0], b"\x12"), "bad marker"),
    ("image/png", lambda d: corrupt(d, 23, b"\x7f"), "CRC"),
    ("image/png", lambda d: corrupt(d, 8, b"\x7f"), "runs past the end"),
    ("video/mp4", lambda d: corrupt(d, 24, b"\x7f\xff\xff\xff"), "runs past"),
    ("video/mp4", lambda d: corrupt(d, 4, b"ftyq"), "unrecognised"),
    ("audio/wav", lambda d: corrupt(d, 16, b"\xff\xff\xff\x7f"), "runs past"),
    ("audio/wav", lambda d: corrupt(d, 4, b"\xff\xff\xff\x7f"), "truncated"),
    ("audio/mpeg", lambda d: corrupt(d, 6, b"\x80"), "corrupt"),
    ("audio/mpeg", lambda d: corrupt(d, d.index(b"\xff\xfb"), b"\x00"), "no MPEG audio frame"),
]


@pytest.mark.parametrize(("mime", "damage", "needle"), CORRUPTIONS)
def test_corrupt_files_are_typed_errors(mime: str, damage: Callable[[bytes], bytes], needle: str) -> None:
    broken = damage(write_aigc(SAMPLES[mime](), LABEL))
    with pytest.raises(MalformedError, match=needle) as excinfo:
        read_aigc(broken)
    assert excinfo.value.hint
    with pytest.raises(MalformedError):
        write_aigc(broken, RELABEL)


def test_mp4_nested_box_of_size_zero_is_refused() -> None:
    # Found by fuzzing: a size-0 box inside udta used to swallow the meta box appended after it.
    data = mdta_mp4()
    udta = data.index(b"udta")
    broken = corrupt(data, udta + 4, b"\x00\x00\x00\x00")  # the meta box's size field
    with pytest.raises(MalformedError, match="size 0 inside another box"):
        read_aigc(broken)
    with pytest.raises(MalformedError, match="size 0 inside another box"):
        write_aigc(broken, LABEL)


@pytest.mark.parametrize(
    ("mime", "declared"),
    [("image/jpeg", "image/png"), ("image/png", "video/mp4"), ("audio/wav", "audio/mpeg"), ("video/mp4", "text/plain")],
)
def test_wrong_mime_is_a_typed_error(mime: str, declared: str) -> None:
    data = SAMPLES[mime]()
    with pytest.raises(MalformedError, match="does not match the content"):
        read_aigc(data, declared)
    with pytest.raises(MalformedError, match="does not match the content"):
        write_aigc(data, LABEL, declared)


def test_mime_aliases_and_parameters_are_accepted() -> None:
    assert read_aigc(write_aigc(jpeg_sample(), LABEL, "image/jpg"), "IMAGE/JPEG; q=1") is not None
    assert read_aigc(write_aigc(wav_sample(), LABEL), "audio/x-wav") is not None


@pytest.mark.parametrize("data", [b"", b"hello world", b"GIF89a" + bytes(20), b"RIFF\x00\x00\x00\x00AVI LIST"])
def test_unknown_or_unsupported_formats_are_typed_errors(data: bytes) -> None:
    with pytest.raises(MalformedError, match=r"unrecognised|not supported"):
        read_aigc(data)


def test_oversized_metadata_is_refused() -> None:
    big = b'{"Label":"1","ReservedCode1":"' + b"a" * 5000 + b'"}'
    with pytest.raises(MalformedError, match="limit is 4096"):
        read_aigc(with_text_chunk(png_sample(), b"AIGC", big))
    bomb = b"\x01\x00\x00\x00" + zlib.compress(b" " * (2 << 20))  # compressed, no language, 2 MiB of spaces
    with pytest.raises(MalformedError, match="inflates past"):
        read_aigc(with_text_chunk(png_sample(), b"XML:com.adobe.xmp", bomb, kind=b"iTXt"))
    wav = wav_sample()
    body = b"AIGC" + struct.pack("<I", 70_000) + b" " * 70_000
    wav = b"RIFF" + struct.pack("<I", len(wav) - 8 + len(body)) + wav[8:] + body
    with pytest.raises(MalformedError, match="limit is 65536"):
        read_aigc(wav)
    tags = ID3()
    tags.add(TXXX(encoding=3, desc="AIGC", text=["x" * 10_000]))
    out = io.BytesIO(FRAMES)
    tags.save(out)
    with pytest.raises(MalformedError, match="limit is 4096"):
        read_aigc(out.getvalue())


def test_json_that_is_not_an_aigc_object_in_a_file_is_malformed_json() -> None:
    for text in (b"[1, 2]", b'{"Label": "9"}', b"not json"):
        with pytest.raises(MalformedJSON):
            read_aigc(with_text_chunk(png_sample(), b"AIGC", text))


def test_xmp_with_a_dtd_is_refused() -> None:
    xmp = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>'
    with pytest.raises(MalformedError, match="DTD"):
        read_aigc(png_sample(xmp))


# --- fuzzing -----------------------------------------------------------------------------------

LABELLED = {mime: write_aigc(make(), LABEL) for mime, make in SAMPLES.items()}
LABELLED["video/mp4-small"] = write_aigc(mdta_mp4(), LABEL)
MAGICS = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"\x00\x00\x00\x18ftyp",
    b"RIFF\x00\x00\x00\x00WAVE",
    b"ID3\x04\x00",
    b"\xff\xfb",
    b"%PDF-1.7\n",  # what pypdf makes of it must come back as a typed error too
]


def expect_typed(data: bytes) -> None:
    try:
        found = read_aigc(data)
    except MalformedError:
        return
    try:
        rewritten = write_aigc(data, RELABEL)
    except MalformedError:
        return
    again = read_aigc(rewritten)
    assert again is not None and again.label == RELABEL
    assert found is None or isinstance(found.label, AigcLabel)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MAGICS), st.binary(max_size=300))
def test_random_bytes_behind_a_magic_raise_only_typed_errors(magic: bytes, tail: bytes) -> None:
    expect_typed(magic + tail)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(LABELLED)),
    st.lists(st.tuples(st.integers(0, 2000), st.binary(min_size=1, max_size=4)), min_size=1, max_size=4),
    st.one_of(st.none(), st.integers(0, 3000)),
)
def test_mutated_real_files_raise_only_typed_errors(
    which: str, edits: list[tuple[int, bytes]], cut: int | None
) -> None:
    data = LABELLED[which]
    for at, value in edits:  # the first 2 KB hold every header and the labels of the small files
        data = corrupt(data, min(at, len(data) - len(value)), value)
    if cut is not None:
        data = data[:cut]
    expect_typed(data)
