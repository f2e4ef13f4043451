"""Canonical JSON (RFC 8785, JCS) for everything detente signs.

Uses Trail of Bits' ``rfc8785`` package: a small, dependency-free, well-tested implementation of
the RFC (number serialisation per ECMAScript, UTF-16 key ordering), so detente does not carry its
own copy of those rules.
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

from detente.errors import MalformedJSON

__all__ = ["canonical_json", "parse_json"]


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` per RFC 8785. Raises :class:`MalformedJSON` for unrepresentable input."""
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedJSON(f"value cannot be canonicalised as JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise MalformedJSON(f"JSON contains {name}, which is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in pairs:
        if key in out:
            raise MalformedJSON(f"JSON object has a duplicate key {key!r}")
        out[key] = val
    return out


_SAFE_INT = 2**53
_MAX_INT_DIGITS = 309
"""No IEEE-754 double has more integer digits than this; a longer number is refused before Python's
``int`` sees it (which raises a plain ``ValueError`` past 4,300 digits and is slow before that)."""


def _parse_int(text: str) -> int | float:
    # RFC 8785 numbers are IEEE-754 doubles: integers beyond ±2^53 are read as the double they
    # denote, so canonical text stays a fixed point of parse-then-canonicalise.
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise MalformedJSON(f"JSON number with {len(text)} digits is beyond any IEEE-754 double")
    value = int(text)
    return value if -_SAFE_INT < value < _SAFE_INT else _parse_float(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedJSON(f"JSON number {text[:40]!r} is beyond any IEEE-754 double")
    return value


def parse_json(data: bytes | str, *, what: str = "JSON", hint: str | None = None) -> Any:
    """Parse strict JSON: UTF-8, no NaN/Infinity, no duplicate keys. Raises :class:`MalformedJSON`
    (with ``hint``, when the caller knows what the input should look like)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except MalformedJSON:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedJSON(f"{what} is not valid JSON: {exc}", hint=hint) from None
