"""``detente catalogue [TYPE]``: every record type and its fields, generated from the catalogue's
JSON Schemas, so the listing cannot drift from what the node checks."""

from __future__ import annotations

import json

import pytest

from detente.cli.app import main
from detente.records.catalogue import CATALOGUE, FREE_FORM, json_schemas


def test_every_type_and_every_field_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue"]) == 0
    out = capsys.readouterr().out
    for record_type, schema in json_schemas().items():
        assert f"\n{record_type}" in "\n" + out, record_type
        for field in schema.get("properties", {}):
            assert f"  {field} (" in out, (record_type, field)
    for record_type in FREE_FORM:
        assert f"{record_type} — free-form" in out
    assert len(CATALOGUE) >= 40


def test_one_type_by_short_name_with_meaning_and_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "hotline-message"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("detente.dev/hotline-message/v1\n")
    assert '  priority (required) — one of flash, immediate, priority, routine; e.g. "flash"' in out
    assert "  code (optional) — pre-agreed short message: code word and number (1976 protocol)" in out
    assert 'e.g. "AMBER-7"' in out
    assert "each owes a human acknowledgement" in out
    assert main(["catalogue", "pre-test-notification", "--json"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == {"detente.dev/pre-test-notification/v1": json_schemas()["detente.dev/pre-test-notification/v1"]}


def test_a_misspelt_type_is_an_error_with_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "hotline-mesage"]) == 2
    err = capsys.readouterr().err
    assert "detente: error: detente.dev/hotline-mesage/v1 is not a record type" in err
    assert "detente: hint: did you mean detente.dev/hotline-message/v1?" in err
