"""Export controls across two real nodes: trusted suppliers, a mutual-recognition arrangement
co-signed by both (a wrong digest refused), "recognized by whom, since when, under which
arrangement" at both ends, delisting, and an inadvertent-violation disclosure whose full
narrative is given in time once and missed once."""

from __future__ import annotations

from datetime import UTC, datetime


def bilingual(en: str, zh: str) -> dict:  # type: ignore[type-arg]
    return {"original": {"lang": "en", "text": en}, "translations": {"zh": zh}}


def test_suppliers_recognition_and_disclosures_between_two_nodes(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    short = {"follow_up_within": {"detente.dev/hotline-message/v1#inadvertent-export-control-violation": 4}}
    for n in (us, cn):
        n.use_agreement(short)
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    today = datetime.now(UTC).date().isoformat()

    supplier = {
        "supplier_id": "acme-fab",
        "name": "ACME Foundry Ltd.",
        "country": "US",
        "items": ["3A090.a"],
        "effective": "2026-01-01",
        "basis": "audited end-use controls",
    }
    assert us.api("POST", "/api/v1/exportctl/suppliers", json=supplier).status_code == 201
    cn_supplier = {**supplier, "supplier_id": "hx-semi", "name": "华芯半导体", "country": "CN"}
    assert cn.api("POST", "/api/v1/exportctl/suppliers", json=cn_supplier).status_code == 201
    bad = us.api("POST", "/api/v1/exportctl/suppliers", json={**supplier, "country": "usa"})
    assert bad.status_code == 422

    arrangement = {
        "arrangement_id": "mra-accelerators",
        "parties": [us.origin, cn.origin],
        "recognizes": {us.origin: [cn.origin], cn.origin: [us.origin]},
        "scope": bilingual("Trusted suppliers of 3A090 items", "3A090 物项的可信供应商"),
        "items": ["3A090.a", "3A090.b"],
        "effective": "2026-06-01",
    }
    proposed = us.api("POST", "/api/v1/exportctl/recognitions", json=arrangement)
    assert proposed.status_code == 201, proposed.text
    digest = proposed.json()["digest"]
    wrong = {"arrangement_id": "mra-accelerators", "version": 1, "digest": "0" * 64}
    wait("the proposal at cn", lambda: cn.api("GET", "/api/v1/exportctl/recognitions").json() != [])
    refused = cn.api("POST", "/api/v1/exportctl/recognitions/sign", json=wrong)
    assert refused.status_code == 422 and digest in refused.json()["detail"]
    # not yet co-signed: nobody recognizes anybody
    assert all(not r["recognized_by"] for r in cn.api("GET", "/api/v1/exportctl/recognized").json())
    signed = cn.api("POST", "/api/v1/exportctl/recognitions/sign", json={**wrong, "digest": digest})
    assert signed.status_code == 201, signed.text

    def recognized(node, supplier_id: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
        rows = node.api("GET", "/api/v1/exportctl/recognized", params={"supplier_id": supplier_id}).json()
        return rows[0]["recognized_by"] if rows else []

    wait("the arrangement in force at us", lambda: recognized(us, "acme-fab") != [])
    by = recognized(us, "acme-fab")
    assert by == [{"party": cn.origin, "since": today, "arrangement": "mra-accelerators v1", "digest": digest}]
    assert [r["party"] for r in recognized(cn, "hx-semi")] == [us.origin]
    # before the arrangement took effect, nobody recognized it
    early = us.api("GET", "/api/v1/exportctl/recognized", params={"supplier_id": "acme-fab", "on": "2026-05-01"})
    assert early.json()[0]["recognized_by"] == []
    # delisting ends recognition
    assert us.api("POST", "/api/v1/exportctl/suppliers", json={**supplier, "status": "delisted"}).status_code == 201
    wait(
        "acme delisted at cn",
        lambda: (
            recognized(cn, "acme-fab") == []
            and not cn.api("GET", "/api/v1/exportctl/recognized", params={"supplier_id": "acme-fab"}).json()
        ),
    )

    # --- an inadvertent violation: hotline notice, then the narrative -------------------------
    notice = us.api(
        "POST",
        "/api/v1/exportctl/disclosures",
        json={
            "to": [cn.origin],
            "text": bilingual("Two accelerator boards shipped without a licence", "两块加速卡未经许可出口"),
        },
    )
    assert notice.status_code == 201, notice.text
    first = notice.json()["index"]
    narrative = {
        "index": first,
        "narrative": {
            "discovered_at": datetime.now(UTC).isoformat(),
            "items": ["4A090.a"],
            "account": bilingual("A reseller re-exported two boards.", "一家经销商转出口了两块板卡。"),
            "corrective_actions": bilingual("Shipment recalled; reseller suspended.", "货物已召回；经销商已暂停。"),
        },
    }
    assert us.api("POST", "/api/v1/exportctl/disclosures/narrative", json=narrative).status_code == 201
    second = us.api(
        "POST", "/api/v1/exportctl/disclosures", json={"to": [cn.origin], "text": bilingual("Another", "另一起")}
    ).json()["index"]
    wrong_ref = us.api("POST", "/api/v1/exportctl/disclosures/narrative", json={**narrative, "index": 0})
    assert wrong_ref.status_code == 404

    def at(node, index: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
        return next((d for d in node.api("GET", "/api/v1/exportctl/disclosures").json() if d["index"] == index), {})

    wait("the narrative at cn", lambda: (at(cn, first).get("narrative") or {}).get("index") is not None)
    assert at(cn, first)["narrative_missed"] is False
    assert at(cn, first)["states"][cn.origin] in ("received", "answered")
    wait("the second narrative missed", lambda: at(us, second).get("narrative_missed") is True, timeout=30)
    assert at(us, second)["narrative"] is None

    def miss_logged(node) -> bool:  # type: ignore[no-untyped-def]
        return any(
            r["record"]["type"] == "detente.dev/deadline-missed/v1"
            and r["record"]["body"]["deadline"] == "follow-up"
            and r["record"]["body"]["party"] == us.origin
            for r in node.api("GET", "/api/v1/records", params={"limit": 1000}).json()
        )

    wait("the missed narrative recorded by cn", lambda: miss_logged(cn), timeout=30)


def test_classification_and_a_published_rule_pack_between_two_nodes(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()

    # a catalogue chip, as of two dates: the A800 escaped the 2022 rule and was caught in Nov 2023
    def entries(node, body: dict) -> list[str]:  # type: ignore[no-untyped-def,type-arg]
        resp = node.api("POST", "/api/v1/exportctl/classify", json=body)
        assert resp.status_code == 200, resp.text
        return [e for found in resp.json()["entries"].values() for e in found]

    assert not any(
        e.startswith("3A090.a")
        for e in entries(us, {"name": "A800 80GB", "as_of": "2023-06-01", "regimes": ["us-ear"]})
    )
    assert any(
        e.startswith("3A090.a")
        for e in entries(us, {"name": "A800 80GB", "as_of": "2024-01-01", "regimes": ["us-ear"]})
    )
    # figures instead of a name: TPP 4800 exactly, not for datacenters, is controlled; 4799 is not
    chip = {"dense": ["600@8"], "die_area_mm2": 800, "datacenter": False}
    assert any(e.startswith("3A090.a") for e in entries(us, {"item": chip, "regimes": ["us-ear"]}))
    below = {**chip, "dense": ["599.875@8"]}
    assert not any(e.startswith("3A090") for e in entries(us, {"item": below, "regimes": ["us-ear"]}))
    bad = us.api("POST", "/api/v1/exportctl/classify", json={"item": {"dense": ["100@0"]}})
    assert bad.status_code == 422 and bad.json()["hint"]
    assert us.api("POST", "/api/v1/exportctl/classify", json={"name": "no such chip"}).status_code == 422

    # cn publishes its own pack version: us shows it as cn's and keeps classifying with its own
    # (a peer's pack never governs this party's decisions); asked to classify as cn would, it uses it
    pack = next(p for p in cn.api("GET", "/api/v1/exportctl/packs").json() if p["regime"] == "cn-ecl" and p["in_use"])
    pack = {k: v for k, v in pack.items() if k not in ("from", "digest", "party", "in_use")}
    pack["version"] = pack["version"] + "-cn-published"
    published = cn.api("POST", "/api/v1/exportctl/packs", json=pack)
    assert published.status_code == 201, published.text
    at_cn = f"{cn.origin}#{published.json()['index']}"

    def listed_at_us() -> list[dict]:  # type: ignore[type-arg]
        return [p for p in us.api("GET", "/api/v1/exportctl/packs").json() if p["from"] == at_cn]

    wait("cn's pack listed at us", lambda: bool(listed_at_us()))
    assert listed_at_us()[0]["in_use"] is False and listed_at_us()[0]["party"] == cn.origin
    used = us.api("POST", "/api/v1/exportctl/classify", json={"name": "NVIDIA H20"}).json()["packs"]
    assert {p["regime"]: p["from"] for p in used}["cn-ecl"] == "built-in"
    as_cn = us.api("POST", "/api/v1/exportctl/classify", json={"name": "NVIDIA H20", "as_party": "cn"}).json()
    assert {p["regime"]: p["from"] for p in as_cn["packs"]}["cn-ecl"] == at_cn and as_cn["as_party"] == cn.origin
    assert cn.api("GET", "/api/v1/exportctl/packs").json()[-1]["in_use"] is True  # cn's own pack governs cn
    assert cn.api("POST", "/api/v1/exportctl/packs", json={**pack, "clauses": []}).status_code == 422
