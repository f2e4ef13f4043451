"""What a body's fields mean and what a valid value looks like, read from the catalogue's JSON
Schemas: every schema error of a body at once, each with the field's meaning and an example, and
the field tables ``detente catalogue`` prints. Pure: no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

__all__ = ["FieldInfo", "describe_body_errors", "example_of", "field_at", "fields_of"]

_EXAMPLE_BY_FORMAT = {
    "date-time": "2026-12-01T09:00:00Z",
    "date": "2026-12-01",
    "uri": "https://example.org/",
    "email": "duty-officer@example.org",
}
_TEXT_EXAMPLE = {"original": {"lang": "en", "text": "…"}, "translations": {"zh-Hans": "…"}}


@dataclass(frozen=True)
class FieldInfo:
    """One field of a body: its dotted path, whether it is required, its meaning and an example."""

    path: str
    required: bool
    meaning: str
    example: str


def _deref(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and unwrap an ``anyOf`` with ``null`` (an optional field)."""
    for _ in range(8):
        if "$ref" in node:
            node = {**schema.get("$defs", {}).get(node["$ref"].rsplit("/", 1)[-1], {}), **_keep(node)}
        elif "anyOf" in node or "oneOf" in node:
            options = [o for o in node.get("anyOf", node.get("oneOf", [])) if o.get("type") != "null"]
            if len(options) != 1:
                return node
            node = {**options[0], **_keep(node)}
        else:
            return node
    return node


def _keep(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k in ("description", "title", "default", "examples")}


def field_at(schema: dict[str, Any], loc: tuple[int | str, ...]) -> dict[str, Any] | None:
    """The schema of the field at a pydantic error location (``None`` when it has none)."""
    node = _deref(schema, schema)
    for part in loc:
        if isinstance(part, int):
            items = node.get("items") or node.get("prefixItems")
            if isinstance(items, list):
                items = items[part] if part < len(items) else None
            if not isinstance(items, dict):
                return None
            node = _deref(schema, items)
        elif part in node.get("properties", {}):
            node = _deref(schema, node["properties"][part])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _deref(schema, node["additionalProperties"])
        else:
            return None
    return node


def example_of(schema: dict[str, Any], node: dict[str, Any], depth: int = 0) -> Any:
    """A value that fits ``node`` (its own example, an enumeration's first value, a sample by type)."""
    node = _deref(schema, node)
    if node.get("examples"):
        return node["examples"][0]
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    if node.get("title") == "BilingualText":
        return _TEXT_EXAMPLE
    kind = node.get("type")
    if kind == "string":
        return _EXAMPLE_BY_FORMAT.get(node.get("format", ""), "…")
    if kind == "integer":
        return max(int(node.get("minimum", 1)), int(node.get("exclusiveMinimum", 0)) + 1)
    if kind == "number":
        return node.get("minimum", 0.5)
    if kind == "boolean":
        return True
    if kind == "array":
        items = node.get("items")
        return [example_of(schema, items, depth + 1)] if isinstance(items, dict) and depth < 3 else []
    if kind == "object" or "properties" in node:
        required = node.get("required", [])
        if depth >= 3:
            return {}
        return {k: example_of(schema, node["properties"][k], depth + 1) for k in required}
    return "…"


def _meaning(node: dict[str, Any]) -> str:
    title = str(node.get("title") or "")
    title = title if " " in title else ""  # a one-word title is the field's or the class's name: nothing new
    text = " ".join(str(node.get("description") or title).split()).replace("``", "").rstrip(".")
    if node.get("enum"):
        text = (text + "; " if text else "") + "one of " + ", ".join(str(v) for v in node["enum"])
    if node.get("pattern"):
        text = (text + "; " if text else "") + f"matching {node['pattern']}"
    return text


def _example_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def fields_of(schema: dict[str, Any]) -> list[FieldInfo]:
    """The top-level fields of a body schema, required ones first, in schema order."""
    top = _deref(schema, schema)
    required = set(top.get("required", []))
    out = []
    for name, raw in top.get("properties", {}).items():
        node = _deref(schema, raw)
        out.append(FieldInfo(name, name in required, _meaning(node), _example_text(example_of(schema, node))))
    return sorted(out, key=lambda f: not f.required)


def describe_body_errors(exc: ValidationError, what: str, schema: dict[str, Any]) -> str:
    """Every error of a body, one line each: the field, what is wrong, what the field means and
    an example of a valid value."""
    errors = exc.errors()
    lines = [f"invalid {what} body ({len(errors)} error{'s' if len(errors) != 1 else ''}):"]
    for err in errors:
        loc = tuple(p for p in err["loc"] if isinstance(p, int | str))
        path = ".".join(str(p) for p in loc) or "(body)"
        line = f"  {path}: {err['msg']}"
        node = field_at(schema, loc) if loc else None
        parent = field_at(schema, loc[:-1]) if err["type"] == "extra_forbidden" else None
        if parent is not None:
            line += " — the fields here are: " + ", ".join(parent.get("properties", {}))
        elif node is not None:
            meaning = _meaning(node)
            if meaning:
                line += f" — {meaning}"
            if "e.g." not in meaning:
                line += f"; e.g. {_example_text(example_of(schema, node))}"
        lines.append(line)
    return "\n".join(lines)
