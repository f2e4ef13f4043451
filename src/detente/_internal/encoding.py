"""Strict decoders that raise detente's typed errors instead of ``binascii.Error``."""

from __future__ import annotations

import base64
import binascii
import re

from detente.errors import MalformedError

_STD = re.compile(rb"\A[A-Za-z0-9+/]*={0,2}\Z")
_URL = re.compile(rb"\A[A-Za-z0-9_-]*={0,2}\Z")


def b64decode(
    data: str | bytes,
    *,
    error: type[MalformedError] = MalformedError,
    what: str = "value",
    urlsafe_ok: bool = False,
) -> bytes:
    """Decode padded standard base64, strictly; with ``urlsafe_ok`` also URL-safe and unpadded.

    Rejects whitespace, wrong padding and non-alphabet bytes, raising ``error``.
    """
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    if _STD.match(raw) and len(raw) % 4 == 0:
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            pass
    if urlsafe_ok:
        # DSSE: "either standard or URL-safe base64", padded or not, whatever characters it holds.
        stripped = raw.rstrip(b"=")
        if (_URL.match(stripped) or _STD.match(stripped)) and len(stripped) % 4 != 1:
            try:
                return base64.urlsafe_b64decode(
                    stripped.replace(b"+", b"-").replace(b"/", b"_") + b"=" * (-len(stripped) % 4)
                )
            except (binascii.Error, ValueError):
                pass
    raise error(f"{what} is not valid base64")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash32(data: str | bytes, *, error: type[MalformedError], what: str = "hash") -> bytes:
    """Decode a 32-byte hash given in base64 or 64 hex digits."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    text = text.strip()
    if len(text) == 64 and re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    raw = b64decode(text, error=error, what=what)
    if len(raw) != 32:
        raise error(f"{what} must be 32 bytes, got {len(raw)}")
    return raw
