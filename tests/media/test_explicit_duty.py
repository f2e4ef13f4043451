"""China's explicit-label duty scoped to the situations of Art. 4 of the Measures (issue #23): each
declared situation, and ``unknown`` (the default), which is reported as not judged, never as a
silent pass or fail; the data behind it, with its sources and quality marks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detente.cli.app import main
from detente.errors import MalformedRecord
from detente.media.explicit_duty import ExplicitDuty, duty_for, situation_table
from detente.media.label import check_labels

LABELED = "本文由人工智能生成。\n今天的天气很好，适合出门散步。".encode()
UNLABELED = "今天的天气很好，适合出门散步。".encode()
REQUIRED = {  # situation → the item of Art. 17(1) of the Deep Synthesis Provisions it rests on
    "dialogue": "Art. 17(1)(1)",
    "voice": "Art. 17(1)(2)",
    "face": "Art. 17(1)(3)",
    "immersive-scene": "Art. 17(1)(4)",
    "other-generation": "Art. 17(1)(5)",
}
JPEG = Path(__file__).resolve().parent.parent / "data" / "c2pa" / "no_manifest.jpg"


def _cn(report: dict) -> dict:  # type: ignore[type-arg]
    return next(r for r in report["regimes"] if r["regime"] == "cn-aigc")


def _explicit_rule(report: dict) -> dict:  # type: ignore[type-arg]
    return next(r for r in _cn(report)["rules"] if r["check"] == "explicit-text")


def test_the_situations_are_data_with_sources_dates_and_quality_marks() -> None:
    table = situation_table()
    assert {s.id for s in table.situations} == {*REQUIRED, "outside-17-1", "unknown"}
    sources = {s.id: s for s in table.sources}
    assert sources["measures"].in_force.isoformat() == "2025-09-01"
    assert sources["deep-synthesis"].in_force.isoformat() == "2023-01-10"
    for fact in table.facts:
        assert fact.source in sources and fact.quality in ("verified", "unverified") and fact.basis
        assert fact.zh and fact.en
    for situation, item in REQUIRED.items():
        duty = duty_for(situation)
        assert duty.required is True
        assert [f.at for f in duty.facts] == ["Art. 4(1)", "Art. 17(1)", item]
        assert duty.situation.name.en and duty.situation.name.zh
    assert duty_for("outside-17-1").required is False
    assert duty_for("unknown").required is None and duty_for().situation.id == "unknown"


@pytest.mark.parametrize("situation", sorted(REQUIRED))
def test_a_situation_of_art_17_1_owes_the_explicit_label(situation: str) -> None:
    good = check_labels(LABELED, situation=situation).as_dict()
    assert _cn(good)["verdict"] == "pass" and _explicit_rule(good)["outcome"] == "pass"
    bad = check_labels(UNLABELED, situation=situation).as_dict()
    assert _cn(bad)["verdict"] == "fail" and _cn(bad)["failed"] == ["cn.explicit-text"]
    duty = bad["explicit_duty"]
    assert duty["situation"] == situation and duty["required"] is True and duty["judged"] is True
    assert REQUIRED[situation] in [b["at"] for b in duty["basis"]]
    # every fact it rests on is unverified, and the answer says so where the verdict is given
    assert duty["quality"] == "unverified" and duty["mark"].startswith("[unverified")
    assert REQUIRED[situation] in duty["mark"] and duty["mark"] in _explicit_rule(bad)["detail"]


def test_outside_art_17_1_no_explicit_label_is_owed() -> None:
    for text in (LABELED, UNLABELED):
        report = check_labels(text, situation="outside-17-1").as_dict()
        assert _explicit_rule(report)["outcome"] == "not-applicable"
        assert _cn(report)["verdict"] == "not-applicable" and not _cn(report)["failed"]
        duty = report["explicit_duty"]
        assert duty["required"] is False and "Art. 5" in duty["note"]
        assert duty["mark"] and "Art. 17(2) (memory)" in duty["mark"]  # rests on a recollection: said
        assert duty["mark"] in _explicit_rule(report)["detail"]


@pytest.mark.parametrize("text", [LABELED, UNLABELED], ids=["labeled", "unlabeled"])
def test_an_undeclared_situation_is_not_judged_never_passed_or_failed(text: bytes) -> None:
    report = check_labels(text).as_dict()
    rule = _explicit_rule(report)
    assert rule["outcome"] == "not-judged" and _cn(report)["verdict"] == "not-judged"
    assert not _cn(report)["failed"]
    assert "could not be judged" in rule["detail"] and "declare one" in rule["detail"]
    found = "carries a conforming label" if text == LABELED else "carries no conforming label"
    assert found in rule["detail"]  # what was found is still reported
    duty = report["explicit_duty"]
    assert duty["situation"] == "unknown" and duty["judged"] is False and duty["required"] is None
    assert duty["quality"] is None and duty["mark"] == ""  # relies on no fact


def test_media_reports_the_duty_and_says_the_visible_label_was_not_checked() -> None:
    pytest.importorskip("c2pa")
    data = JPEG.read_bytes()
    unknown = check_labels(data).as_dict()
    assert "could not be judged" in unknown["explicit_duty"]["note"]
    face = check_labels(data, situation="face").as_dict()
    assert face["explicit_duty"]["required"] is True and "did NOT check" in face["explicit_duty"]["note"]
    # the implicit-label verdicts do not depend on the situation (Art. 5 holds for all content)
    assert [r["verdict"] for r in face["regimes"]] == [r["verdict"] for r in unknown["regimes"]]
    outside = check_labels(data, situation="outside-17-1").as_dict()
    assert "requires no explicit label" in outside["explicit_duty"]["note"]


def test_the_mark_follows_the_data() -> None:
    """Were every fact verified against the official text, the answer would carry no mark."""
    table = situation_table()
    verified = table.model_copy(
        update={"facts": tuple(f.model_copy(update={"quality": "verified"}) for f in table.facts)}
    )
    duty = ExplicitDuty(verified, verified.situation("voice"))
    assert duty.mark() == "" and duty.as_dict("audio")["quality"] == "verified"
    assert duty_for("voice").as_dict("audio")["quality"] == "unverified"


def test_an_unknown_situation_is_a_typed_error() -> None:
    with pytest.raises(MalformedRecord, match="no situation 'chatbot'") as caught:
        check_labels(UNLABELED, situation="chatbot")
    assert "dialogue" in (caught.value.hint or "")


def test_cli_situation_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain, labeled = tmp_path / "plain.txt", tmp_path / "labeled.txt"
    plain.write_bytes(UNLABELED)
    labeled.write_bytes(LABELED)
    assert main(["label", "check", str(plain)]) == 3  # not judged: neither 0 nor 1
    out = " ".join(capsys.readouterr().out.split())
    assert "NOT JUDGED" in out and "could not be judged" in out
    assert main(["label", "check", str(plain), "--situation", "dialogue"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "[unverified / 未经官方原文核实:" in out
    assert main(["label", "check", str(labeled), "--situation", "dialogue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["explicit_duty"]["situation"] == "dialogue"
    assert main(["label", "check", str(plain), "--situation", "outside-17-1"]) == 0
    capsys.readouterr()
    assert main(["label", "check", str(plain), "--situation", "chatbot"]) == 2
    assert "hint: declare one of: dialogue" in capsys.readouterr().err


def test_the_cli_help_and_docs_name_every_situation() -> None:
    from typer.main import get_command

    from detente.cli.app import app

    check = get_command(app).commands["label"].commands["check"]  # type: ignore[attr-defined]
    (option,) = [p for p in check.params if p.name == "situation"]
    docs = (Path(__file__).resolve().parents[2] / "docs" / "media.md").read_text()
    for s in situation_table().situations:
        assert s.id in (option.help or ""), s.id
        duty = duty_for(s.id)
        cites = " + ".join(f"{f.at} ({f.basis.split(':', 1)[0]})" for f in duty.facts) or "—"
        row = f"| `{s.id}` | {s.name.en} / {s.name.zh} | {s.explicit_label} | {cites} |"
        assert row in docs, row
