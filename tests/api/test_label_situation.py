"""``POST /api/v1/labels/check?situation=...`` (issue #23): the node judges China's explicit-label
duty in the declared situation, as ``detente label check --situation`` does locally; ``unknown``
(the default) leaves it not judged; an undeclared value is refused (422, with the values in the hint)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

UNLABELED = "今天的天气很好，适合出门散步。".encode()
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def _cn_verdict(answer: dict) -> str:  # type: ignore[type-arg]
    return str(next(r for r in answer["regimes"] if r["regime"] == "cn-aigc")["verdict"])


def test_the_node_judges_the_explicit_label_in_the_declared_situation(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    verdicts = {}
    for situation in ("dialogue", "outside-17-1", "unknown", None):
        params = {} if situation is None else {"situation": situation}
        answer = client.post("/api/v1/labels/check", content=UNLABELED, headers=TEXT, params=params)
        assert answer.status_code == 200, answer.text
        assert answer.json()["explicit_duty"]["situation"] == (situation or "unknown")
        verdicts[situation] = _cn_verdict(answer.json())
    assert verdicts == {
        "dialogue": "fail",
        "outside-17-1": "not-applicable",
        "unknown": "not-judged",
        None: "not-judged",
    }

    refused = client.post("/api/v1/labels/check", content=UNLABELED, headers=TEXT, params={"situation": "chat"})
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert "no situation 'chat'" in refused.json()["detail"] and "dialogue" in refused.json()["hint"]
