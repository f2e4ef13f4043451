"""A disclosure notice's own text is checked against its language tag before signing, as on
``/api/v1/records`` (the writer checks the texts inside record bodies; a disclosure's text is the
record's own): Han text tagged ``en`` is refused unless ``force_lang`` says the tag is right."""

from __future__ import annotations

from starlette.testclient import TestClient

HAN_TAGGED_EN = {"original": {"lang": "en", "text": "芯片运往未列明的最终用户"}}


def test_a_disclosure_whose_script_contradicts_its_tag_is_refused_before_signing(pinned: TestClient) -> None:
    size = pinned.get("/api/v1/status").json()["size"]
    answer = pinned.post("/api/v1/exportctl/disclosures", json={"to": ["cn"], "text": HAN_TAGGED_EN})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "language-mismatch" and '"force_lang": true' in answer.json()["hint"]
    assert pinned.get("/api/v1/status").json()["size"] == size  # nothing signed
    forced = pinned.post(
        "/api/v1/exportctl/disclosures", json={"to": ["cn"], "text": HAN_TAGGED_EN, "force_lang": True}
    )
    assert forced.status_code == 201, forced.text
