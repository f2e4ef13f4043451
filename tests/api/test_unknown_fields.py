"""A JSON body with a field its route does not take is refused (422 naming the field) before
anything is signed, never dropped: a disclosure sent with ``"tlp": "TLP:RED"`` was signed
TLP:CLEAR, a token asked for with ``"ttl"`` was issued without an expiry."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.testclient import TestClient

from detente.api.body import RequestIn

TEXT = {"original": {"lang": "en", "text": "chips shipped to an unlisted end user"}}


def _refused(answer: object, field: str) -> None:
    assert answer.status_code == 422, answer.text  # type: ignore[attr-defined]
    problem = answer.json()  # type: ignore[attr-defined]
    assert problem["code"] == "invalid-request"
    assert field in problem["detail"] and "hint" in problem


def test_disclosure_with_a_tlp_is_refused_not_signed_in_the_clear(pinned: TestClient) -> None:
    answer = pinned.post("/api/v1/exportctl/disclosures", json={"to": ["cn"], "text": TEXT, "tlp": "TLP:RED"})
    _refused(answer, "tlp")
    assert pinned.get("/healthz").json()["size"] == 0  # nothing signed


def test_misspelt_fields_are_refused(pinned: TestClient) -> None:
    _refused(pinned.post("/api/v1/tokens", json={"role": "viewer", "ttl": 3600}), "ttl")
    own = "us.detente.example/log"
    _refused(pinned.post(f"/api/v1/threads/{own}/0/ack", json={"anwser": "yes"}), "anwser")
    assert pinned.get("/healthz").json()["size"] == 0


def test_every_body_model_of_the_api_refuses_unknown_fields(client: TestClient) -> None:
    """Each route's JSON body model written in detente.api is a RequestIn (extra fields forbidden)."""
    checked = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        for param in getattr(getattr(route, "dependant", None), "body_params", ()):
            model = param.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__.startswith("detente.api"):
                assert model.model_config.get("extra") == "forbid", f"{route.path}: {model.__name__}"
                checked.append(model)
    assert RequestIn in {base for m in checked for base in m.__mro__} and len(checked) >= 20, checked
