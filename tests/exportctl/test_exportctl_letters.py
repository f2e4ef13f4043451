"""Licence requirements set by letters to individual companies ("is-informed" letters) as dated
data beside the rule packs, shown in every classification they bear on; the reminder every answer
carries; and the conditions of the January 2026 case-by-case policy as data.

Sources (each test quotes the sentence it relies on):

- NVIDIA Form 8-K filed 31 Aug 2022, as quoted by Shacknews/ITPro [S]: "On August 26, 2022, the
  U.S. government ... has imposed a new license requirement, effective immediately, for any future
  export to China (including Hong Kong) and Russia of the Company's A100 and forthcoming H100
  integrated circuits."
- NVIDIA Form 8-K filed 24 Oct 2023 [MEM, not re-verified]: on 23 Oct 2023 the USG said the
  Oct 2023 rule's licensing requirements were effective immediately for the A100, A800, H100,
  H800 and L40S.
- NVIDIA Form 8-K filed 15 Apr 2025, as quoted by Tom's Hardware [S]: "On April 9, 2025, the U.S.
  government informed Nvidia that the USG requires a license for export to China (including Hong
  Kong and Macau) and D:5 countries [...] of the company's H20".
- 91 FR 1684 (FR Doc 2026-00789, 15 Jan 2026), summary [M]: case-by-case review "provided that
  (1) the semiconductors are commercially available in the United States at the time of
  publication of this rule and (2) the exporter certifies that: there is sufficient supply ...;
  production ... will not divert global foundry capacity ...; the recipient has demonstrated
  sufficient security procedures; and the item undergoes independent, third-party testing in the
  United States".
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from exportctl_helpers import ic, us_result
from pydantic import ValidationError
from test_exportctl_cli import as_json, run

from detente.errors import MalformedRecord
from detente.exportctl import builtin_packs, classify, lookup
from detente.exportctl.classify import REMINDER, Classification
from detente.exportctl.letters import ADDRESSEE_ONLY, Reach, letters, letters_for
from detente.exportctl.rules import Requirement

POLICY = "742.6(b)(10)(iii)(A)(1)"


def chip(name: str, on: date, destination: str | None = None) -> Classification:
    return classify(lookup(name).item(), builtin_packs(), on, destination=destination)


def letter_ids(result: Classification) -> list[str]:
    return [m.letter.id for m in result.letters]


# --- 1. is-informed letters ------------------------------------------------------------------


def test_h20_in_june_2025_names_the_april_2025_letter_with_source_and_caveat() -> None:
    """NVIDIA 8-K, 15 Apr 2025 [S]: "On April 9, 2025, the U.S. government informed Nvidia that the
    USG requires a license for export to China (including Hong Kong and Macau) and D:5 countries
    [...] of the company's H20". The H20 is below every 3A090 threshold (TPP 2,368, PD 2.91), so
    the answer must not stop at "no clause matched"."""
    result = chip("H20", date(2025, 6, 1))
    assert result.entries["us-ear"] == ()
    assert letter_ids(result) == ["BIS-2025-04-NVIDIA-H20"]
    verdict = result.regime("us-ear").verdict()
    assert verdict.startswith("no clause of this pack matched, but licence required by is-informed letter")
    assert "BIS-2025-04-NVIDIA-H20" in verdict and "binds only its addressee" in verdict
    text = result.as_text()
    assert "NVIDIA Corp., Form 8-K, filed 15 Apr 2025" in text
    assert f"binds: {ADDRESSEE_ONLY}" in text
    assert "UNVERIFIED: secondary source only [S]" in text  # the filing was read only as quoted
    (letter,) = result.as_dict()["regimes"][1]["is_informed_letters"]  # type: ignore[index]
    assert letter["binds"] == ADDRESSEE_ONLY and letter["verified"] is False
    assert letter["sources"][0]["filed"] == "2025-04-15" and letter["sources"][0]["quality"] == "S"


def test_the_h20_letter_is_dated() -> None:
    """NVIDIA 8-K, 15 Apr 2025 [S]: the USG informed NVIDIA "On April 9, 2025" — not before."""
    assert letter_ids(chip("H20", date(2025, 4, 8))) == []
    assert letter_ids(chip("H20", date(2025, 4, 9))) == ["BIS-2025-04-NVIDIA-H20"]


def test_a_letter_names_whole_products_not_prefixes() -> None:
    """The Apr 2025 letter names the "H20"; the H200 (3A090.a) is a different product, and the
    Aug 2022 letter names AMD's "MI250", not the MI250X."""
    assert "BIS-2025-04-NVIDIA-H20" not in letter_ids(chip("H200", date(2026, 6, 1)))
    assert letter_ids(chip("MI250X", date(2022, 9, 1))) == []


