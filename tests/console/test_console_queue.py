"""The console as an action queue, in a real browser (headless Chromium) against two real nodes
shared by the module: what needs the officer's action comes first, nearest deadline first, with
a tab-title counter and a desktop notification for a flash message; a notice shows its
substance; compose is a form generated from the catalogue's schema with a preview of exactly
what will be signed and a confirm step; a sealed record shows a lock and opens for a recipient.
In English and Chinese, at 1366×768. Screenshots go to tests/console/artifacts/."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from detente.node.localnet import LocalNode

ARTIFACTS = Path(__file__).parent / "artifacts"
HOTLINE = "detente.dev/hotline-message/v1"
PRE_TEST = "detente.dev/pre-test-notification/v1"


def wait_for(what: str, check: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll ``check`` until it holds (the module fixture cannot use the function-scoped ``wait``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# Records every desktop notification the page makes (the real one is shown by the desktop).
RECORD_NOTIFICATIONS = """
window.__notes = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__notes.push({ title, body: options && options.body }); }
};
"""


def pre_test_body(**over: object) -> dict[str, Any]:
    return {
        "test_id": "us-eval-2026-12",
        "category": "frontier-model-evaluation",
        "window_start": "2027-01-10T08:00:00Z",
        "window_end": "2027-01-10T20:00:00Z",
        "location": "Cluster K, Tianjin",
        "human_control_mode": "in-the-loop",
        "live_effects": True,
        "contact": "duty desk",
    } | over


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``us`` and ``cn`` pinned to each other, with encryption keys published, and at ``us``: an
    immediate message and a pre-test notice from ``cn`` (both awaiting us), a routine message to
    ``cn`` (awaiting them) and a TLP:RED message sealed to ``us``; an officer and a viewer token."""
    root = tmp_path_factory.mktemp("queue")
    us = LocalNode("us", "us.detente.example/log", root / "us").init()
    cn = LocalNode("cn", "cn.detente.example/log", root / "cn").init()
    try:
        us.pin(cn)
        cn.pin(us)
        us.start()
        cn.start()
        for node in (us, cn):
            assert node.api("POST", "/api/v1/keys/encryption").status_code == 201
        wait_for(
            "each party's encryption key at the other",
            lambda: all(len(n.api("GET", "/api/v1/keys/encryption").json()["published"]) == 2 for n in (us, cn)),
            timeout=30,
        )
        notice = cn.send(
            PRE_TEST,
            "Pre-test notice: frontier model evaluation at Cluster K",
            translations={"zh-Hans": "测试前通知：K 集群前沿模型评估"},
            body=pre_test_body(test_id="cn-eval-2027-01"),
            to=[us.origin],
        )
        immediate = cn.send(
            HOTLINE,
            "Immediate: please confirm the test window",
            translations={"zh-Hans": "紧急：请确认测试窗口"},
            body={"priority": "immediate", "topic": "urgent-concern"},
            to=[us.origin],
        )
        sent = us.send(
            HOTLINE, "Routine: quarterly contact check", body={"priority": "routine", "topic": "crisis"}, to=[cn.origin]
        )
        sealed = cn.api(
            "POST",
            "/api/v1/records",
            json={
                "type": HOTLINE,
                "to": [us.origin],
                "tlp": "TLP:RED",
                "body": {"priority": "routine", "topic": "urgent-concern", "sector": "energy"},
                "text": {"original": {"lang": "en", "text": "Sealed: facility name and details inside"}},
            },
        )
        assert sealed.status_code == 201, sealed.text
        records = {"notice": notice, "immediate": immediate, "sealed": sealed.json()}
        wait_for(
            "cn's records received at us",
            lambda: all(
                us.thread(cn.origin, r["index"]).get("states") == {us.origin: "received"} for r in records.values()
            ),
            timeout=30,
        )
        wait_for("us's message received at cn", lambda: cn.thread(us.origin, sent["index"]).get("states"), timeout=30)
        officer = us.api("POST", "/api/v1/tokens", json={"role": "officer", "label": "duty officer"}).json()["token"]
        viewer = us.api("POST", "/api/v1/tokens", json={"role": "viewer", "label": "analyst"}).json()["token"]
        yield {"us": us, "cn": cn, "officer": officer, "viewer": viewer, "sent": sent, **records}
    finally:
        us.stop(kill=True)
        cn.stop(kill=True)


