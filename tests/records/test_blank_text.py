"""A text that shows nothing (only spaces, a zero-width space, a direction mark, a Hangul filler)
is refused wherever a record says something: a bilingual text's original and its translations, a
clarification's question and answer, a glossary term (whose languages are BCP 47 tags)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from detente.commitments.model import GlossaryDefinition
from detente.records.hotline import ClarificationRequest, ClarificationResponse
from detente.records.text import BilingualText, is_blank

BLANKS = ["", "   ", "\u200b", "\u200e\u200f", "\u00a0\u3000", "\t\n", "\u3164", "\ufeff "]
T = {"original": {"lang": "en", "text": "hello"}}


def test_what_counts_as_blank() -> None:
    assert all(is_blank(text) for text in BLANKS)
    assert not any(is_blank(text) for text in ("a", " . ", "\u200b你好", "\u0627\u200f"))


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
@pytest.mark.parametrize(
    ("model", "value"),
    [
        (BilingualText, lambda b: {"original": {"lang": "en", "text": b}}),
        (BilingualText, lambda b: {"original": {"lang": "en", "text": "hi"}, "translations": {"zh": b}}),
        (ClarificationRequest, lambda b: {"question": b}),
        (ClarificationResponse, lambda b: {"answer": b}),
        (GlossaryDefinition, lambda b: {"term_id": "x", "term": {"en": b}, "definition": T}),
    ],
    ids=["original", "translation", "question", "answer", "glossary term"],
)
def test_a_blank_text_is_refused(model: type[BaseModel], value: Any, blank: str) -> None:
    with pytest.raises(ValidationError, match=r"blank|at least 1 character"):
        model.model_validate(value(blank))
    model.model_validate(value(f"{blank}x{blank}"))  # a visible character among them is a text


def test_a_glossary_terms_languages_are_language_tags() -> None:
    with pytest.raises(ValidationError, match="not a BCP 47 language tag"):
        GlossaryDefinition.model_validate({"term_id": "x", "term": {"not a language tag!": "x"}, "definition": T})
    GlossaryDefinition.model_validate({"term_id": "x", "term": {"en": "x", "zh-Hans": "十"}, "definition": T})
