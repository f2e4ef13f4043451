"""Synthetic media across two real nodes: a file labeled under both regimes at ``us`` checks as
Trusted and compliant at ``cn`` (through ``us``'s published C2PA root); a takedown request
answered, refused without a reason, and left unanswered past its deadline; a watermark key
shared by ``cn`` detects ``cn``'s watermark at ``us``; a published guideline version governs its
publisher's checks, and the peer's only when asked to check as the publisher would."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

pytest.importorskip("c2pa")

from detente.media.watermark import WatermarkScheme, ZipfDistribution, generate

DATA = Path(__file__).resolve().parent.parent / "data" / "c2pa"


def bilingual(en: str, zh: str) -> dict:  # type: ignore[type-arg]
    return {"original": {"lang": "en", "text": en}, "translations": {"zh": zh}}


def test_labels_takedowns_and_watermarks_between_two_nodes(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    for n in (us, cn):
        n.use_agreement({"response_within": {"detente.dev/takedown-request/v1": 3}})
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()

    # --- labels: us applies both, cn checks ------------------------------------------------
    original = (DATA / "no_manifest.jpg").read_bytes()
    params = {"producer": "001191110102MACQD9K64010000", "produce_id": "us-2026-0001"}
    labeled = us.api("POST", "/api/v1/labels/apply", content=original, params=params)
    assert labeled.status_code == 200, labeled.text
    signed = labeled.content
    assert signed != original
    wait(
        "us's C2PA root at cn",
        lambda: any(a["party"] == us.origin for a in cn.api("GET", "/api/v1/labels/anchors").json()),
    )
    report = cn.api("POST", "/api/v1/labels/check", content=signed, headers={"Content-Type": "image/jpeg"}).json()
    assert report["c2pa"]["state"] == "Trusted", report["c2pa"]
    assert report["c2pa"]["ai_generated"] is True
    assert report["aigc"]["label"]["ContentProducer"] == params["producer"]
    assert {r["regime"]: r["verdict"] for r in report["regimes"]} == {"c2pa": "pass", "cn-aigc": "pass"}
    # the unlabeled original fails both, naming the rules; this check is also recorded in cn's log
    plain = cn.api("POST", "/api/v1/labels/check", content=original, params={"record": "true"}).json()
    logged = cn.api("GET", "/api/v1/records", params={"start": plain["recorded"]["index"], "limit": 1}).json()[0]
    assert logged["record"]["type"] == "detente.dev/label-check/v1"
    assert logged["record"]["body"]["sha256"] == hashlib.sha256(original).hexdigest()
    assert logged["record"]["body"]["verdicts"] == {"c2pa": "fail", "cn-aigc": "fail"}
    verdicts = {r["regime"]: r for r in plain["regimes"]}
    assert verdicts["c2pa"]["failed"] == ["c2pa.manifest-present", "c2pa.valid", "c2pa.ai-source-type"]
    assert verdicts["cn-aigc"]["failed"] == ["cn.implicit-present", "cn.implicit-fields", "cn.label-value"]
    # labeling a file that already carries Content Credentials is refused: it would break them
    again = us.api("POST", "/api/v1/labels/apply", content=signed, params=params)
    assert again.status_code == 400 and "already carries Content Credentials" in again.json()["detail"]
    # a viewer-level check needs a token; garbage is a problem body, not a crash
    assert cn.api("POST", "/api/v1/labels/check", content=b"x", token="nope").status_code == 401
    bad = cn.api("POST", "/api/v1/labels/check", content=b"\x00\x01garbage\xff\xfe")
    assert bad.status_code == 400 and bad.json()["hint"]

    # --- takedowns -----------------------------------------------------------------------------
    request = {
        "content_sha256": hashlib.sha256(original).hexdigest(),
        "url": "https://video.example.cn/v/123",
        "platform": "video.example.cn",
        "category": "deepfake-impersonation",
        "legal_basis": "18 U.S.C. 1028 (impersonation); request under the 2026 takedown arrangement",
        "evidence": plain,
    }
    sent = us.api(
        "POST",
        "/api/v1/takedowns",
        json={"to": cn.origin, "request": request, "text": bilingual("Deepfake of an official", "官员深度伪造视频")},
    )
    assert sent.status_code == 201, sent.text
    index = sent.json()["index"]

    def incoming() -> list[dict]:  # type: ignore[type-arg]
        return [t for t in cn.api("GET", "/api/v1/takedowns").json() if t["index"] == index and t["incoming"]]

    wait("the takedown request at cn", lambda: bool(incoming()))
    refused = cn.api(
        "POST",
        "/api/v1/takedowns/response",
        json={"origin": us.origin, "index": index, "response": {"action": "declined"}},
    )
    assert refused.status_code == 422 and "reason" in refused.text
    answer = {"action": "acted", "measures": ["removed", "uploader-notified"]}
    done = cn.api("POST", "/api/v1/takedowns/response", json={"origin": us.origin, "index": index, "response": answer})
    assert done.status_code == 201, done.text

    def at_us(i: int) -> dict:  # type: ignore[type-arg]
        return next((t for t in us.api("GET", "/api/v1/takedowns").json() if t["index"] == i), {})

    wait("cn's answer at us", lambda: at_us(index).get("states", {}).get(cn.origin) == "answered")
    assert at_us(index)["responses"][0]["measures"] == ["removed", "uploader-notified"]

    # an unanswered request misses its (3-second) deadline, and the protocol records the miss
    second = us.api(
        "POST",
        "/api/v1/takedowns",
        json={
            "to": cn.origin,
            "request": {**request, "url": "https://v.example.cn/2"},
            "text": bilingual("Again", "再次"),
        },
    ).json()["index"]

    def miss_recorded() -> bool:
        thread = us.thread(us.origin, second)
        return any(o["kind"] == "response" and o["missed"] for o in thread.get("obligations", []))

    wait("the missed answer deadline", miss_recorded, timeout=30)
    assert at_us(second)["states"][cn.origin] == "received"  # receipt came, the answer did not
    wait(
        "the miss recorded in us's log",
        lambda: any(
            r["record"]["type"] == "detente.dev/deadline-missed/v1" and r["record"]["body"]["party"] == cn.origin
            for r in us.api("GET", "/api/v1/records", params={"limit": 1000}).json()
        ),
    )

    # --- watermark keys ------------------------------------------------------------------------
    scheme = WatermarkScheme(gamma=0.25, delta=2.0, key="5eed", vocab_size=5000, tokenizer="ids:test-vocab-5000")
    shared = cn.api(
        "POST", "/api/v1/watermark/keys", json={"key_id": "cn-llm-1", "scheme": scheme.model_dump(mode="json")}
    )
    assert shared.status_code == 201, shared.text
    wait(
        "the key at us", lambda: any(k["key_id"] == "cn-llm-1" for k in us.api("GET", "/api/v1/watermark/keys").json())
    )
    base = ZipfDistribution(5000, seed=1)
    marked = generate(scheme, 200, random.Random(1), base_distribution=base)
    unmarked = generate(scheme, 200, random.Random(2), delta=0.0, base_distribution=base)
    probe = {"party": cn.origin, "key_id": "cn-llm-1"}
    hit = us.api("POST", "/api/v1/watermark/detect", json={**probe, "token_ids": marked}).json()
    miss = us.api("POST", "/api/v1/watermark/detect", json={**probe, "token_ids": unmarked}).json()
    assert hit["verdict"] == "watermarked" and hit["z"] > 4, hit
    assert miss["verdict"] == "not-watermarked", miss
    by_name = us.api(
        "POST", "/api/v1/watermark/detect", json={"party": "cn", "key_id": "cn-llm-1", "token_ids": marked}
    )
    assert by_name.status_code == 200 and by_name.json()["z"] == hit["z"] and by_name.json()["party"] == cn.origin
    text_probe = us.api("POST", "/api/v1/watermark/detect", json={**probe, "text": "some text"})
    assert text_probe.status_code >= 400 and "token ids" in text_probe.json()["hint"]

    # --- a new guideline version: it governs its publisher's checks, not the peer's ---------------
    guideline = next(g for g in cn.api("GET", "/api/v1/labels/guidelines").json() if g["regime"] == "cn-aigc")
    guideline = {k: v for k, v in guideline.items() if k not in ("digest", "from", "published_by", "in_use", "note")}
    guideline["version"] = "2026.1"
    guideline["effective"] = "2026-01-01"
    guideline["rules"] = [{**r, "level": "must"} if r["rule_id"] == "cn.propagator" else r for r in guideline["rules"]]
    assert cn.api("POST", "/api/v1/labels/guidelines", json=guideline).status_code == 201

    def cn_regime(node, **params: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
        checked = node.api("POST", "/api/v1/labels/check", content=signed, params=params).json()
        return next(r for r in checked["regimes"] if r["regime"] == "cn-aigc")

    assert cn_regime(cn)["guideline"]["version"] == "2026.1" and cn_regime(cn)["failed"] == ["cn.propagator"]

    def listed_at_us() -> bool:
        return any(g["version"] == "2026.1" for g in us.api("GET", "/api/v1/labels/guidelines").json())

    wait("cn's guideline listed at us", listed_at_us)
    assert cn_regime(us)["guideline"]["version"] == "2025.1" and cn_regime(us)["verdict"] == "pass"
    as_cn = cn_regime(us, as_party=cn.origin)
    assert as_cn["guideline"]["version"] == "2026.1" and as_cn["failed"] == ["cn.propagator"]
