"""Commitments across two real nodes: co-signing the exact text, a version mismatch refused, a
moratorium breach and a weak human-control mode flagged at both ends, an agreement changing
deadlines from its effective date, versions with a diff, withdrawal, and the glossary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def text(en: str, zh: str) -> dict:  # type: ignore[type-arg]
    return {"original": {"lang": "en", "text": en}, "translations": {"zh": zh}}


def adopt(a, b, wait, document: dict) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """``a`` drafts, ``b`` then ``a`` sign; returns the draft answer once both see it adopted."""
    drafted = a.api("POST", "/api/v1/commitments/draft", json=document)
    assert drafted.status_code == 201, drafted.text
    d = drafted.json()
    sign = {"document_id": d["document_id"], "version": d["version"], "digest": d["digest"]}
    wait("the draft at the other node", lambda: b.api("POST", "/api/v1/commitments/sign", json=sign).status_code == 201)
    assert a.api("POST", "/api/v1/commitments/sign", json=sign).status_code == 201

    def adopted(node) -> bool:  # type: ignore[no-untyped-def]
        versions = node.api("GET", "/api/v1/commitments/document", params={"document_id": d["document_id"]}).json()[
            "versions"
        ]
        return any(v["version"] == d["version"] and v["adopted_at"] for v in versions)

    wait("adopted at both nodes", lambda: adopted(a) and adopted(b))
    return d


def notice(category: str, mode: str) -> dict:  # type: ignore[type-arg]
    start = datetime.now(UTC) + timedelta(days=3)
    return {
        "test_id": "T-9",
        "category": category,
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
        "location": "range 4",
        "human_control_mode": mode,
        "contact": "duty officer",
    }


def test_commitments_between_two_nodes(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    for n in (us, cn):
        n.use_agreement({})
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    parties = [us.origin, cn.origin]

    moratorium = {
        "document_id": "moratorium-autonomous-targeting",
        "version": 1,
        "kind": "moratorium",
        "title": text("Moratorium on autonomous targeting tests", "暂停自主目标选择测试"),
        "parties": parties,
        "clauses": [
            {
                "id": "1",
                "text": text("No live tests of autonomous targeting.", "不进行自主目标选择实弹测试。"),
                "categories": ["autonomous-targeting-live-test"],
            },
        ],
    }
    drafted = us.api("POST", "/api/v1/commitments/draft", json=moratorium).json()
    wrong = {"document_id": drafted["document_id"], "version": 1, "digest": "0" * 64}
    wait(
        "the draft at cn",
        lambda: (
            cn.api("GET", "/api/v1/commitments/document", params={"document_id": drafted["document_id"]}).status_code
            == 200
        ),
    )
    refused = cn.api("POST", "/api/v1/commitments/sign", json=wrong)
    assert (
        refused.status_code == 422
        and "not " + "0" * 64 in refused.json()["detail"]
        and "show" in refused.json()["hint"]
    )
    assert us.api("POST", "/api/v1/commitments/draft", json=moratorium).status_code == 422  # version 1 exists
    sign = {"document_id": drafted["document_id"], "version": 1, "digest": drafted["digest"]}
    assert cn.api("POST", "/api/v1/commitments/sign", json=sign).status_code == 201
    assert us.api("POST", "/api/v1/commitments/sign", json=sign).status_code == 201

    principles = {
        "document_id": "human-control-principles",
        "version": 1,
        "kind": "principles",
        "title": text("Meaningful human control", "有意义的人类控制"),
        "parties": parties,
        "clauses": [
            {
                "id": "HC-1",
                "text": text("A human approves each engagement.", "每次交战须经人批准。"),
                "min_human_control": "in-the-loop",
                "scope": ["weapon-test"],  # only notices in scope are checked against it (#22)
            }
        ],
    }
    adopt(us, cn, wait, principles)

    breach = us.send(
        "detente.dev/pre-test-notification/v1",
        "Live test",
        to=[cn.origin],
        body=notice("autonomous-targeting-live-test", "in-the-loop"),
    )
    weak = us.send(
        "detente.dev/pre-test-notification/v1",
        "Supervised test",
        to=[cn.origin],
        body=notice("weapon-test", "on-the-loop"),
    )
    for node in (us, cn):
        wait(f"the flags at {node.name}", lambda node=node: bool(node.thread(us.origin, weak["index"])))
        assert node.thread(us.origin, breach["index"])["findings"] == ["moratorium:moratorium-autonomous-targeting#1"]
        assert node.thread(us.origin, weak["index"])["findings"] == ["human-control:human-control-principles#HC-1"]

    # An agreement sets a 2-second link-test deadline from its effective date on.
    before = us.send("detente.dev/link-test/v1", "before", to=[cn.origin])
    effective = datetime.now(UTC) + timedelta(seconds=1)
    agreement_doc = {
        "document_id": "link-test-agreement",
        "version": 1,
        "kind": "agreement",
        "title": text("Link tests", "链路测试"),
        "parties": parties,
        "clauses": [{"id": "1", "text": text("Link tests are answered within 2 seconds.", "链路测试须在2秒内答复。")}],
        "effective_from": effective.isoformat(),
        "agreement": {"response_within": {"detente.dev/link-test/v1": 2}},
    }
    adopt(us, cn, wait, agreement_doc)
    wait("the agreement's effective date", lambda: datetime.now(UTC) > effective)
    after = us.send("detente.dev/link-test/v1", "after", to=[cn.origin])
    assert us.thread(us.origin, before["index"])["agreement"] == "detente-default v1"
    assert us.thread(us.origin, after["index"])["agreement"] == "link-test-agreement v1"
    # Windows run from when the notice was witnessed (docs/time.md), or provisionally from its claim.
    for record, window in ((after, timedelta(seconds=2)), (before, timedelta(hours=1))):
        thread = us.thread(us.origin, record["index"])  # one read: due and start from the same evaluation
        ob = next(o for o in thread["obligations"] if o["kind"] == "response")
        start = thread["witnessed"]["hi"] if ob["start_witnessed"] and thread["witnessed"]["hi"] else thread["issued"]
        assert datetime.fromisoformat(ob["due"]) - datetime.fromisoformat(start) == window

    # A new version, a readable diff, and a withdrawal.
    v2 = dict(
        moratorium,
        version=2,
        clauses=[
            dict(moratorium["clauses"][0], text=text("No tests of autonomous targeting.", "不进行自主目标选择测试。"))
        ],
    )
    assert us.api("POST", "/api/v1/commitments/draft", json=v2).status_code == 201
    patch = us.api(
        "GET", "/api/v1/commitments/diff", params={"document_id": "moratorium-autonomous-targeting", "old": 1, "new": 2}
    ).text
    assert "-1. No live tests of autonomous targeting." in patch and "+1. No tests of autonomous targeting." in patch
    out = cn.api(
        "POST",
        "/api/v1/commitments/withdraw",
        json={"document_id": "moratorium-autonomous-targeting", "version": 1, "reason": text("Review", "审查")},
    )
    assert out.status_code == 201
    state = cn.api(
        "GET", "/api/v1/commitments/document", params={"document_id": "moratorium-autonomous-targeting"}
    ).json()
    assert state["versions"][0]["withdrawn"]["by"] == cn.origin and state["versions"][0]["in_force"] is False

    # Glossary: each side's own definition, side by side.
    us.api(
        "POST",
        "/api/v1/glossary",
        json={
            "term_id": "frontier-model",
            "term": {"en": "frontier model"},
            "definition": text("A model at the capability frontier.", "处于能力前沿的模型。"),
        },
    )
    cn.api(
        "POST",
        "/api/v1/glossary",
        json={
            "term_id": "frontier-model",
            "term": {"zh": "前沿模型"},
            "definition": {"original": {"lang": "zh", "text": "能力最强的通用模型。"}},
        },
    )
    wait(
        "both definitions at us",
        lambda: (
            len((us.api("GET", "/api/v1/glossary", params={"term": "前沿"}).json() or [{}])[0].get("by_party", {})) == 2
        ),
    )
    entry = us.api("GET", "/api/v1/glossary", params={"term": "frontier model"}).json()[0]
    assert entry["term"] == {"en": "frontier model", "zh": "前沿模型"}
    assert entry["by_party"][cn.origin]["original"]["lang"] == "zh"


def test_annual_implementation_reports(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    statement = {
        "document_id": "joint-statement-2026",
        "version": 1,
        "kind": "statement",
        "title": text("Joint statement on AI safety", "人工智能安全联合声明"),
        "parties": [us.origin, cn.origin],
        "clauses": [{"id": "1", "text": text("Both parties report yearly.", "双方每年报告。")}],
        "annual_report": True,
    }
    adopted = adopt(us, cn, wait, statement)
    shown = us.api("GET", "/api/v1/commitments/document", params={"document_id": adopted["document_id"]}).json()
    due = {r["party"]: r for r in shown["reports"]}
    assert set(due) == {us.origin, cn.origin} and all(r["state"] == "due" for r in due.values())
    year = due[us.origin]["year"]
    report = {"document_id": adopted["document_id"], "year": year, "report": text("Implemented.", "已落实。")}
    assert us.api("POST", "/api/v1/commitments/report", json=report).status_code == 201
    after = us.api("GET", "/api/v1/commitments/document", params={"document_id": adopted["document_id"]}).json()
    states = {r["party"]: r["state"] for r in after["reports"]}
    assert states == {us.origin: "filed", cn.origin: "due"}
    other = dict(report, document_id="no-such-document")
    refused = us.api("POST", "/api/v1/commitments/report", json=other)
    assert refused.status_code == 422 and "annual reports" in refused.json()["detail"]
