"""The ``AIGC`` key of a PDF's document information dictionary, read and written with pypdf.

The label's JSON is the string value of the Info dictionary key ``/AIGC`` (the place the
TC260 fixture generators use for PDF; ``specs/media-export.md`` A2.3). Writing is an
*incremental update*: the original file's bytes are kept unchanged and a new Info dictionary,
cross-reference section and trailer are appended after them, so nothing already in the file
(page content, fonts, signatures) is rewritten.

pypdf (BSD-3-Clause, pure Python) comes with the ``media`` extra and is imported only here.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from detente.errors import MalformedMedia

__all__ = ["read_pdf_aigc", "write_pdf_aigc"]

_KEY = "/AIGC"
_MAX_VALUE = 1 << 16
_HINT = "the file is not a readable PDF: re-export it from the original"


def _pypdf() -> Any:
    try:
        import pypdf
    except ImportError:
        raise MalformedMedia(
            "AIGC labels in PDF files need pypdf", hint="install the media extra: pip install 'detente[media]'"
        ) from None
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about damaged files are ours to report
    return pypdf


def _reader(data: bytes) -> Any:
    pypdf = _pypdf()
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise MalformedMedia("the PDF is encrypted", hint="decrypt it first; detente does not take passwords")
        _ = reader.trailer, len(reader.pages)
    except MalformedMedia:
        raise
    except Exception as exc:
        raise MalformedMedia(f"unreadable PDF: {exc.__class__.__name__}: {exc}"[:300], hint=_HINT) from None
    return reader


def read_pdf_aigc(data: bytes) -> str | None:
    """The ``/AIGC`` value of the PDF's Info dictionary, or ``None``."""
    reader = _reader(data)
    try:
        info = reader.metadata
        value = None if info is None else info.get(_KEY)
    except Exception as exc:
        raise MalformedMedia(f"unreadable PDF Info dictionary: {exc}"[:300], hint=_HINT) from None
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedMedia(f"the PDF's {_KEY} entry is not a string", hint=_HINT)
    if len(value) > _MAX_VALUE:
        raise MalformedMedia(f"the PDF's {_KEY} entry is over {_MAX_VALUE} characters", hint=_HINT)
    return str(value)


def write_pdf_aigc(data: bytes, value: str) -> bytes:
    """``data`` with ``/AIGC`` set to ``value`` in an incremental update (original bytes kept)."""
    if len(value) > _MAX_VALUE:
        raise MalformedMedia(f"the AIGC label is over {_MAX_VALUE} characters")
    if not data.rstrip().endswith(b"%%EOF"):
        raise MalformedMedia("the PDF is truncated (it does not end with %%EOF)", hint=_HINT)
    if read_pdf_aigc(data) == value:  # also refuses what cannot be read, before writing anything
        return data
    pypdf = _pypdf()
    try:
        writer = pypdf.PdfWriter(io.BytesIO(data), incremental=True)
        writer.add_metadata({_KEY: value})
        out = io.BytesIO()
        writer.write(out)
    except Exception as exc:
        raise MalformedMedia(f"cannot update this PDF: {exc.__class__.__name__}: {exc}"[:300], hint=_HINT) from None
    result = out.getvalue()
    if not result.startswith(data):
        raise MalformedMedia("the PDF update did not keep the original bytes", hint=_HINT)
    return result