def test_the_august_2022_letters_by_destination() -> None:
    """NVIDIA 8-K, 31 Aug 2022 [S]: "a new license requirement, effective immediately, for any
    future export to China (including Hong Kong) and Russia of the Company's A100 and forthcoming
    H100 integrated circuits." Hong Kong is named; the United States is not."""
    to_hk = chip("A100", date(2022, 9, 1), "HK")
    assert letter_ids(to_hk) == ["BIS-2022-08-NVIDIA"] and to_hk.letters[0].reach == Reach.NAMED
    assert "BIS-2022-08-NVIDIA" in to_hk.regime("us-ear").verdict()  # no control in effect yet (rule of 7 Oct 2022)
    assert letter_ids(chip("A100", date(2022, 9, 1), "US")) == []
    assert letter_ids(chip("A100", date(2022, 8, 25))) == []


def test_a_destination_the_letter_covers_only_by_group_is_to_be_checked() -> None:
    """NVIDIA 8-K, 15 Apr 2025 [S]: the licence is required for "D:5 countries, or to companies
    headquartered or with an ultimate parent therein": detente cannot tell from a country code
    alone, so it says the letter may apply."""
    (match,) = chip("H20", date(2025, 6, 1), "US").letters
    assert match.reach == Reach.CHECK
    assert (
        "licence may be required (check the destination)"
        in chip("H20", date(2025, 6, 1), "US").regime("us-ear").verdict()
    )
    with pytest.raises(MalformedRecord):
        letters_for("NVIDIA H20", date(2025, 6, 1), "China")


def test_the_october_2023_acceleration_caught_the_a800_before_the_rule_took_effect() -> None:
    """NVIDIA 8-K, 24 Oct 2023 [MEM]: on 23 Oct 2023 the USG said the Oct 2023 rule's licensing
    requirements were effective immediately for the "A100, A800, H100, H800, and L40S". The A800
    escaped the Oct 2022 rule (400 GB/s interconnect, below its 600 GB/s test) and is 3A090.a from
    17 Nov 2023; between the two, NVIDIA needed a licence by that notice. It is from memory: every
    answer relying on it says so."""
    before = chip("A800", date(2023, 10, 22))
    assert before.entries["us-ear"] == () and letter_ids(before) == []
    between = chip("A800", date(2023, 11, 16))
    assert between.entries["us-ear"] == () and letter_ids(between) == ["BIS-2023-10-NVIDIA-acceleration"]
    assert "[UNVERIFIED]" in between.regime("us-ear").verdict()
    assert "UNVERIFIED: from memory, not re-verified [MEM]" in between.as_text()
    after = chip("A800", date(2024, 1, 1))
    assert after.entries["us-ear"] == ("3A090.a",) and letter_ids(after) == []


def test_every_letter_cites_a_dated_source_and_none_claims_verification_it_lacks() -> None:
    """Each letter's facts come from the addressee's disclosure (an SEC filing) or a report of it,
    dated and quality-marked; only a primary text read ([M]) counts as verified."""
    assert {letter.id for letter in letters()} >= {
        "BIS-2022-08-NVIDIA",
        "BIS-2022-08-AMD",
        "BIS-2023-10-NVIDIA-acceleration",
        "BIS-2025-04-NVIDIA-H20",
    }
    for letter in letters():
        assert letter.sources and all(s.filed and s.citation and s.quote for s in letter.sources)
        assert letter.verified == any(s.quality == "M" for s in letter.sources)
        assert not letter.verified  # none read in the primary text yet: the answer must say so


def test_cli_classify_h20_names_the_letter(capsys) -> None:
    """``detente exportctl classify H20 --as-of 2025-06-01``: the April 2025 requirement (NVIDIA
    8-K, 15 Apr 2025 [S]), its source and the addressee-only caveat, in text and JSON."""
    code, out, _ = run(capsys, "classify", "H20", "--as-of", "2025-06-01", "--regime", "us-ear")
    assert code == 0
    assert "Result: no clause of this pack matched, but licence required by is-informed letter" in out
    assert "BIS-2025-04-NVIDIA-H20" in out and "Form 8-K, filed 15 Apr 2025" in out and ADDRESSEE_ONLY in out
    data = as_json(capsys, "classify", "H20", "--as-of", "2025-06-01", "--regime", "us-ear", "--destination", "CN")
    (letter,) = data["regimes"][0]["is_informed_letters"]
    assert letter["id"] == "BIS-2025-04-NVIDIA-H20" and letter["reach"] == "named" and data["destination"] == "CN"


