"""The record validation path (``detente.records.catalogue``): which types a node signs, what each
type owes in return and to whom it must be addressed, a body checked against its type's schema,
and the suggestions a misspelt type gets. Each test pins an exact answer (issue #18: the tests
the mutation run of ``records/catalogue.py`` needs)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from detente.errors import MalformedRecord, UnknownRecordType
from detente.records.catalogue import (
    ANSWER_TYPES,
    CATALOGUE,
    FREE_FORM,
    LOG_ALARM,
    STATEMENT,
    TypeSpec,
    check_type,
    json_schemas,
    spec_for,
    suggest_types,
    validate_record,
)
from detente.records.fields import example_of
from detente.records.hotline import HotlineMessage
from detente.records.record import Record

US = "us.detente.example/log"
CN = "cn.detente.example/log"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
HOTLINE = "detente.dev/hotline-message/v1"


def _example(record_type: str) -> dict[str, Any]:
    schema = json_schemas()[record_type]
    body = example_of(schema, schema)
    assert isinstance(body, dict)
    return body


def _record(record_type: str, body: dict[str, Any] | None = None, to: tuple[str, ...] = (CN,)) -> Record:
    return Record(type=record_type, party=US, issued=NOW, to=to, body=_example(record_type) if body is None else body)


# --- the catalogue as a table -----------------------------------------------------------------------


UNADDRESSED = [
    "detente.dev/c2pa-trust-anchor/v1",
    "detente.dev/commitment-document/v1",
    "detente.dev/commitment-signature/v1",
    "detente.dev/commitment-withdrawal/v1",
    "detente.dev/encryption-key/v1",
    "detente.dev/eval-preregistration/v1",
    "detente.dev/eval-recheck/v1",
    "detente.dev/eval-result/v1",
    "detente.dev/eval-samples/v1",
    "detente.dev/export-rule-pack/v1",
    "detente.dev/glossary-definition/v1",
    "detente.dev/implementation-report/v1",
    "detente.dev/incident-classification/v1",
    "detente.dev/incident-comment/v1",
    "detente.dev/incident-link-confirmation/v1",
    "detente.dev/incident-link/v1",
    "detente.dev/incident-report/v1",
    "detente.dev/key-revocation/v1",
    "detente.dev/key-rotation/v1",
    "detente.dev/label-check/v1",
    "detente.dev/label-guideline/v1",
    "detente.dev/quarterly-report/v1",
    "detente.dev/supplier-recognition-signature/v1",
    "detente.dev/supplier-recognition/v1",
    "detente.dev/trusted-supplier/v1",
    "detente.dev/watermark-key/v1",
    "detente.dev/withheld-notification/v1",
]


ADDRESSED = [
    "detente.dev/acknowledgement/v1",
    "detente.dev/clarification-request/v1",
    "detente.dev/clarification-response/v1",
    "detente.dev/consultation-meeting-request/v1",
    "detente.dev/deadline-missed/v1",
    "detente.dev/escalation/v1",
    HOTLINE,
    "detente.dev/link-test/v1",
    "detente.dev/observation-invitation/v1",
    "detente.dev/periodic-exchange/v1",
    "detente.dev/policy-development-notification/v1",
    "detente.dev/post-test-report/v1",
    "detente.dev/pre-test-notification/v1",
    "detente.dev/receipt/v1",
    "detente.dev/takedown-request/v1",
    "detente.dev/takedown-response/v1",
    "detente.dev/test-cancel/v1",
    "detente.dev/test-update/v1",
    "detente.dev/violation-narrative/v1",
]
"""Types whose records name their recipients (and get receipts). Types added later are not listed
here; those listed must keep their addressing."""


def test_which_types_name_their_recipients_and_get_receipts() -> None:
    assert [t for t in UNADDRESSED if CATALOGUE[t].addressed] == []
    assert [t for t in ADDRESSED if not CATALOGUE[t].addressed] == []
    assert all(spec_for(t) is CATALOGUE[t] for t in CATALOGUE)
    assert spec_for("detente.dev/no-such-type/v1") is None and spec_for(STATEMENT) is None


OWED = {
    "detente.dev/pre-test-notification/v1": ("ack", None),
    "detente.dev/observation-invitation/v1": ("ack", None),
    HOTLINE: ("ack", None),
    "detente.dev/clarification-request/v1": ("answer", "detente.dev/clarification-response/v1"),
    "detente.dev/consultation-meeting-request/v1": ("ack", None),
    "detente.dev/link-test/v1": ("ack", None),
    "detente.dev/periodic-exchange/v1": ("ack", None),
    "detente.dev/takedown-request/v1": ("answer", "detente.dev/takedown-response/v1"),
}


def test_what_each_type_owes_in_return() -> None:
    owed = {t: (spec.response, spec.answer_type) for t, spec in CATALOGUE.items()}
    assert {t: owed[t] for t in OWED} == OWED
    assert all(owed[t] == (None, None) for t in [*ADDRESSED, *UNADDRESSED] if t not in OWED)
    answers = {"detente.dev/clarification-response/v1", "detente.dev/takedown-response/v1"}
    assert answers <= ANSWER_TYPES and None not in ANSWER_TYPES
    assert all(t in CATALOGUE for t in ANSWER_TYPES)


def test_a_type_spec_is_addressed_and_owes_nothing_unless_told() -> None:
    spec = TypeSpec("example.org/thing/v1", BaseModel)
    assert (spec.addressed, spec.response, spec.answer_type) == (True, None, None)


def test_the_catalogues_specs_cannot_be_changed_in_place() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CATALOGUE[HOTLINE].addressed = False  # type: ignore[misc]
    assert CATALOGUE[HOTLINE].addressed is True


def test_the_free_form_types_are_outside_the_catalogue() -> None:
    assert set(FREE_FORM) == {STATEMENT, LOG_ALARM} and not set(FREE_FORM) & set(CATALOGUE)


def test_json_schemas_has_every_catalogued_type_in_order() -> None:
    schemas = json_schemas()
    assert list(schemas) == sorted(CATALOGUE)
    assert schemas[HOTLINE] == HotlineMessage.model_json_schema()


# --- check_type: what a node signs ----------------------------------------------------------------


def test_every_catalogued_and_free_form_type_is_signed() -> None:
    for record_type in [*CATALOGUE, *FREE_FORM]:
        assert check_type(record_type) is None


def test_an_unknown_type_is_refused_with_what_it_may_have_meant() -> None:
    with pytest.raises(UnknownRecordType) as info:
        check_type("detente.dev/hotline-mesage/v1")
    assert (
        info.value.message
        == "detente.dev/hotline-mesage/v1 is not a record type this node signs (not in the catalogue)"
    )
    assert info.value.hint == (
        "did you mean detente.dev/hotline-message/v1? list every record type and its fields with: detente catalogue"
    )
    with pytest.raises(UnknownRecordType) as info:
        check_type("detente.dev/takedown/v1")
    assert info.value.hint == (
        "did you mean detente.dev/takedown-request/v1 or detente.dev/takedown-response/v1? "
        "list every record type and its fields with: detente catalogue"
    )
    with pytest.raises(UnknownRecordType) as info:
        check_type("example.org/zzz/v1")
    assert info.value.hint == "list every record type and its fields with: detente catalogue"


@pytest.mark.parametrize(
    ("asked", "n", "suggested"),
    [
        ("detente.dev/hotline-mesage/v1", 3, [HOTLINE]),  # the full name, one letter off
        ("detente.dev/receit/v1", 3, ["detente.dev/receipt/v1"]),
        ("detente.dev/hotline-mesage", 3, [HOTLINE]),  # close to a full name only
        ("hotline-mesage", 3, [HOTLINE]),  # close to a short name only
        ("detente.dev/hotline-message/v2", 3, [HOTLINE]),  # another version: by short name
        ("foo/hotline-message", 3, [HOTLINE]),
        ("a/b/c/hotline-message", 3, [HOTLINE]),  # more than two slashes: the whole text is the name
        ("hotline-message", 3, [HOTLINE]),
        ("hotl", 3, [HOTLINE]),  # a prefix of four letters or more
        ("hot", 3, []),
        ("key", 3, []),
        ("key-", 3, ["detente.dev/key-rotation/v1", "detente.dev/key-revocation/v1"]),
        ("test", 3, ["detente.dev/test-update/v1", "detente.dev/test-cancel/v1"]),
        ("test", 1, ["detente.dev/test-update/v1"]),
        (
            "incident",
            3,
            [
                "detente.dev/incident-link/v1",
                "detente.dev/incident-report/v1",
                "detente.dev/incident-classification/v1",
            ],
        ),
        (
            "incid",
            5,
            [
                "detente.dev/incident-report/v1",
                "detente.dev/incident-classification/v1",
                "detente.dev/incident-link/v1",
                "detente.dev/incident-link-confirmation/v1",
                "detente.dev/incident-comment/v1",
            ],
        ),
        ("x/y", 3, []),
        ("example.org/zzz/v1", 3, []),
    ],
)
def test_suggestions_for_a_misspelt_type(asked: str, n: int, suggested: list[str]) -> None:
    assert suggest_types(asked, n) == suggested
    if n == 3:
        assert suggest_types(asked) == suggested


# --- validate_record: the body against its schema, and the addressing rules -------------------------


def test_a_valid_catalogued_record_gives_its_parsed_body() -> None:
    body = _example(HOTLINE)
    parsed = validate_record(_record(HOTLINE, body))
    assert isinstance(parsed, HotlineMessage) and parsed.model_dump(mode="json", exclude_none=True) == {
        **parsed.model_dump(mode="json", exclude_none=True),
        **body,
    }


def test_a_type_outside_the_catalogue_is_carried_unchecked() -> None:
    record = Record(type=STATEMENT, party=US, issued=NOW, body={"anything": [1, 2]}, to=())
    assert validate_record(record) is None
    assert validate_record(record.model_copy(update={"type": "example.org/other/v3"})) is None


def test_a_body_that_does_not_fit_its_schema_is_refused_with_every_error_and_where_to_look() -> None:
    with pytest.raises(MalformedRecord) as info:
        validate_record(_record(HOTLINE, {"unexpected": 1}))
    assert info.value.message.startswith(f"invalid {HOTLINE} body (")
    assert "unexpected" in info.value.message
    assert info.value.hint == "see every field of the type with: detente catalogue hotline-message"


def test_a_type_that_owes_a_response_must_name_its_recipients() -> None:
    with pytest.raises(MalformedRecord) as info:
        validate_record(_record(HOTLINE, to=()))
    assert info.value.message == f"a {HOTLINE} record must name its recipients in 'to'"
    assert info.value.hint == "add the recipient parties' log origins"
    assert isinstance(validate_record(_record(HOTLINE, to=(CN,))), HotlineMessage)


def test_types_that_owe_nothing_or_name_no_one_may_have_no_recipients() -> None:
    # addressed but owing no response (a test update, a receipt), and not addressed at all
    for record_type in ("detente.dev/test-update/v1", "detente.dev/receipt/v1", "detente.dev/eval-result/v1"):
        assert validate_record(_record(record_type, to=())) is not None


def test_a_record_is_not_addressed_to_its_own_sender() -> None:
    for record_type in (HOTLINE, "detente.dev/eval-result/v1"):
        with pytest.raises(MalformedRecord, match=r"^a record is not addressed to its own sender$"):
            validate_record(_record(record_type, to=(CN, US)))
        assert validate_record(_record(record_type, to=(CN,))) is not None


@pytest.mark.parametrize("issued", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_an_issued_time_out_of_range_in_utc_is_a_malformed_record(issued: str) -> None:
    # each is a valid time in its own zone, and before year 1 or after 9999 in UTC
    raw = Record(type=STATEMENT, party=US, issued=NOW, body={"text": "x"}).to_json().decode()
    with pytest.raises(MalformedRecord, match="out of range"):
        Record.from_json(raw.replace('"2026-12-01T00:00:00.000000Z"', f'"{issued}"'))
