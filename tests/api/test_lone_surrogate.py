r"""A lone surrogate (``"\ud800"``: a valid JSON escape that UTF-8 cannot carry) echoed back in a
refusal's detail is written as its escape: the refusal stays a 4xx problem (the problem body
could not be encoded, and the caller got 500 internal-error)."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from detente.api.problems import problem_response

HOTLINE = '"type":"detente.dev/hotline-message/v1","body":{"priority":"flash","topic":"crisis"}'
CASES = [
    ("/api/v1/records", '{"to":["cn\\ud800"],' + HOTLINE + "}"),  # an unknown recipient, named
    ("/api/v1/records", '{"\\ud800":1,' + HOTLINE + "}"),  # an unknown field
    ("/api/v1/exportctl/disclosures", '{"to":["cn\\ud800"],"text":{"original":{"lang":"en","text":"x"}}}'),
    ("/api/v1/incident/links/confirm", '{"origin":"cn\\ud800","index":0,"verdict":"confirm"}'),
    ("/api/v1/watermark/detect", '{"party":"cn\\ud800","key_id":"k","token_ids":[1]}'),
]


def test_a_lone_surrogate_in_a_refusal_stays_a_4xx_problem(pinned: TestClient) -> None:
    wrong = []
    for path, raw in CASES:
        answer = pinned.post(path, content=raw.encode(), headers={"content-type": "application/json"})
        if not 400 <= answer.status_code < 500 or answer.headers["content-type"] != "application/problem+json":
            wrong.append((path, answer.status_code, answer.json()))
    assert not wrong, wrong
    assert pinned.get("/healthz").json()["size"] == 0


def test_the_problem_body_writes_a_lone_surrogate_as_its_escape() -> None:
    body = json.loads(problem_response(422, "malformed", "no peer 'cn\ud800'", "hint \udfff").body)
    assert body["detail"] == "no peer 'cn\\ud800'" and body["hint"] == "hint \\udfff"