# --- 2. the reminder ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["H100 SXM5", "H20", "RTX 4090D", "Gaudi 3"])
def test_every_answer_reminds_of_other_rules_and_that_the_text_is_authoritative(name: str) -> None:
    """Whatever the classification, end-use, end-user, Entity List and foreign-direct-product rules
    may still apply, and the rule text, not detente, is authoritative — in English and Chinese."""
    result = chip(name, date(2026, 6, 1))
    for lang, words in (
        ("en", ("end-use", "end-user", "Entity List", "foreign-direct-product", "rule text, not detente")),
        ("zh", ("最终用途", "最终用户", "实体清单", "外国直接产品", "以法规原文为准")),
    ):
        assert all(w in REMINDER[lang] for w in words)
        assert REMINDER[lang] in result.as_text()
    assert result.as_dict()["reminder"] == REMINDER


def test_the_cli_json_answer_carries_the_reminder(capsys) -> None:
    data = as_json(capsys, "classify", "--dense-tops", "600@8", "--as-of", "2026-06-01")
    assert data["reminder"] == REMINDER


# --- 3. the January 2026 case-by-case policy ---------------------------------------------------


def test_the_january_2026_policy_carries_its_conditions_with_sources(us) -> None:  # type: ignore[no-untyped-def]
    """91 FR 1684 (15 Jan 2026), summary [M]: "commercially available in the United States ...
    sufficient supply ... will not divert global foundry capacity ... sufficient security procedures
    ... independent, third-party testing in the United States". The 50 percent aggregate cap, the
    remote-access know-your-customer duty and the end-use/end-user certification were seen only in
    a secondary summary (ST&R, Jan 2026) and are marked unverified."""
    (policy,) = [c for c in us.clauses if c.id == POLICY]
    reqs = {r.id: r for r in policy.requirements or ()}
    verified = {
        "commercially-available-in-us",
        "sufficient-us-supply",
        "no-foundry-diversion",
        "security-procedures",
        "third-party-testing-in-us",
    }
    unverified = {"aggregate-shipment-cap", "remote-access-kyc", "not-prohibited-end-use"}
    assert set(reqs) == verified | unverified
    for ident in verified:
        assert reqs[ident].verified and reqs[ident].quality == "M" and "91 FR 1684" in reqs[ident].citation
    for ident in unverified:
        assert not reqs[ident].verified and reqs[ident].quality == "S" and reqs[ident].quote
    assert "50 percent" in reqs["aggregate-shipment-cap"].text


def test_the_policy_answer_shows_each_condition_and_marks_the_unverified() -> None:
    """The H200 (TPP 15,832, 4,800 GB/s) is inside the 91 FR 1684 band; the answer lists every
    condition, and the ones from a secondary source say UNVERIFIED."""
    result = us_result(lookup("H200").item(), date(2026, 6, 1))
    text = result.as_text()
    assert "condition: The item undergoes independent, third-party testing in the United States" in text
    assert "condition: Aggregate shipments to China and Macau are no more than 50 percent" in text
    assert "[UNVERIFIED, S: ST&R Trade Report" in text
    assert "[M: 91 FR 1684, 1685 (summary)" in text
    (band,) = result.as_dict()["regimes"][0]["licensing_policies"]  # type: ignore[index]
    marks = {r["id"]: r["mark"] for r in band["requirements"]}
    assert marks["aggregate-shipment-cap"] == "UNVERIFIED"
    assert marks["third-party-testing-in-us"] == "verified against the primary text"


def test_a_requirement_from_a_secondary_source_cannot_be_marked_verified() -> None:
    with pytest.raises(ValidationError):
        Requirement(id="cap", text="a cap", citation="a law-firm note", quality="S", verified=True)


def test_figures_without_a_name_match_no_letter() -> None:
    """Letters name products; an unnamed set of figures (even the H20's) gets none, and the
    answer still carries the reminder."""
    result = us_result(ic(2368, 814), date(2025, 6, 1))
    assert result.letters == () and json.dumps(result.as_dict())
    assert REMINDER["en"] in result.as_text()
