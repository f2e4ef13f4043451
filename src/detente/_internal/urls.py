"""The rule a node's base URL follows: a pinned peer's URLs (``detente.node.pins``) and this
node's own ``public_url`` (``detente.node.config``)."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

import httpx

__all__ = ["url_problem"]


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as a node's base URL, or ``None``: it must be an http(s):// URL
    with a host, a port (if given) from 1 to 65535, and no whitespace or control character. The
    rule for a pinned peer's URLs and for this node's own ``public_url``."""
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in url):
        return "contains whitespace or a control character"
    try:
        parts = urlsplit(url)
        port = parts.port  # a ValueError for a port that is not a number up to 65535
        httpx.URL(url)  # what every sync parses it with
    except (ValueError, httpx.InvalidURL) as exc:
        return f"is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s):// URL with a host"
    if port == 0:
        return "has port 0"
    return None
