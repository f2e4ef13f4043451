"""Command-line arguments several commands share: record references, translations, output paths.
Each refuses a bad value with a typed error and a hint before the command does any work."""

from __future__ import annotations

import tempfile
from pathlib import Path

from detente.errors import ConfigError, MalformedError, MalformedRecord

__all__ = [
    "BODY_HINT",
    "check_output_dir",
    "check_output_path",
    "parse_record_ref",
    "parse_translations",
    "write_output",
]

BODY_HINT = """--body takes one JSON object, e.g. --body '{"severity": "high"}'"""


def parse_record_ref(
    text: str,
    *,
    what: str = "",
    hint: str = "e.g. us.detente.example/log#17",
    error: type[MalformedError] = MalformedRecord,
) -> tuple[str, int]:
    """``ORIGIN#INDEX`` as ``(origin, index)``. The index is ASCII digits only (``str.isdigit`` is
    true for '²', which ``int`` refuses) and at most 20 of them (a 64-bit tree index)."""
    origin, sep, index = text.rpartition("#")
    if not sep or not origin or not (index.isascii() and index.isdigit()) or len(index) > 20:
        raise error(f"{what}{text!r} is not ORIGIN#INDEX", hint=hint)
    return origin, int(index)


def parse_translations(items: list[str]) -> dict[str, str]:
    """``-t LANG=TEXT`` options as ``{LANG: TEXT}``; an item without '=' or without a tag is refused,
    never dropped (the record would be signed without it)."""
    translations: dict[str, str] = {}
    for item in items:
        tag, sep, value = item.partition("=")
        if not sep or not tag:
            raise MalformedRecord(f"translation {item!r} is not LANG=TEXT", hint="e.g. -t zh-Hans=…")
        translations[tag] = value
    return translations


def check_output_path(path: Path, what: str) -> Path:
    """Refuse a file to write whose folder is missing or not writable, before any work is done (a
    signed result that cannot be written is lost). Probed by creating and removing a temporary
    file there: permission bits say nothing for root or for /proc."""
    _probe(path.parent, f"{what} {path}")
    return path


def check_output_dir(folder: Path, what: str) -> Path:
    """Create ``folder`` if it is missing and refuse it unless a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{what} {folder}: cannot create the folder ({exc.strerror or exc})",
            hint="choose a folder you can write to",
        ) from None
    _probe(folder, f"{what} {folder}")
    return folder


def _probe(folder: Path, what: str) -> None:
    if not folder.is_dir():
        raise ConfigError(f"{what}: folder {folder} does not exist", hint=f"create it first: mkdir -p {folder}")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError(
            f"{what}: cannot write in {folder} ({exc.strerror or exc})", hint="choose a folder you can write to"
        ) from None


def write_output(path: Path, data: bytes | str, what: str) -> None:
    """Write an output file, an ``OSError`` (disk full, removed folder) as a typed error."""
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {what} {path}: {exc.strerror or exc}", hint="choose a path you can write to"
        ) from None
