"""Whether a text's script agrees with its language tag: Han text marked ``en``, or Latin text
marked ``zh``, is a mistake to refuse before it is signed (a signed record cannot be taken back,
and the other side reads the tag to know which version is authoritative).

Only what is certain is refused: a ``zh`` text with no Han character at all, and a text in a
Latin-script language (``en``, ``fr`` …) whose letters are mostly Han. A Chinese text quoting a
code (``AMBER-7``) or an English one quoting a Chinese name passes. Pure: no I/O.
"""

from __future__ import annotations

from detente.errors import LanguageMismatch
from detente.records.text import BilingualText

__all__ = ["check_scripts", "script_mismatches"]

_LATIN_LANGS = frozenset(
    {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "fi", "pl", "cs", "id", "ms", "vi", "tr"}
)
_HAN_LANGS = frozenset({"zh", "yue", "cmn", "wuu", "lzh"})


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK Unified Ideographs
        or 0x3400 <= code <= 0x4DBF  # Extension A
        or 0xF900 <= code <= 0xFAFF  # Compatibility Ideographs
        or 0x20000 <= code <= 0x3134F  # Extensions B–G
    )


def _is_latin(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or ("\u00c0" <= ch <= "\u024f" and ch.isalpha())


def _mismatch(lang: str, text: str) -> str | None:
    """Why ``text`` is not in ``lang``'s script, or ``None`` when it may well be."""
    primary = lang.split("-")[0].lower()
    han = sum(1 for ch in text if _is_han(ch))
    latin = sum(1 for ch in text if _is_latin(ch))
    if primary in _HAN_LANGS and han == 0 and latin > 0:
        return f"marked {lang} but written in Latin script, with no Han character"
    if primary in _LATIN_LANGS and han > latin:
        return f"marked {lang} but written mostly in Han script ({han} Han characters, {latin} Latin letters)"
    return None


def script_mismatches(text: BilingualText) -> list[str]:
    """Each version of ``text`` whose script contradicts its language tag, said in words."""
    out = []
    if (why := _mismatch(text.original.lang, text.original.text)) is not None:
        out.append(f"the original is {why}")
    for lang, translation in text.translations.items():
        if (why := _mismatch(lang, translation)) is not None:
            out.append(f"the {lang} translation is {why}")
    return out


def check_scripts(text: BilingualText | None, *, lang_option: str, force_option: str) -> None:
    """Raise :class:`~detente.errors.LanguageMismatch` when a version's script contradicts its
    tag; the hint names the surface's own option for the tag and for forcing it through."""
    if text is None:
        return
    problems = script_mismatches(text)
    if problems:
        raise LanguageMismatch(
            "; ".join(problems) + " (nothing was signed)",
            hint=f"set the right language with {lang_option} (e.g. zh-Hans for Chinese, en for English), "
            f"or, if the tag is right, repeat with {force_option}",
        )
