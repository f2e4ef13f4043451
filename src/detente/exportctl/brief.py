"""One line per classification answer, for summaries such as the demo's: the regime's verdict
(entries, or "no clause matched" with any is-informed letter that still requires a licence) and
how many unverified facts the answer relies on. Works on the JSON answer (``as_dict``, as the API
returns it), so a caller needs only the HTTP answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["one_line"]


def one_line(answer: Mapping[str, Any], regime: str) -> str:
    """``regime``'s verdict in ``answer`` and, when the answer relies on unverified facts, their
    count. Raises ``KeyError`` when the answer has no such regime."""
    found = [r for r in answer.get("regimes", ()) if r.get("regime") == regime]
    if not found:
        raise KeyError(regime)
    line = str(found[0]["verdict"])
    unverified = len(answer.get("unverified") or ())
    if unverified:
        line += f" — relies on {unverified} unverified fact(s)"
    return line
