"""``detente catalogue [TYPE]``: every record type a node signs and the fields of its body, read
from the catalogue's JSON Schemas (so it cannot drift from what the node checks)."""

from __future__ import annotations

import json

import typer

from detente.records.catalogue import CATALOGUE, FREE_FORM, check_type, json_schemas
from detente.records.fields import fields_of

__all__ = ["catalogue"]


def _full_name(name: str) -> str:
    return name if "/" in name else f"detente.dev/{name}/v1"


def _describe(record_type: str, schema: dict[str, object]) -> list[str]:
    spec = CATALOGUE[record_type]
    doc = str(schema.get("description") or "").strip().splitlines()
    owed = {"ack": "a human acknowledgement", "answer": f"an answer ({spec.answer_type})"}.get(spec.response or "")
    lines = [record_type + (f" — {doc[0]}" if doc else "")]
    if spec.addressed:
        lines.append("  addressed: names its recipients (--to)" + (f"; each owes {owed}" if owed else ""))
    else:
        lines.append("  read by every party (no recipients)")
    for field in fields_of(schema):
        need = "required" if field.required else "optional"
        meaning = f" — {field.meaning}" if field.meaning else ""
        lines.append(f"  {field.path} ({need}){meaning}; e.g. {field.example}")
    return lines


def catalogue(
    record_type: str | None = typer.Argument(None, help="one type, e.g. hotline-message (default: every type)"),
    as_json: bool = typer.Option(False, "--json", help="print the JSON Schema of each body instead"),
) -> None:
    """Print every record type this node signs and the fields of its body (meaning and example)."""
    schemas = json_schemas()
    if record_type is not None:
        record_type = _full_name(record_type)
        check_type(record_type)
        if record_type in FREE_FORM:
            typer.echo(json.dumps({record_type: {}}) if as_json else f"{record_type} — {FREE_FORM[record_type]}")
            return
        schemas = {record_type: schemas[record_type]}
    if as_json:
        typer.echo(json.dumps(schemas, ensure_ascii=False, indent=2))
        return
    blocks = ["\n".join(_describe(t, s)) for t, s in schemas.items()]
    if record_type is None:
        blocks += [f"{t} — free-form: {meaning}" for t, meaning in FREE_FORM.items()]
    typer.echo("\n\n".join(blocks))
