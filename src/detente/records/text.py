"""Bilingual text: an authoritative original plus optional translations (English and Chinese
first). The original is what was signed as authoritative; translations are courtesy copies and
say so."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

__all__ = ["BilingualText", "LangTag", "LangText", "VisibleText", "is_blank"]

_LANG = re.compile(r"\A[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}  # controls, format characters (zero-width ones), spaces
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}  # Hangul fillers, the blank braille pattern


def _check_lang(value: str) -> str:
    if not _LANG.match(value):
        raise ValueError(f"{value!r} is not a BCP 47 language tag such as 'en' or 'zh-Hans'")
    return value


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only white space, invisible format characters (a zero-width
    space, a direction mark) and blank fillers."""
    return all(ch.isspace() or ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE for ch in text)


def _check_visible(value: str) -> str:
    if is_blank(value):
        raise ValueError("the text is blank (only spaces or invisible characters): say something")
    return value


LangTag = Annotated[str, AfterValidator(_check_lang)]
"""A BCP 47 language tag such as ``en`` or ``zh-Hans``."""
VisibleText = Annotated[str, AfterValidator(_check_visible)]
"""A text that shows something: not empty once white space and invisible characters are left out."""


class LangText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: str = Field(description="BCP 47 language tag, e.g. 'en', 'zh-Hans'")
    text: str = Field(min_length=1)

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str) -> str:
        return _check_lang(value)


class BilingualText(BaseModel):
    """``original`` is authoritative; ``translations`` maps a language tag to a translation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    original: LangText
    translations: dict[str, str] = Field(default_factory=dict)

    @field_validator("translations")
    @classmethod
    def _translations(cls, value: dict[str, str]) -> dict[str, str]:
        for lang, text in value.items():
            _check_lang(lang)
            if not text:
                raise ValueError(f"translation {lang!r} is empty")
        return value

    def blank(self) -> list[str]:
        """Which versions show nothing (:func:`is_blank`): ``original`` and translations' tags.
        Checked before signing (the writer), not here: a peer's record carrying one still parses."""
        return (["original"] if is_blank(self.original.text) else []) + [
            lang for lang, text in self.translations.items() if is_blank(text)
        ]

    def in_lang(self, lang: str) -> tuple[str, bool]:
        """The text in ``lang`` (falling back to the original) and whether it is authoritative."""
        if lang == self.original.lang or lang.split("-")[0] == self.original.lang.split("-")[0]:
            return self.original.text, True
        for tag, text in self.translations.items():
            if tag == lang or tag.split("-")[0] == lang.split("-")[0]:
                return text, False
        return self.original.text, True
