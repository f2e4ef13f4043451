"""``detente eval run`` offline prints each pass criterion with the interval bound it was judged on,
and the Bonferroni adjustment of a ``min_*`` metric."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.cli.app import main
from detente.crypto.keys import Ed25519Identity
from detente.node.keyfile import write_identity

pytest.importorskip("vaderSentiment", reason="the evals extra is not installed")


def test_an_offline_run_prints_the_bound_each_criterion_was_judged_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    key_file = write_identity(Ed25519Identity.generate("us.example/log"), tmp_path / "party.key")
    code = main(["eval", "run", "en-sentiment-consistency", "vader", "--key", str(key_file)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    # VADER keeps 74 of 120 labels under its worst attack (0.617), but the lower bound simultaneous
    # over the ten attacks is below 0.5: the criterion fails on the bound, not the value
    assert "min_consistency >= 0.5" in printed and "FAIL" in printed
    assert "judged on wilson-95-lower: 0.4" in printed
    assert "(Bonferroni ×10)" in printed
    assert "FAILED; samples root sha256:" in printed
