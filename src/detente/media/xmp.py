"""The TC260 AIGC property in an XMP packet: ``TC260:AIGC`` in namespace
``http://www.tc260.org.cn/ns/AIGC/1.0/``, its value the label's JSON (TC260-PG-20258A).

Reading parses the packet with the standard library's expat after refusing DTDs (no entity
expansion). Writing edits an existing packet in place, text-wise, so every other property, prefix
and the packet padding survive: an existing ``TC260:AIGC`` element has its text replaced, an
attribute form is removed and a new ``rdf:Description`` carries the value. The result is parsed
again and must yield exactly the label written.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from detente.errors import MalformedMedia
from detente.media.aigc import AigcLabel, parse_aigc_json

__all__ = [
    "DCTERMS_NS",
    "TC260_NS",
    "XMP_MAX_BYTES",
    "new_xmp_packet",
    "read_xmp_aigc",
    "read_xmp_provenance",
    "set_xmp_aigc",
    "set_xmp_provenance",
]

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DCTERMS_NS = "http://purl.org/dc/terms/"
XMP_MAX_BYTES = 1 << 20
"""Largest XMP packet we parse or write (JPEG's standard segment holds under 64 KiB)."""

_HINT = "the XMP packet must be well-formed RDF/XML without a DTD (ISO 16684-1)"
_TAG = f"{{{TC260_NS}}}AIGC"
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_RDF_OPEN = re.compile(r"<(?:([A-Za-z_][\w.-]*):)?RDF(?:\s[^>]*)?>")


def _parse(packet: bytes) -> ET.Element:
    if len(packet) > XMP_MAX_BYTES:
        raise MalformedMedia(
            f"XMP packet is {len(packet)} bytes; the limit is {XMP_MAX_BYTES}",
            hint="this metadata is too large to be a plausible XMP packet",
        )
    if _DTD.search(packet):
        raise MalformedMedia("XMP packet declares a DTD or entities", hint=_HINT)
    try:
        return ET.fromstring(packet.rstrip(b"\x00 \t\r\n"))
    except (ET.ParseError, ValueError) as exc:
        raise MalformedMedia(f"XMP packet is not well-formed XML: {exc}", hint=_HINT) from None


def _values(root: ET.Element) -> list[str]:
    values: list[str] = []
    for element in root.iter():
        if element.tag == _TAG:
            if len(element):
                raise MalformedMedia("TC260:AIGC holds XML elements, not the label's JSON text", hint=_HINT)
            values.append(element.text or "")
        attribute = element.attrib.get(_TAG)
        if attribute is not None:
            values.append(attribute)
    return values


def read_xmp_aigc(packet: bytes) -> AigcLabel | None:
    """The label in ``TC260:AIGC``, or ``None`` when the packet has no such property.

    Raises :class:`MalformedError` for a packet that does not parse, or that holds the property
    more than once, and :class:`~detente.errors.MalformedJSON` when its value is not a label.
    """
    values = _values(_parse(packet))
    if not values:
        return None
    if len(values) > 1:
        raise MalformedMedia(f"XMP packet holds TC260:AIGC {len(values)} times", hint="a file carries one AIGC label")
    return parse_aigc_json(values[0].strip())


def new_xmp_packet(label: AigcLabel) -> bytes:
    """A minimal XMP packet carrying only ``TC260:AIGC``."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{RDF_NS}">{_description("rdf", label)}</rdf:RDF>'
        '</x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _escaped(label: AigcLabel) -> str:
    return escape(label.to_json(), {'"': "&quot;"})


def _description(rdf_prefix: str, label: AigcLabel) -> str:
    p = f"{rdf_prefix}:" if rdf_prefix else ""
    return (
        f'<{p}Description {p}about="" xmlns:TC260="{TC260_NS}">'
        f"<TC260:AIGC>{_escaped(label)}</TC260:AIGC></{p}Description>"
    )


def set_xmp_aigc(packet: bytes | None, label: AigcLabel) -> bytes:
    """``packet`` with ``TC260:AIGC`` set to ``label`` (a new packet when ``packet`` is None)."""
    if packet is None:
        return new_xmp_packet(label)
    _values(_parse(packet))  # refuse what does not parse before editing it
    try:
        text = packet.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMedia("XMP packet is not UTF-8", hint=_HINT) from None
    prefixes = re.findall(r"xmlns:([A-Za-z_][\w.-]*)\s*=\s*[\"']" + re.escape(TC260_NS) + r"[\"']", text)
    replaced = False
    for prefix in dict.fromkeys(prefixes):
        name = re.escape(prefix) + r":AIGC"
        element = re.compile(r"<" + name + r"(\s[^>]*)?>(.*?)</" + name + r"\s*>", re.DOTALL)
        match = element.search(text)
        if not replaced and match is not None and len(element.findall(text)) == 1:
            text = text[: match.start(2)] + _escaped(label) + text[match.end(2) :]
            replaced = True
            continue
        text = element.sub("", text)
        text = re.sub(r"<" + name + r"(\s[^>]*)?/>", "", text)
        text = re.sub(r"\s" + name + r"\s*=\s*(\"[^\"]*\"|'[^']*')", "", text)
    if not replaced:
        rdf_open = _RDF_OPEN.search(text)
        if rdf_open is None:
            raise MalformedMedia("XMP packet has no rdf:RDF element to hold TC260:AIGC", hint=_HINT)
        insert_at = rdf_open.end()
        text = text[:insert_at] + _description(rdf_open.group(1) or "", label) + text[insert_at:]
    edited = text.encode("utf-8")
    if read_xmp_aigc(edited) != label:
        raise MalformedMedia(
            "could not place TC260:AIGC in this XMP packet without disturbing it",
            hint="rewrite the packet's TC260:AIGC property with an XMP editor, then try again",
        )
    return edited


_PROVENANCE = f"{{{DCTERMS_NS}}}provenance"


def read_xmp_provenance(packet: bytes) -> list[str]:
    """Every ``dcterms:provenance`` value in the packet (element or attribute form)."""
    values: list[str] = []
    for element in _parse(packet).iter():
        if element.tag == _PROVENANCE:
            values.append((element.text or "").strip())
        attribute = element.attrib.get(_PROVENANCE)
        if attribute is not None:
            values.append(attribute)
    return values


def set_xmp_provenance(packet: bytes, uri: str) -> bytes:
    """``packet`` with every ``dcterms:provenance`` value replaced by ``uri``, text-wise (every
    other byte kept). Raises :class:`MalformedError` when the result does not read back as
    exactly ``uri``."""
    _parse(packet)
    try:
        text = packet.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMedia("XMP packet is not UTF-8", hint=_HINT) from None
    value = escape(uri, {'"': "&quot;", "'": "&apos;"})
    prefixes = re.findall(r"xmlns:([A-Za-z_][\w.-]*)\s*=\s*[\"']" + re.escape(DCTERMS_NS) + r"[\"']", text)
    for prefix in dict.fromkeys(prefixes):
        name = re.escape(prefix) + r":provenance"
        text = re.sub(r"(\s" + name + r"\s*=\s*)(\"[^\"]*\"|'[^']*')", lambda m: f'{m.group(1)}"{value}"', text)
        text = re.sub(
            r"(<" + name + r"(?:\s[^>]*)?>)(.*?)(</" + name + r"\s*>)",
            lambda m: m.group(1) + value + m.group(3),
            text,
            flags=re.DOTALL,
        )
    edited = text.encode("utf-8")
    found = read_xmp_provenance(edited)
    if not found or any(v != uri for v in found):
        raise MalformedMedia(
            "could not replace dcterms:provenance in this XMP packet without disturbing it",
            hint="remove the stale dcterms:provenance with an XMP editor, then sign again",
        )
    return edited
