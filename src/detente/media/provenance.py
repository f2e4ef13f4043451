"""The XMP ``dcterms:provenance`` pointer to a file's active C2PA manifest.

C2PA lets a file's XMP say where its active manifest is (``dcterms:provenance``, a JUMBF URI such
as ``self#jumbf=/c2pa/urn:c2pa:…``). Tools that strip or replace Content Credentials often leave
the old pointer behind: the ``no_manifest.jpg`` fixture from c2pa-rs still points to an Adobe
manifest that is no longer in the file. Signing must not hand on a pointer to a manifest that is
not the active one, so :func:`set_provenance` rewrites an existing pointer to the manifest about
to be signed (its label is chosen before signing,
:func:`~detente.media.c2pa_credentials.new_manifest_label`). A file without a pointer gets none:
the pointer is optional, and the manifest store itself is what validators read.

Done for the containers whose XMP detente writes (JPEG APP1, PNG ``iTXt``); other files are
returned unchanged.
"""

from __future__ import annotations

from detente.errors import MalformedMedia
from detente.media import jpeg, png
from detente.media.xmp import read_xmp_provenance, set_xmp_provenance

__all__ = ["manifest_uri", "read_provenance", "set_provenance"]


def manifest_uri(label: str) -> str:
    """The JUMBF URI of the manifest labelled ``label`` in the file's own manifest store."""
    return f"self#jumbf=/c2pa/{label}"


def _png_xmp(data: bytes) -> tuple[png.TextChunk | None, list[png.PngChunk]]:
    chunks = png.png_chunks(data)
    xmp = png.text_chunks(data, chunks, {png.XMP_KEYWORD})
    if len(xmp) > 1:
        raise MalformedMedia(f"PNG has {len(xmp)} XMP chunks; one is allowed", hint="remove the extra XMP chunk")
    return (xmp[0] if xmp else None), chunks


def read_provenance(data: bytes, mime: str) -> list[str]:
    """Every ``dcterms:provenance`` value in the file's XMP (JPEG and PNG; empty for others)."""
    if mime == "image/jpeg":
        packet = jpeg.read_jpeg_xmp(data)
    elif mime == "image/png":
        text, _ = _png_xmp(data)
        packet = text.text if text is not None else None
    else:
        return []
    return read_xmp_provenance(packet) if packet is not None else []


def set_provenance(data: bytes, mime: str, uri: str) -> bytes:
    """``data`` with every existing ``dcterms:provenance`` pointer set to ``uri``; unchanged when
    the file has none, or is not JPEG or PNG."""
    if mime == "image/jpeg":
        packet = jpeg.read_jpeg_xmp(data)
        if packet is None or not read_xmp_provenance(packet):
            return data
        return jpeg.write_jpeg_xmp(data, set_xmp_provenance(packet, uri))
    if mime == "image/png":
        text, _ = _png_xmp(data)
        if text is None or not read_xmp_provenance(text.text):
            return data
        chunk = png.itxt_chunk(png.XMP_KEYWORD, set_xmp_provenance(text.text, uri))
        return data[: text.chunk.start] + chunk + data[text.chunk.end :]
    return data
