"""Turn a pydantic ValidationError into the one line a person reads."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(exc: ValidationError, what: str) -> str:
    """``invalid <what>: <field path>: <reason>`` for the first error."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or what
    return f"invalid {what}: {loc}: {first['msg']}"
