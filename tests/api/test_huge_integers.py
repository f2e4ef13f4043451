"""An index, offset or version past the store's 64-bit integers, in a path, a query or a body, is
refused 422 naming the parameter (it reached SQLite and came back 500 internal-error)."""

from __future__ import annotations

from starlette.testclient import TestClient

US = "us.detente.example/log"
BIG = 10**21
TEXT = {"original": {"lang": "en", "text": "x"}}

CASES: list[tuple[str, str, object, object, str]] = [  # method, path, body, query, the parameter named
    ("POST", f"/api/v1/threads/{US}/{BIG}/ack", {}, None, "index"),
    ("GET", f"/api/v1/records/{US}/{BIG}/open", None, None, "index"),
    ("GET", f"/api/v1/records/{US}/{BIG}/disclosure", None, None, "index"),
    ("GET", "/api/v1/records", None, {"start": BIG}, "start"),
    ("GET", "/api/v1/inbox", None, {"offset": BIG}, "offset"),
    ("GET", "/api/v1/exportctl/disclosures", None, {"offset": BIG}, "offset"),
    ("POST", "/api/v1/exportctl/disclosures/narrative", {"index": BIG, "narrative": {}}, None, "index"),
    ("POST", "/api/v1/exportctl/recognitions/sign", {"arrangement_id": "a", "version": BIG}, None, "version"),
    ("GET", "/api/v1/evals/result", None, {"origin": US, "index": BIG}, "index"),
    ("GET", "/api/v1/evals/compare", None, {"a_origin": US, "a_index": BIG, "b_origin": US, "b_index": 0}, "a_index"),
    ("POST", "/api/v1/evals/recheck", {"origin": US, "index": BIG}, None, "index"),
    ("POST", "/api/v1/evals/run", {"suite": "s", "model": "vader", "preregistration": BIG}, None, "preregistration"),
    ("POST", "/api/v1/incident/links/confirm", {"origin": US, "index": BIG, "verdict": "confirm"}, None, "index"),
    ("POST", "/api/v1/takedowns/response", {"origin": US, "index": BIG, "response": {}}, None, "index"),
    ("POST", "/api/v1/commitments/sign", {"document_id": "d", "version": BIG, "digest": "0"}, None, "version"),
    ("POST", "/api/v1/commitments/withdraw", {"document_id": "d", "version": BIG, "reason": TEXT}, None, "version"),
    ("GET", "/api/v1/commitments/diff", None, {"document_id": "d", "old": BIG, "new": 1}, "old"),
]


def test_an_integer_past_64_bits_is_refused_422(pinned: TestClient) -> None:
    wrong = []
    for method, path, body, query, name in CASES:
        answer = pinned.request(method, path, json=body, params=query)  # type: ignore[arg-type]
        problem = answer.json()
        if answer.status_code != 422 or problem["code"] != "invalid-request" or name not in problem["detail"]:
            wrong.append((method, path, answer.status_code, problem.get("detail")))
    assert not wrong, (len(wrong), wrong)
    assert pinned.get("/healthz").json()["size"] == 0