def sign_in(page: Any, url: str, token: str, lang: str = "en") -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(f"{url}/console")
    if lang != "en":
        page.locator("#lang").select_option(lang)
    page.locator("#token").fill(token)
    page.locator("#token").press("Enter")
    expect(page.locator("#whoami")).to_be_visible()
    expect(page.locator("#thread-list, #action-list").first).to_be_attached()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def keys(page: Any, section: str) -> list[str]:
    return list(page.locator(f"#{section}-list > li.thread").evaluate_all("(items) => items.map((i) => i.dataset.key)"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_queue_orders_by_deadline_counts_in_the_title_and_notifies(nodes, page, lang) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    us, cn = nodes["us"], nodes["cn"]
    page.context.grant_permissions(["notifications"], origin=us.url)
    page.context.add_init_script(RECORD_NOTIFICATIONS)
    sign_in(page, us.url, nodes["officer"], lang)
    action, waiting = page.locator("#action"), page.locator("#waiting")
    zh = lang == "zh"
    expect(action.get_by_role("heading", level=3)).to_contain_text("需要您处理" if zh else "Needs your action")
    expect(waiting.get_by_role("heading", level=3)).to_have_text("等待对方" if zh else "Waiting on them")
    open_ids = {
        t["id"]
        for t in us.api("GET", "/api/v1/inbox").json()
        if t["incoming"] and any(o["party"] == us.origin and not o["met_at"] for o in t["obligations"])
    }
    expect(page.locator("#action-list > li.thread")).to_have_count(len(open_ids))
    shown = keys(page, "action")
    # the nearest deadline first: the immediate message (6 h) before the pre-test notice (24 h)
    imm, notice = f"{cn.origin}#{nodes['immediate']['index']}", f"{cn.origin}#{nodes['notice']['index']}"
    assert shown.index(imm) < shown.index(notice), shown
    assert f"{us.origin}#{nodes['sent']['index']}" in keys(page, "waiting")
    title = "detente 操作台" if zh else "detente console"
    expect(page).to_have_title(f"({len(open_ids)}) {title}")
    expect(page.locator("#notify-enable")).to_be_hidden()  # already granted

    # a flash message arrives: top of the queue, the counter goes up, a desktop notification
    flash = cn.send(
        HOTLINE,
        f"Flash ({lang}): anomalous traffic against grid control",
        translations={"zh-Hans": "特急：针对电网控制的异常流量"},
        body={"priority": "flash", "topic": "urgent-concern"},
        to=[us.origin],
    )
    first = page.locator("#action-list > li.thread").first
    expect(first).to_have_attribute("data-key", f"{cn.origin}#{flash['index']}")
    expect(first.locator(".badge.prio-flash")).to_be_visible()
    expect(page).to_have_title(f"({len(open_ids) + 1}) {title}")
    page.wait_for_function("window.__notes.length > 0")
    note = page.evaluate("window.__notes[0]")
    assert note["title"] == ("特急：cn 的热线消息" if zh else "Flash: hotline message from cn"), note
    assert "anomalous traffic" in note["body"] or "异常流量" in note["body"]
    # the hour to acknowledge, less the time taken (the 15-minute receipt clock shows first until this
    # node's receipt is logged, which on a loaded machine can come after the first paint)
    expect(first.locator(".countdown").first).to_have_text(re.compile(r"^(00:5\d:\d\d|01:00:00)$"))
    shot(page, f"11-action-queue-{lang}")

    # acknowledging it takes it out of the queue
    first.locator("form.ack input").fill("ok")
    first.locator("form.ack button").click()
    expect(page.locator(f'#action-list > li[data-key="{cn.origin}#{flash["index"]}"]')).to_have_count(0)
    expect(page).to_have_title(f"({len(open_ids)}) {title}")
    assert page.js_errors == []


def test_notice_shows_its_substance_and_peer_health(nodes, page) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    us, cn = nodes["us"], nodes["cn"]
    sign_in(page, us.url, nodes["officer"])
    peers = page.locator("#peer-health")
    expect(peers).to_contain_text("cn:")
    expect(peers).to_contain_text(re.compile("last heard|silent since"))
    item = page.locator(f'li.thread[data-key="{cn.origin}#{nodes["notice"]["index"]}"]')
    expect(item.locator(".times")).to_contain_text("Sent (the sender's claim):")
    expect(item.locator(".times")).to_contain_text(re.compile(r"witnessed between .+ UTC|no witness has vouched"))
    item.locator(".record-detail > summary").click()
    body = item.locator(".record-body")
    expect(body).to_contain_text(f"{cn.origin}#{nodes['notice']['index']}")
    expect(body.locator('dd[data-field="window_start"]')).to_contain_text("2027-01-10 08:00:00 UTC")
    expect(body.locator('dd[data-field="window_start"] .local-time')).to_contain_text("your time")
    expect(body.locator('dd[data-field="human_control_mode"]')).to_have_text("human in the loop")
    expect(body.locator('dd[data-field="live_effects"]')).to_have_text("yes")
    expect(body.locator('dd[data-field="location"]')).to_have_text("Cluster K, Tianjin")
    expect(body.locator(".msg.original")).to_contain_text("original (en)")
    expect(body.locator(".msg.translation")).to_contain_text("translation (zh-Hans)")
    expect(body.locator(".msg.translation [lang='zh-Hans']")).to_have_text("测试前通知：K 集群前沿模型评估")
    shot(page, "12-notice-substance")
    page.locator("#lang").select_option("zh")
    expect(page.locator("#peer-health")).to_contain_text(re.compile("最近联系|起失联"))
    expect(item.locator(".record-detail")).to_have_attribute("open", "")  # kept open across re-renders
    expect(item.locator('dd[data-field="human_control_mode"]')).to_have_text("人在回路中")
    expect(item.locator(".msg.original")).to_contain_text("原文（en）")
    expect(item.locator(".msg.translation")).to_contain_text("译文（zh-Hans）")
    assert page.js_errors == []


def test_a_language_chosen_before_the_strings_arrive_is_kept(nodes, page) -> None:
    """Choosing 中文 while the console's strings are still on their way (as on a slow link or a loaded
    machine) keeps the choice: the page used to reset itself to English when they arrived. The
    strings are held back until the choice is made, so the order is certain."""
    expect = pytest.importorskip("playwright.sync_api").expect
    held: list[Any] = []
    page.route("**/console/i18n.json", lambda route: held.append(route))
    page.goto(f"{nodes['us'].url}/console")
    page.locator("#lang").select_option("zh")
    wait_for("the console asking for its strings", lambda: held or page.wait_for_timeout(50), timeout=60)
    held[0].continue_()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator("#token").fill(nodes["officer"])
    page.locator("#token").press("Enter")
    expect(page.locator("#whoami")).to_be_visible()
    expect(page.locator("#signout")).to_have_text("退出")
    assert page.locator("#lang").input_value() == "zh"
    assert page.js_errors == []


def test_a_token_submitted_before_the_strings_arrive_signs_in_and_stays_out_of_the_address(nodes, page) -> None:
    """Pressing Enter on the token while the console's strings are still on their way (a fast typist,
    a slow link, a loaded machine) signs in once they arrive. The form used to be handled only after
    they had arrived, so the browser submitted it itself: a GET that put the token in the address bar,
    the history and the node's access log, and a reload that lost the sign-in."""
    expect = pytest.importorskip("playwright.sync_api").expect
    held: list[Any] = []
    page.route("**/console/i18n.json", lambda route: held.append(route))
    page.goto(f"{nodes['us'].url}/console")
    wait_for("the console asking for its strings", lambda: held or page.wait_for_timeout(50), timeout=60)
    page.locator("#token").fill(nodes["officer"])
    page.locator("#token").press("Enter", no_wait_after=True)  # a navigation would never finish: held
    page.wait_for_timeout(500)  # room for a navigation the browser would start (none must)
    assert "dtk_" not in page.url and "token" not in page.url, page.url
    held[0].continue_()
    expect(page.locator("#whoami")).to_be_visible()
    assert "dtk_" not in page.url, page.url
    assert page.js_errors == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compose_from_the_schema_with_preview_and_confirm(nodes, page, lang) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    us, cn = nodes["us"], nodes["cn"]
    zh = lang == "zh"
    sign_in(page, us.url, nodes["officer"], lang)
    page.locator("#compose > summary").click()
    page.locator("#c-type").select_option(PRE_TEST)
    fields = page.locator("#c-fields")
    # a select for the enumeration, UTC date-time inputs, a checkbox per boolean
    mode = fields.get_by_label("人类控制模式" if zh else "Human-control mode")
    expect(mode).to_be_attached()  # built from the catalogue: slow on a loaded machine (conftest's WAIT_MS)
    assert mode.evaluate("(n) => n.tagName") == "SELECT"
    start = fields.get_by_label("测试窗口开始 (UTC)" if zh else "Test window start (UTC)")
    assert start.get_attribute("type") == "datetime-local"
    test_id = f"us-form-{lang}"
    fields.get_by_label("测试编号" if zh else "Test ID").fill(test_id)
    fields.get_by_label("类别" if zh else "Category").fill("frontier-model-evaluation")
    start.fill("2027-02-01T06:30")
    fields.get_by_label("测试窗口结束 (UTC)" if zh else "Test window end (UTC)").fill("2027-02-01T18:00")
    fields.get_by_label("地点" if zh else "Location").fill("Site 4")
    mode.select_option("on-the-loop")
    fields.get_by_label("实际效果" if zh else "Live effects").check()
    fields.get_by_label("联系人" if zh else "Contact").fill("duty desk")
    page.locator("#c-text").fill("Pre-test notice from the form")
    page.locator("#c-translation").fill("来自表单的测试前通知")
    size = us.status()["size"]
    page.locator("#compose-form button[type=submit]").click()
    preview = page.locator("#c-preview")
    expect(preview).to_be_visible()
    expect(preview.get_by_role("heading")).to_have_text("将要签名的内容" if zh else "What will be signed")
    payload = json.loads(page.locator("#c-preview-json").inner_text())
    assert payload["body"]["window_start"] == "2027-02-01T06:30:00Z"
    assert payload["body"]["human_control_mode"] == "on-the-loop"
    assert payload["body"]["live_effects"] is True
    assert payload["to"] == [cn.origin] and payload["tlp"] == "TLP:CLEAR"
    assert us.status()["size"] == size  # nothing signed before the confirm step
    shot(page, f"13-compose-preview-{lang}")
    writes: list[dict[str, str]] = []
    page.on(
        "request", lambda r: writes.append(r.headers) if r.method == "POST" and "/api/v1/records" in r.url else None
    )
    page.locator("#c-confirm").click()
    expect(page.locator("#compose-result")).to_contain_text(re.compile(r"#\d+|第 \d+ 号"))
    assert writes and all(len(h.get("idempotency-key", "")) >= 16 for h in writes)  # a retry never signs twice (#21)
    expect(preview).to_be_hidden()
    sent = [r for r in us.api("GET", "/api/v1/inbox").json() if r["type"] == PRE_TEST and not r["incoming"]]
    index = max(r["index"] for r in sent)
    rows = us.api("GET", "/api/v1/records", params={"start": index, "limit": 1}).json()
    assert {k: v for k, v in rows[0]["record"]["body"].items() if k in payload["body"]} == payload["body"]
    assert rows[0]["record"]["text"] == payload["text"]
    assert page.js_errors == []


def test_sealed_record_shows_a_lock_and_opens_for_an_officer_only(nodes, page) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    us, cn = nodes["us"], nodes["cn"]
    key = f"{cn.origin}#{nodes['sealed']['index']}"
    sign_in(page, us.url, nodes["viewer"])
    item = page.locator(f'li.thread[data-key="{key}"]')
    lock = item.locator(".sealed").first
    expect(lock).to_contain_text("sealed TLP:RED")
    expect(lock).to_contain_text("readable only by: us")
    lock.get_by_role("button", name="Open").click()
    expect(lock.get_by_role("alert")).to_contain_text("Cannot open: a TLP:RED record is readable by the roles")
    shot(page, "14-sealed-viewer")
    page.get_by_role("button", name="Sign out").click()
    page.locator("#token").fill(nodes["officer"])
    page.locator("#token").press("Enter")
    page.locator("#lang").select_option("zh")
    lock = page.locator(f'li.thread[data-key="{key}"] .sealed').first
    expect(lock).to_contain_text("已加密 TLP:RED")
    lock.get_by_role("button", name="打开").click()
    expect(lock.locator(".opened .msg.original")).to_contain_text("Sealed: facility name and details inside")
    expect(lock.locator('.opened dd[data-field="sector"]')).to_have_text("energy")
    shot(page, "15-sealed-opened-zh")
    assert page.js_errors == []


def test_registers_of_commitments_takedowns_disclosures_and_peers(nodes, page) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    us = nodes["us"]
    sign_in(page, us.url, nodes["viewer"], "zh")
    for view, heading in (("commitments", "承诺"), ("takedowns", "下架请求"), ("disclosures", "出口管制违规披露")):
        page.locator(f'#views button[data-view="{view}"]').click()
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
        expect(page.locator(f"#{view}-result")).to_contain_text(re.compile(r"暂无。|\d+ 行"))
    page.locator('#views button[data-view="peers"]').click()
    table = page.locator("#peers-result table")
    expect(table.locator("thead")).to_contain_text("最近联系")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_contain_text("cn.detente.example/log")
    # a recognition arrangement with its own adoption rule: who signed, the rule, whether it is met
    arrangement = {
        "arrangement_id": "mra-console",
        "parties": [us.origin, nodes["cn"].origin],
        "recognizes": {us.origin: [nodes["cn"].origin]},
        "scope": {"original": {"lang": "en", "text": "Trusted suppliers of accelerators"}},
        "effective": "2026-06-01",
        "quorum": 2,
    }
    assert us.api("POST", "/api/v1/exportctl/recognitions", json=arrangement).status_code == 201
    page.locator('#views button[data-view="arrangements"]').click()
    expect(page.get_by_role("heading", level=2, name="互认安排")).to_be_visible()
    arrangements = page.locator("#arrangements-result table")
    expect(arrangements.locator("thead")).to_contain_text("通过规则")
    expect(arrangements.locator("thead")).to_contain_text("已满足规则")
    row = arrangements.locator("tbody tr", has_text="mra-console")
    expect(row).to_contain_text("2 of 2")
    expect(row).to_contain_text("否")  # one of the two signatures: not yet in force
    # incident facets are selects of the fixed values
    page.locator('#views button[data-view="incidents"]').click()
    assert page.locator("#s-harm").evaluate("(n) => n.tagName") == "SELECT"
    expect(page.locator("#s-jurisdiction option[value='EU-NIS2']")).to_have_count(1)
    expect(page.locator("#s-party option")).to_have_count(3)  # any, us, cn
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.js_errors == []


def test_the_inbox_is_read_a_page_at_a_time_with_more(nodes, page) -> None:
    """The inbox is never read whole (#26, first paint): a page of the newest threads and as many
    open ones, then a page more at each click; every request names its limit."""
    expect = pytest.importorskip("playwright.sync_api").expect
    us = nodes["us"]
    total = len(us.api("GET", "/api/v1/inbox").json())
    assert total >= 4
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/inbox" in r.url else None)
    page.goto(f"{us.url}/console?inbox_page=2")
    page.locator("#token").fill(nodes["viewer"])
    page.locator("#token").press("Enter")
    shown = page.locator("#inbox-shown")
    expect(shown).to_contain_text(f"of {total} threads")
    more = page.locator("#inbox-more")
    expect(more).to_be_visible()
    expect(more).to_have_text("Show 2 more")
    first = page.locator("li.thread").count()
    assert first < total
    more.click()
    expect(shown).not_to_contain_text(f"Showing {first} of")
    while more.is_visible():
        more.click()
        page.wait_for_function("() => !document.querySelector('#inbox-more').disabled")
    expect(shown).to_contain_text(f"Showing {total} of {total} threads")
    assert asked and all("limit=" in url for url in asked), asked
    page.locator("#lang").select_option("zh")
    expect(shown).to_contain_text(f"显示 {total} 个会话")
    assert page.js_errors == []


def test_a_sealed_incident_shows_its_marking_and_recipients_in_both_languages(nodes, page) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    us, cn = nodes["us"], nodes["cn"]
    report = {
        "incident_id": "cn-2026-0900",
        "category": "ai-incident",
        "title": {"original": {"lang": "en", "text": "Kestrel cooling model drift"}},
        "description": {"original": {"lang": "en", "text": "Sealed details of the Kestrel plant"}},
        "ai_relation": "model output",
        "submitter": "duty officer",
        "supporting_materials": ["https://example.org/kestrel"],
        "severity": "high",
        "harm_types": ["health"],
    }
    filed = cn.api("POST", "/api/v1/incidents", json={"report": report, "tlp": "TLP:AMBER", "to": ["us"]})
    assert filed.status_code == 201, filed.text
    wait_for(
        "the sealed incident indexed at us",
        lambda: us.api("GET", "/api/v1/incidents", params={"q": "Kestrel"}).json()["total"] == 1,
        timeout=30,
    )
    sign_in(page, us.url, nodes["viewer"])
    page.get_by_role("button", name="Incidents").click()
    page.get_by_label("Search text (English or Chinese)").fill("Kestrel")
    page.get_by_role("button", name="Search", exact=True).click()
    row = page.locator("#search-results tbody tr").filter(has_text="Kestrel cooling model drift")
    expect(row).to_contain_text("sealed TLP:AMBER")
    expect(row).to_contain_text("sealed to us")
    row.get_by_role("button").click()
    detail = page.locator("#incident")
    box = detail.locator(".sealed-incident")
    expect(box).to_contain_text("sealed TLP:AMBER")
    expect(box).to_contain_text("readable only by: cn, us")
    expect(detail).to_contain_text("Sealed details of the Kestrel plant")  # opened: us is a recipient
    shot(page, "16-sealed-incident")
    page.locator("#lang").select_option("zh")
    expect(box).to_contain_text("已加密 TLP:AMBER")
    expect(box).to_contain_text("仅以下各方可读")
    expect(row).to_contain_text("加密发往 us")
    assert page.js_errors == []
