"""The one place the CLI turns errors into text and exit codes.

``detente: error: …`` then ``detente: hint: …`` on stderr, lowercase-first, no traceback.
Exit codes: 1 verification failed, 2 malformed input or usage, 3 configuration or storage,
4 any other detente error, 130 interrupted.
"""

from __future__ import annotations

import json
import sys

from detente.errors import ConfigError, DetenteError, MalformedError, StorageError, VerificationError

__all__ = ["EXIT_CODES", "exit_code", "render_error"]

EXIT_CODES = {
    "verification": 1,
    "malformed": 2,
    "config-or-storage": 3,
    "other": 4,
}


def exit_code(exc: DetenteError) -> int:
    if isinstance(exc, VerificationError):
        return EXIT_CODES["verification"]
    if isinstance(exc, MalformedError):
        return EXIT_CODES["malformed"]
    if isinstance(exc, ConfigError | StorageError):
        return EXIT_CODES["config-or-storage"]
    return EXIT_CODES["other"]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def render_error(exc: DetenteError, *, as_json: bool = False) -> int:
    """Print ``exc`` for a person (or as a JSON problem body) and return the exit code."""
    code = exit_code(exc)
    if as_json:
        print(json.dumps({"error": exc.problem(), "exit_code": code}), file=sys.stderr)
        return code
    print(f"detente: error: {_lower_first(exc.message).rstrip('.')}", file=sys.stderr)
    if exc.hint:
        print(f"detente: hint: {exc.hint.rstrip('.')}", file=sys.stderr)
    return code
