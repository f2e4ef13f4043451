"""Rule packs: the built-in ones validate, bad packs are refused with a hint, digests are stable,
China's technology items classify by tags and dates."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from typing import Any

import pytest
import rfc8785

from detente.errors import MalformedError, MalformedJSON, MalformedRecord
from detente.exportctl import (
    Item,
    RulePack,
    Status,
    builtin_pack,
    builtin_packs,
    classify,
    load_pack,
    pack_json_schema,
)


def test_builtin_packs_are_one_per_regime() -> None:
    assert [p.regime for p in builtin_packs()] == ["cn-ecl", "us-ear"]


def test_the_us_pack_holds_both_versions_of_3a090_with_their_dates(us: RulePack) -> None:
    old = next(c for c in us.clauses if c.id == "3A090.a")
    new = next(c for c in us.clauses if c.id == "3A090.a.1")
    assert (old.effective, old.until) == (date(2022, 10, 7), date(2023, 11, 17))
    assert new.effective == date(2023, 11, 17) and new.source.document == "FR Doc 2023-23055"
    assert [c.id for c in us.in_effect(date(2023, 11, 16)) if c.entry == "3A090.a"] == ["3A090.a"]
    assert [c.id for c in us.in_effect(date(2023, 11, 17)) if c.entry == "3A090.a"] == ["3A090.a.1", "3A090.a.2"]


def test_status_history_of_4e091(us: RulePack) -> None:
    clause = next(c for c in us.clauses if c.id == "4E091")
    assert clause.status_on(date(2025, 1, 12)) is None
    assert clause.status_on(date(2025, 5, 12)).status == Status.IN_FORCE  # type: ignore[union-attr]
    assert clause.status_on(date(2025, 5, 13)).status == Status.NOT_ENFORCED  # type: ignore[union-attr]


def test_every_clause_cites_a_source_and_mem_facts_are_marked(us: RulePack, cn: RulePack) -> None:
    for pack in (us, cn):
        for clause in pack.clauses:
            assert clause.source.citation
    ecl = next(c for c in cn.clauses if c.id == "ECL")
    # the adoption date was re-verified in the law's text; what was not read stays marked, with the reason
    assert ecl.source.checked is not None and "17 Oct 2020" in ecl.source.notes
    assert any("penalties" in u.fact for u in ecl.source.unverified)


def test_digest_is_sha256_of_the_rfc8785_canonical_json(us: RulePack) -> None:
    expected = hashlib.sha256(rfc8785.dumps(us.as_json())).hexdigest()
    assert us.digest == f"sha256:{expected}"


def test_digest_does_not_depend_on_key_order_or_whitespace(us: RulePack) -> None:
    data = us.as_json()
    shuffled = json.dumps(dict(reversed(list(data.items()))), indent=4, ensure_ascii=True)
    assert load_pack(shuffled).digest == us.digest
    assert load_pack(json.dumps(data, separators=(",", ":"))).digest == us.digest
    assert load_pack(data).digest == us.digest  # a dict works as well as text


def test_digest_changes_when_a_threshold_changes(us: RulePack) -> None:
    data = copy.deepcopy(us.as_json())
    clause = next(c for c in data["clauses"] if c["id"] == "3A090.a.1")
    clause["condition"]["value"] = 4801
    assert load_pack(data).digest != us.digest


def test_builtin_packs_validate_against_the_json_schema(us: RulePack, cn: RulePack) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = pack_json_schema()
    for pack in (us, cn):
        jsonschema.validate(pack.as_json(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"regime": "us-ear"}, schema)


def _pack(**clause: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "X.1",
        "version": "1",
        "kind": "control",
        "entry": "X",
        "title": "a test control",
        "applies_to": ["integrated-circuit"],
        "condition": {"param": "tpp", "op": ">=", "value": 100},
        "effective": "2024-01-01",
        "status": [{"status": "in-force", "since": "2024-01-01"}],
        "source": {"citation": "test"},
    }
    return {"regime": "party-x", "version": "1", "title": "a party's pack", "clauses": [base | clause]}


def test_a_partys_own_pack_loads_and_classifies() -> None:
    pack = load_pack(_pack())
    result = classify(Item("chip", dense=((50, 8),)), [pack], date(2024, 6, 1))
    assert result.entries == {"party-x": ("X",)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"condition": {"param": "tpp", "op": "is", "value": True}}, "op must be"),
        ({"condition": {"param": "datacenter", "op": ">=", "value": 1}}, "yes/no"),
        ({"condition": {"param": "watts", "op": ">=", "value": 1}}, "param"),
        ({"condition": {"param": "tpp", "op": ">=", "value": -1}}, "finite number"),
        ({"condition": {"param": "tpp", "op": ">=", "value": 1, "all": []}}, "condition"),
        ({"condition": {"meets": "Y"}}, "meets Y"),
        ({"condition": {"param": "technology", "op": "has", "value": "telepathy"}}, "tag 'telepathy'"),
        ({"status": [{"status": "in-force", "since": "2023-01-01"}]}, "effective date"),
        (
            {"status": [{"status": "in-force", "since": "2024-01-01"}, {"status": "rescinded", "since": "2023-01-01"}]},
            "date order",
        ),
        ({"status": [{"status": "repealed", "since": "2024-01-01"}]}, "status"),
        ({"until": "2023-01-01"}, "not after effective"),
        ({"entry": None}, "a control needs entry"),
        ({"kind": "exclusion", "excludes": []}, "an exclusion needs excludes"),
        ({"yields_to": ["Z"]}, "names entry Z"),
        ({"legal_basis": ["LAW"]}, "legal basis LAW"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_a_bad_pack_is_refused_with_a_hint(change: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedRecord, match=message) as info:
        load_pack(_pack(**change))
    assert isinstance(info.value, MalformedError)
    assert info.value.hint and "rules --schema" in info.value.hint


def test_overlapping_versions_of_a_clause_are_refused() -> None:
    data = _pack()
    second = data["clauses"][0] | {"version": "2", "effective": "2024-06-01"}
    second["status"] = [{"status": "in-force", "since": "2024-06-01"}]
    data["clauses"].append(second)
    with pytest.raises(MalformedRecord, match="overlap"):
        load_pack(data)
    data["clauses"][0]["until"] = "2024-06-01"
    assert len(load_pack(data).in_effect(date(2024, 7, 1))) == 1


def test_pack_text_that_is_not_json_or_not_an_object_is_refused() -> None:
    with pytest.raises(MalformedJSON):
        load_pack("{not json")
    with pytest.raises(MalformedRecord, match="not a JSON object"):
        load_pack("[1, 2]")
    with pytest.raises(MalformedRecord, match="regime"):
        load_pack(_pack() | {"regime": "US EAR"})


def test_unknown_builtin_regime() -> None:
    with pytest.raises(MalformedRecord, match="no built-in rule pack") as info:
        builtin_pack("eu-dual-use")
    assert info.value.hint == "built-in regimes: cn-ecl, us-ear"


# --- China: technologies classified by tags --------------------------------------------------


def tech(*tags: str) -> Item:
    return Item("a technology", technology=tags)


def test_speech_synthesis_is_a_restricted_catalogue_technology_since_august_2020(cn: RulePack) -> None:
    before = classify(tech("speech-synthesis"), [cn], date(2020, 8, 27))
    after = classify(tech("speech-synthesis"), [cn], date(2020, 8, 28))
    assert before.regime("cn-ecl").controls == ()
    assert after.entries == {"cn-ecl": ("086501X",)}
    assert [b.id for b in after.regime("cn-ecl").legal_basis] == ["TECH-CATALOGUE"]


def test_the_recommendation_item_was_refined_in_december_2023(cn: RulePack) -> None:
    generic = tech("personalized-push")
    assert classify(generic, [cn], date(2021, 1, 1)).entries["cn-ecl"] == ("086501X",)
    later = classify(generic, [cn], date(2024, 1, 1))
    assert later.entries["cn-ecl"] == ()
    assert later.result("086501X/personalized-push").clause.version == "2023"
    specific = classify(tech("preference-content-matching"), [cn], date(2024, 1, 1))
    assert specific.entries["cn-ecl"] == ("086501X",)


def test_an_unknown_technology_tag_is_refused_with_the_known_ones(cn: RulePack, us: RulePack) -> None:
    with pytest.raises(MalformedRecord, match="unknown technology tag 'telepathy'") as info:
        classify(tech("telepathy"), [cn], date(2024, 1, 1))
    assert info.value.hint and "speech-synthesis" in info.value.hint
    with pytest.raises(MalformedRecord, match="unknown technology tag"):
        classify(tech("speech-synthesis"), [us], date(2024, 1, 1))


def test_chips_are_outside_chinas_pack_and_technologies_outside_the_us_pack(cn: RulePack, us: RulePack) -> None:
    chip = classify(Item("chip", dense=((1979, 8),), datacenter=True), [us, cn], date(2024, 1, 1))
    assert chip.entries["cn-ecl"] == ()
    assert chip.regime("cn-ecl").verdict() == "no clause of this pack applies to this kind of item"
    both = classify(tech("speech-synthesis"), [cn, us], date(2024, 1, 1))
    assert both.entries == {"cn-ecl": ("086501X",), "us-ear": ()}
