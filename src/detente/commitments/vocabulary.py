"""The controlled vocabulary of commitments: moratorium categories and principle scopes are
glossary term ids, named in both languages by the glossary entries; a notice's free-text category
that comes close to a halted term without being it is flagged for review. Pure."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["CLOSE", "LONG", "TERM_ID", "is_relabelling", "matches", "normalise"]

TERM_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
"""A glossary term id (as ``GlossaryDefinition.term_id``)."""

CLOSE = 0.8
"""How similar (difflib's ratio, on normalised text) a category must be to a term or one of its
labels to be held for review."""

LONG = 10
"""The shortest name (normalised) that similarity is judged on: short ids such as ``x-test`` and
``y-test`` differ in one letter and still name different things."""

_SEPARATORS = re.compile(r"[^\w]+|_+", re.UNICODE)


def normalise(text: str) -> str:
    """NFKC, case-folded, every run of punctuation or space one ``-``: ``Autonomous Targeting
    (live test)`` → ``autonomous-targeting-live-test``; Chinese text keeps its characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SEPARATORS.sub("-", folded).strip("-")


def matches(category: str, term_id: str, labels: Iterable[str]) -> bool:
    """Whether ``category`` names the term: its id, or one of its labels in any language."""
    given = normalise(category)
    return given == term_id or any(given == normalise(label) for label in labels if label)


def is_relabelling(category: str, term_id: str, labels: Iterable[str]) -> bool:
    """Whether ``category``, not the term itself, comes close to it: similar to its id or a label
    (``autonomous-targetting-live-test``), or using every word of a term of several words in
    another order or among others (``live-test-of-autonomous-targeting``)."""
    given = normalise(category)
    if not given or matches(category, term_id, labels):
        return False
    names = [term_id, *(normalise(label) for label in labels if label)]
    for name in names:
        if min(len(given), len(name)) >= LONG and difflib.SequenceMatcher(None, given, name).ratio() >= CLOSE:
            return True
    words = set(given.split("-"))
    return any(len(name.split("-")) >= 2 and set(name.split("-")) <= words for name in names)
