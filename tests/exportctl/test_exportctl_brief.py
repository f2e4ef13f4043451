"""The one-line summary the demo prints: the H20 as of 2025-06-01 is under no 3A090 entry, but the
April 2025 is-informed letter requires NVIDIA to obtain a licence (NVIDIA Form 8-K filed 15 Apr
2025, as quoted by Tom's Hardware [S]); the answer relies on unverified facts and says how many."""

from __future__ import annotations

from datetime import date

import pytest

from detente.exportctl import builtin_pack, classify, lookup
from detente.exportctl.brief import one_line


def test_h20_line_names_the_april_2025_letter_and_the_unverified_count() -> None:
    answer = classify(lookup("H20").item(), [builtin_pack("us-ear")], date(2025, 6, 1)).as_dict()
    line = one_line(answer, "us-ear")
    assert line.startswith("no clause of this pack matched, but licence required by is-informed letter")
    assert "BIS-2025-04-NVIDIA-H20 to NVIDIA Corporation" in line and "binds only its addressee" in line
    assert line.endswith(f"— relies on {len(answer['unverified'])} unverified fact(s)")  # type: ignore[arg-type]


def test_a800_before_and_after_the_october_2023_rule() -> None:
    before = classify(lookup("A800").item(), [builtin_pack("us-ear")], date(2023, 6, 1)).as_dict()
    after = classify(lookup("A800").item(), [builtin_pack("us-ear")], date(2024, 1, 1)).as_dict()
    assert one_line(before, "us-ear").startswith("no clause of this pack matched")
    assert one_line(after, "us-ear").startswith("3A090.a (3A090.a.1, 3A090.a.2)")


def test_a_regime_the_answer_lacks_is_a_key_error() -> None:
    answer = classify(lookup("H20").item(), [builtin_pack("us-ear")], date(2025, 6, 1)).as_dict()
    with pytest.raises(KeyError):
        one_line(answer, "cn-ecl")
