"""The AIGC label model (GB 45438-2025 Annex E JSON) and the explicit-label text checker."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detente.errors import MalformedError, MalformedJSON
from detente.media.aigc import AIGC_JSON_MAX_BYTES, AIGC_KEYS, AigcLabel, parse_aigc_json
from detente.media.explicit import TEXT_RULES, check_text_label, check_text_labels

CN = TEXT_RULES["cn-gb45438-2025/text"]
EU = TEXT_RULES["eu-ai-act-art50/text"]

# A label as real files carry it (values from a published sample: Doubao's producer code).
REAL = (
    '{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"ccf40794-0e83-4b96-8243-72a3fa70f06e",'
    '"ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}'
)


def test_parses_a_real_label_and_serialises_it_back_byte_for_byte() -> None:
    label = parse_aigc_json(REAL)
    assert label.label == "1"
    assert label.meaning == "AI-generated"
    assert label.content_producer == "001191110102MACQD9K64010000"
    assert label.to_json() == REAL


def test_wrapped_form_and_missing_optional_keys() -> None:
    label = parse_aigc_json('{"AIGC": {"Label": "3", "ProduceID": "内容-1"}}')
    assert label == AigcLabel(label="3", produce_id="内容-1")
    assert list(json.loads(label.to_json())) == list(AIGC_KEYS)
    assert "内容" in label.to_json()  # UTF-8 kept, not \u-escaped


def test_python_names_and_annex_e_names_both_construct() -> None:
    assert AigcLabel(Label="2", ContentProducer="p") == AigcLabel(label="2", content_producer="p")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[]", "not an object"),
        ('"1"', "not an object"),
        ("{", "not UTF-8 JSON"),
        (b"\xff\xfe", "not UTF-8 JSON"),
        ('{"ContentProducer":"x"}', "no Label"),
        ('{"Label":1}', "Label"),
        ('{"Label":"4"}', "Label"),
        ('{"Label":"AIGC"}', "Label"),  # seen in the wild; not an Annex E value
        ('{"Label":"1","ProduceID":7}', "ProduceID"),
        ('{"Label":"1","Extra":"x"}', "Extra"),
        ('{"AIGC":{"Label":"1"},"Other":{}}', "AIGC, Other"),
        ('{"Label":"1","Label":"2"}', "repeats the key Label"),
        ('{"Label":"1","ProduceID":"a\\u0000b"}', "control character"),
        ('{"Label":"1","ProduceID":"\\ud800"}', "surrogate"),
        ('{"Label":"1","ProduceID":"\\uffff"}', "noncharacter"),
        ('{"Label":"1","ProduceID":"' + "x" * 1025 + '"}', "1024"),
    ],
)
def test_json_that_is_not_an_aigc_object_is_a_typed_error(text: str | bytes, needle: str) -> None:
    with pytest.raises(MalformedJSON) as excinfo:
        parse_aigc_json(text)
    assert needle in excinfo.value.message
    assert excinfo.value.hint and "Annex E" in excinfo.value.hint


def test_oversized_json_is_refused_before_parsing() -> None:
    text = '{"Label":"1","ReservedCode1":"' + "a" * AIGC_JSON_MAX_BYTES + '"}'
    with pytest.raises(MalformedError, match="limit is 4096"):
        parse_aigc_json(text)


def test_a_label_too_large_to_write_is_refused() -> None:
    label = AigcLabel(label="1", **{k: "中" * 1000 for k in ("reserved_code1", "reserved_code2")})
    with pytest.raises(MalformedError, match="limit is 4096"):
        label.to_json()


values = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40).filter(
    lambda s: not any(0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE for c in s)
)


@given(
    label=st.sampled_from(["1", "2", "3"]),
    fields=st.fixed_dictionaries({k: values for k in AIGC_KEYS[1:]}),
)
def test_round_trip_property(label: str, fields: dict[str, str]) -> None:
    original = AigcLabel.model_validate({"Label": label, **fields})
    assert parse_aigc_json(original.to_json()) == original
    assert parse_aigc_json(json.dumps({"AIGC": original.to_dict()})) == original


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), st.recursive(st.none(), lambda s: st.lists(s))))
def test_parser_raises_only_typed_errors(data: object) -> None:
    text = data if isinstance(data, str | bytes) else json.dumps(data)
    with contextlib.suppress(MalformedError):
        parse_aigc_json(text)


# --- explicit labels on text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("本文由人工智能生成。今天天气很好，适合出门散步。", "start"),
        ("今天天气很好，适合出门散步。" * 20 + "\n（本内容由AI生成）", "end"),
        ("【AI合成】" + "今天天气很好。" * 40, "start"),
        ("ＡＩ生成内容：" + "你好", "start"),  # full-width letters normalise to AI
        ("  \n人工智能辅助合成\n" + "正文。" * 50, "start"),
    ],
)
def test_chinese_notice_at_start_or_end_passes(text: str, where: str) -> None:
    result = check_text_label(text, CN)
    assert result.passed
    assert result.where == where
    assert all(r.passed for r in result.requirements)
    assert result.match is not None and result.start is not None


def test_chinese_notice_only_in_the_middle_fails_the_position_requirement() -> None:
    text = "今天天气很好。" * 30 + "本段由AI生成。" + "明天也会很好。" * 30
    result = check_text_label(text, CN)
    assert not result.passed
    assert result.where == "middle"
    wording, position = result.requirements
    assert wording.passed and not position.passed
    assert "start or end" in position.detail


def test_chinese_notice_on_a_line_of_its_own_in_the_middle_passes() -> None:
    """Issue #23: GB 45438 allows the start, the end or an appropriate middle position; a notice
    standing as its own line between paragraphs is one (run into a sentence, as above, it is not)."""
    text = "今天天气很好。" * 30 + "\n【本段由AI生成】\n" + "明天也会很好。" * 30
    result = check_text_label(text, CN)
    assert result.passed and result.where == "middle"
    assert "line of its own" in result.requirements[1].detail
    crowded = (
        "今天天气很好。" * 30 + "\n今天天气很好，本段由AI生成，明天也会很好，后天也会很好。\n" + "明天也会很好。" * 30
    )
    assert not check_text_label(crowded, CN).passed  # a line that is a sentence, not a notice


@pytest.mark.parametrize(
    "text",
    ["今天天气很好。", "人工智能是一门学科。", "MAIL生成器", "This article was generated by AI.", "said生成"],
)
def test_chinese_rule_fails_without_the_wording(text: str) -> None:
    result = check_text_label(text, CN)
    assert not result.passed
    assert result.requirements[0].requirement == "wording" and not result.requirements[0].passed


@pytest.mark.parametrize(
    "text",
    [
        "AI-generated summary of the meeting.",
        "Long report text. " * 40 + "This text was generated by an AI system.",
        "Notes. " * 30 + "Created with artificial intelligence. " + "More notes. " * 30,
    ],
)
def test_english_disclosure_passes_anywhere(text: str) -> None:
    assert check_text_label(text, EU).passed


@pytest.mark.parametrize("text", ["The AI debate generated heat.", "本文由人工智能生成。", "A generated image of AIs."])
def test_english_rule_fails_without_a_disclosure(text: str) -> None:
    assert not check_text_label(text, EU).passed


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("非AI生成的内容。你好", CN),
        ("本内容并非由人工智能生成", CN),
        ("本内容不是AI生成的", CN),
        ("未使用人工智能生成 本文", CN),
        ("This text is not AI-generated.", EU),
        ("Not generated by AI.", EU),
        ("A non-AI-generated photograph.", EU),
    ],
)
def test_a_notice_that_denies_the_label_is_not_a_label(text: str, rule) -> None:  # type: ignore[no-untyped-def]
    result = check_text_label(text, rule)
    assert not result.passed
    assert "only a negated notice" in result.requirements[0].detail


def test_a_genuine_notice_next_to_a_negated_one_still_counts() -> None:
    assert check_text_label("本内容由AI生成。非AI生成部分略", CN).passed
    assert check_text_label("Written without AI-generated help. Generated by AI.", EU).passed


def test_each_rule_set_is_checked_and_named() -> None:
    results = {r.rule.id: r.passed for r in check_text_labels("AI生成 / AI-generated: 你好")}
    assert results == {"cn-gb45438-2025/text": True, "eu-ai-act-art50/text": True}
    assert all(rule.rule_set and rule.version and rule.patterns for rule in TEXT_RULES.values())


@given(st.text(max_size=300))
def test_checker_never_raises(text: str) -> None:
    for result in check_text_labels(text):
        assert result.passed == all(r.passed for r in result.requirements)
