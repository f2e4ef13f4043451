"""The console's export-control panel, in a real browser against a real node, in both languages:
an answer that relies on unverified facts shows them in a warning box; the is-informed letter
(NVIDIA H20, April 2025) is shown with its addressee-only caveat; a cn-ecl answer names China's
lists; every answer ends with the reminder that other rules may apply.

Source of the letter: NVIDIA Form 8-K filed 15 Apr 2025, as quoted by Tom's Hardware [S]."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from detente.exportctl.classify import REMINDER

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_export_panel_shows_unverified_facts_letters_lists_and_the_reminder(make_node, page: Any, lang: str) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    zh = lang == "zh"
    us = make_node("us")
    us.start()
    viewer = us.api("POST", "/api/v1/tokens", json={"role": "viewer", "label": "analyst"}).json()["token"]
    page.goto(f"{us.url}/console")
    if zh:
        page.locator("#lang").select_option("zh")
    page.locator("#token").fill(viewer)
    page.locator("#token").press("Enter")
    expect(page.locator("#whoami")).to_be_visible()

    page.locator('button[data-view="exportctl"]').click()
    page.locator("#x-name").fill("H20")
    page.locator("#x-asof").fill("2025-06-01")
    page.locator("#exportctl-form button[type=submit]").click()
    result = page.locator("#exportctl-result")
    expected = us.api("POST", "/api/v1/exportctl/classify", json={"name": "H20", "as_of": "2025-06-01"}).json()

    warning = result.locator(".exportctl-unverified")
    expect(warning.locator(".badge")).to_have_text("未核实" if zh else "unverified")
    expect(warning).to_contain_text(
        f"{len(expected['unverified'])} 项" if zh else f"relies on {len(expected['unverified'])}"
    )
    expect(warning.locator("li")).to_have_count(len(expected["unverified"]))
    expect(warning).to_contain_text("catalogue NVIDIA H20: die_area_mm2 = 814")

    ear = result.locator("section[aria-label=us-ear]")
    letters = ear.locator(".exportctl-letters")
    expect(letters).to_contain_text("BIS-2025-04-NVIDIA-H20")
    expect(letters).to_contain_text("binds only its addressee")
    expect(letters.locator("h4")).to_have_text(
        "致个别企业函件设定的许可要求（仅约束收函企业）"
        if zh
        else "Licence required by letter to a company (binds only its addressee)"
    )
    expect(letters.locator(".badge")).to_have_text("未核实" if zh else "unverified")  # the letter has no primary text

    lists = result.locator("section[aria-label=cn-ecl] .exportctl-lists")
    expect(lists).to_contain_text("不可靠实体清单" if zh else "Unreliable Entity List")
    expect(lists).to_contain_text("Announcement 2024 No. 51")

    expect(result.locator(".exportctl-reminder")).to_contain_text(REMINDER["zh" if zh else "en"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"11-export-unverified-{lang}.png"), full_page=True)
    assert page.js_errors == []
