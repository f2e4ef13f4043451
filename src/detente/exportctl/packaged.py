"""The export-control data shipped inside the package (``detente/exportctl/data/*.json``): read and
validated against its model. A file that does not validate is a packaging bug, not user input,
so it fails loudly (``RuntimeError``) rather than as a typed user error."""

from __future__ import annotations

import json
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from detente._internal.validation import describe_validation_error

__all__ = ["load_packaged"]

M = TypeVar("M", bound=BaseModel)


def load_packaged(model: type[M], name: str) -> M:
    """``data/<name>`` validated as ``model``."""
    path = resources.files("detente.exportctl") / "data" / name
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise RuntimeError(describe_validation_error(exc, f"data/{name}")) from None
