"""Taxonomies as data: namespaced, versioned, with each field's type and permitted values, in the
shape of the AIID's ``taxa`` collection (``field_list`` with ``short_name``, ``display_type`` and
``permitted_values``). The built-in ones live in ``detente/incidents/taxonomies/*.json``; a party
can publish its own. A classification is checked against its taxonomy before it is signed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detente._internal.validation import describe_validation_error
from detente.errors import MalformedRecord

__all__ = ["DisplayType", "Taxonomy", "TaxonomyField", "builtin_taxonomies", "taxonomy_for"]


class DisplayType(StrEnum):
    ENUM = "enum"  # one of permitted_values
    MULTI = "multi"  # a list, each item one of permitted_values
    BOOL = "bool"
    STRING = "string"
    TEXT = "text"
    INT = "int"
    DATE = "date"  # ISO 8601 date or date-time text
    LIST = "list"  # a list of free strings


class TaxonomyField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    short_name: str = Field(min_length=1, max_length=128)
    long_name: str = Field(default="", max_length=256)
    description: str = Field(default="", max_length=4096)
    display_type: DisplayType
    permitted_values: tuple[str, ...] = ()
    required: bool = False


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
    version: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=256)
    description: str = Field(default="", max_length=8192)
    source: str = Field(default="", max_length=1024, description="where the definition comes from")
    licence: str = Field(default="", max_length=128)
    fields: tuple[TaxonomyField, ...] = Field(min_length=1)

    def field(self, short_name: str) -> TaxonomyField | None:
        return _fields(self).get(short_name)

    def check(self, attributes: dict[str, Any]) -> None:
        """Raise :class:`MalformedRecord` naming the first attribute this taxonomy does not allow."""
        where = f"{self.namespace} {self.version}"
        for name, value in attributes.items():
            spec = self.field(name)
            if spec is None:
                raise MalformedRecord(
                    f"{where} has no field {name!r}",
                    hint=f"fields: {', '.join(sorted(_fields(self)))[:400]}",
                )
            problem = _check_value(spec, value)
            if problem:
                allowed = ", ".join(spec.permitted_values[:20])
                raise MalformedRecord(
                    f"{where} field {name!r}: {problem}",
                    hint=f"permitted values: {allowed}" if spec.permitted_values else "see the taxonomy's field types",
                )
        missing = [f.short_name for f in self.fields if f.required and f.short_name not in attributes]
        if missing:
            raise MalformedRecord(f"{where} requires {', '.join(missing)}")


@cache
def _fields(taxonomy: Taxonomy) -> dict[str, TaxonomyField]:
    return {f.short_name: f for f in taxonomy.fields}


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_enum(spec: TaxonomyField, value: Any) -> str | None:
    if not isinstance(value, str) or value not in spec.permitted_values:
        return f"{value!r} is not a permitted value"
    return None


def _check_multi(spec: TaxonomyField, value: Any) -> str | None:
    if not _strings(value):
        return "must be a list of strings"
    bad = [v for v in value if v not in spec.permitted_values]
    return f"{bad[0]!r} is not a permitted value" if bad else None


def _check_bool(spec: TaxonomyField, value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _check_int(spec: TaxonomyField, value: Any) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) else "must be an integer"


def _check_list(spec: TaxonomyField, value: Any) -> str | None:
    return None if _strings(value) else "must be a list of strings"


def _check_text(spec: TaxonomyField, value: Any) -> str | None:  # string, text, date
    if not isinstance(value, str):
        return "must be text"
    return "is over 8,192 characters" if len(value) > 8192 else None


_CHECKS: dict[DisplayType, Callable[[TaxonomyField, Any], str | None]] = {
    DisplayType.ENUM: _check_enum,
    DisplayType.MULTI: _check_multi,
    DisplayType.BOOL: _check_bool,
    DisplayType.INT: _check_int,
    DisplayType.LIST: _check_list,
}


def _check_value(spec: TaxonomyField, value: Any) -> str | None:
    """What is wrong with ``value`` for the field, or None."""
    return _CHECKS.get(spec.display_type, _check_text)(spec, value)


@dataclass(frozen=True)
class _Registry:
    by_key: dict[tuple[str, str], Taxonomy]


@cache
def _registry() -> _Registry:
    out: dict[tuple[str, str], Taxonomy] = {}
    folder = resources.files("detente.incidents") / "taxonomies"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        try:
            taxonomy = Taxonomy.model_validate(json.loads(item.read_text(encoding="utf-8")))
        except ValidationError as exc:  # a packaging bug, not user input: fail loudly
            raise RuntimeError(describe_validation_error(exc, f"taxonomy {item.name}")) from None
        out[(taxonomy.namespace, taxonomy.version)] = taxonomy
    return _Registry(out)


def builtin_taxonomies() -> list[Taxonomy]:
    return list(_registry().by_key.values())


def taxonomy_for(namespace: str, version: str) -> Taxonomy:
    found = _registry().by_key.get((namespace, version))
    if found is None:
        known = ", ".join(f"{n} {v}" for n, v in sorted(_registry().by_key))
        raise MalformedRecord(f"unknown taxonomy {namespace} {version}", hint=f"built-in taxonomies: {known}")
    return found
