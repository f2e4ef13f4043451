"""``GET /api/v1/incidents/stix?profile=interop``: the export as OASIS's validator ``--interop``
profile wants it (without the TLP 2.0 marking-definition objects), beside the default ``strict``
bundle, from a node in process; ``profile`` takes those two values only."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "incidents" / "report-initial.json"
STRICT = {"strict": True, "strict_types": True, "strict_properties": True, "enforce_refs": True}


def problems(bundle: dict[str, Any], **extra: Any) -> list[str]:
    result = validate_instance(copy.deepcopy(bundle), ValidationOptions(**(STRICT | extra)))
    return [str(e) for e in result.errors] + [str(w) for w in result.warnings]


def test_the_interop_profile_is_served_and_passes_the_validator(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()
    filed = client.post("/api/v1/incidents/import", json={"reports": [json.loads(EXAMPLE.read_text())]})
    assert filed.status_code == 200, filed.text[:300]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)  # the validator must not fetch anything
    monkeypatch.setattr("stix2validator.validator.requests.get", refuse)
    answer = client.get("/api/v1/incidents/stix")
    assert answer.status_code == 200, answer.text[:500]
    strict = answer.json()
    answer = client.get("/api/v1/incidents/stix", params={"profile": "interop"})
    assert answer.status_code == 200, answer.text[:500]
    interop = answer.json()
    kinds = {o["type"] for o in strict["objects"]}
    assert {"incident", "marking-definition"} <= kinds
    assert "marking-definition" not in {o["type"] for o in interop["objects"]}
    assert [o for o in strict["objects"] if o["type"] != "marking-definition"] == interop["objects"]
    assert problems(strict) == []
    assert problems(interop, interop=True) == []
    assert problems(strict, interop=True) != []  # the profile is not vacuous: the default bundle fails it
    refused = client.get("/api/v1/incidents/stix", params={"profile": "lax"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid-request"
