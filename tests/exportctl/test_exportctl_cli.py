"""``detente exportctl …`` through typer's CliRunner; errors rendered the way ``detente.cli.app``
renders them (``detente: error:`` / ``detente: hint:`` and the exit code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from detente.cli.exportctl import exportctl_app
from detente.cli.render import render_error
from detente.errors import DetenteError
from detente.exportctl import builtin_pack


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Invoke like ``detente exportctl ARGS``: a DetenteError goes through the CLI's renderer."""
    result = CliRunner().invoke(exportctl_app, list(args))
    if isinstance(result.exception, DetenteError):
        code = render_error(result.exception, as_json="--json" in args)
        return code, result.stdout, capsys.readouterr().err
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, ""


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_classify_a_catalogue_name_as_json(capsys) -> None:
    data = as_json(capsys, "classify", "H100 SXM5", "--as-of", "2026-06-01", "--regime", "us-ear")
    assert data["entries"] == {"us-ear": ["3A090.a"]}
    assert data["figures"]["tpp"] == 15832
    assert data["figures"]["performance_density"] == pytest.approx(15832 / 814)
    (regime,) = data["regimes"]
    assert regime["pack_digest"] == builtin_pack("us-ear").digest
    a1 = next(c for c in regime["clauses"] if c["id"] == "3A090.a.1")
    assert a1["outcome"] == "matched" and a1["effective"] == "2023-11-17" and a1["version"] == "2023-10"
    assert a1["tests"] == [
        {"result": "yes", "parameter": "tpp", "comparator": ">=", "threshold": 4800.0, "actual": 15832.0,
         "margin": pytest.approx(15832 / 4800 - 1), "near": False}
    ]  # fmt: skip
    assert a1["source"]["citation"] == "88 FR 73458"
    (band,) = regime["licensing_policies"]
    assert band["outcome"] == "matched"


def test_classify_figures_as_text(capsys) -> None:
    code, out, _ = run(
        capsys, "classify", "--dense-tops", "296@8", "--dense-tops", "148@16", "--die-area", "814",
        "--datacenter", "--as-of", "2025-06-01", "--regime", "us-ear",
    )  # fmt: skip
    assert code == 0
    assert out.startswith("Classification of unnamed item (integrated-circuit) as of 2025-06-01\n")
    assert "TPP = 2,368  (dense TOPS × bit length, highest of: 296 × 8 = 2,368; 148 × 16 = 2,368)" in out
    assert "performance density = 2,368 / 814 mm² = 2.909" in out
    assert "Result: no clause of this pack matched" in out
    assert "Nearly matched (within 10%)" in out and "TPP 2,368 >= 2,400 → no (1.3% below the threshold)" in out


def test_classify_a_label_with_figures_and_the_not_datacenter_switch(capsys) -> None:
    data = as_json(
        capsys, "classify", "my card", "--dense-tops", "588.35@8", "--die-area", "608.5", "--not-datacenter",
        "--as-of", "2026-06-01", "--regime", "us-ear",
    )  # fmt: skip
    assert data["item"]["name"] == "my card" and data["item"]["datacenter"] is False
    assert data["entries"] == {"us-ear": []}
    assert data["regimes"][0]["exclusions"][0]["outcome"] == "matched"


def test_classify_a_catalogue_name_with_a_figure_overridden(capsys) -> None:
    data = as_json(capsys, "classify", "A800", "--io-bandwidth", "600", "--as-of", "2023-01-01", "--regime", "us-ear")
    assert data["item"]["name"] == "NVIDIA A800 80GB"
    assert data["entries"] == {"us-ear": ["3A090.a"]}


def test_classify_as_of_changes_the_answer(capsys) -> None:
    before = as_json(capsys, "classify", "A800", "--as-of", "2023-11-16", "--regime", "us-ear")
    after = as_json(capsys, "classify", "A800", "--as-of", "2023-11-17", "--regime", "us-ear")
    assert before["entries"] == {"us-ear": []} and after["entries"] == {"us-ear": ["3A090.a"]}


def test_classify_model_weights_and_hbm(capsys) -> None:
    weights = as_json(capsys, "classify", "--training-ops", "2e26", "--unpublished-weights", "--as-of", "2025-06-01")
    us = next(r for r in weights["regimes"] if r["regime"] == "us-ear")
    assert us["entries"] == ["4E091"] and us["enforced_entries"] == []
    assert us["clauses"][0]["status"] == "not-enforced"
    memory = as_json(capsys, "classify", "--hbm-bandwidth", "1229", "--hbm-area", "110", "--regime", "us-ear")
    assert memory["item"]["kind"] == "memory" and memory["entries"] == {"us-ear": ["3A090.c"]}


def test_classify_a_technology(capsys) -> None:
    data = as_json(
        capsys, "classify", "--technology", "speech-synthesis", "--as-of", "2024-01-01", "--regime", "cn-ecl"
    )
    assert data["entries"] == {"cn-ecl": ["086501X"]}


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (["classify", "--dense-tops", "lots@8"], "detente: error: 'lots@8' is not VALUE@BITS", "--dense-tops 1979@8"),
        (["classify", "--dense-tops", "100@0"], "bit length 0 is impossible", "operand width"),
        (["classify", "--dense-tops", "100@8", "--die-area", "-1"], "applicable die area -1 is impossible", "mm²"),
        (["classify", "H100"], "no accelerator named 'H100' in the catalogue", "NVIDIA H100 PCIe"),
        (["classify"], "nothing to classify", "catalogue name"),
        (["classify", "H20", "--as-of", "June"], "--as-of 'June' is not a date", "YYYY-MM-DD"),
        (["classify", "H20", "--regime", "eu"], "no rule pack for regime 'eu'", "cn-ecl, us-ear"),
        (["classify", "H20", "--kind", "toaster"], "unknown item kind 'toaster'", "integrated-circuit"),
        (
            ["classify", "--dense-tops", "600@8", "--regime", "us-ear", "--as-of", "2023-01-01"],
            "every clause",
            "--io-bandwidth",
        ),
        (["classify", "--technology", "telepathy"], "unknown technology tag 'telepathy'", "speech-synthesis"),
    ],
)
def test_bad_input_exits_2_with_an_error_and_a_hint(capsys, args: list[str], error: str, hint: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    first, second = err.splitlines()[:2]
    assert first.startswith("detente: error: ") and error in first
    assert second.startswith("detente: hint: ") and hint in second


def test_errors_as_json_problem_bodies(capsys) -> None:
    code, _, err = run(capsys, "classify", "--dense-tops", "1@-1", "--json")
    assert code == 2
    problem = json.loads(err)
    assert problem["exit_code"] == 2 and problem["error"]["code"] == "malformed-record"


def test_a_partys_pack_file(capsys, tmp_path: Path) -> None:
    pack = builtin_pack("us-ear").as_json()
    next(c for c in pack["clauses"] if c["id"] == "3A090.a.1")["condition"]["value"] = 20000
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack))
    data = as_json(capsys, "classify", "H100 SXM5", "--pack", str(path), "--regime", "us-ear", "--as-of", "2026-06-01")
    assert data["regimes"][0]["pack_digest"] != builtin_pack("us-ear").digest
    a1 = next(c for c in data["regimes"][0]["clauses"] if c["id"] == "3A090.a.1")
    assert a1["outcome"] == "not-matched"  # the party's threshold: 15,832 is 20.8 % below 20,000
    path.write_text("{")
    code, _, err = run(capsys, "rules", "--pack", str(path))
    assert code == 2 and "is not valid JSON" in err


def test_rules_as_of_a_date(capsys) -> None:
    data = as_json(capsys, "rules", "--as-of", "2025-06-01", "--regime", "us-ear")
    by_id = {c["id"]: c for c in data["clauses"]}
    assert by_id["4E091"]["status"] == "not-enforced" and by_id["4E091"]["status_since"] == "2025-05-13"
    assert "3A090.a" not in by_id  # the 2022 version was replaced
    assert "742.6(b)(10)(iii)(A)(1)" not in by_id  # not yet in effect
    every = as_json(capsys, "rules", "--as-of", "2025-06-01", "--regime", "us-ear", "--all")
    old = next(c for c in every["clauses"] if c["id"] == "3A090.a")
    assert old["status"] == "replaced on 2023-11-17"
    code, out, _ = run(capsys, "rules", "--as-of", "2025-06-01")
    assert code == 0 and "4E091 [2025-01, control] effective 2025-01-13, not-enforced since 2025-05-13" in out


def test_rules_schema_and_catalogue(capsys) -> None:
    code, out, _ = run(capsys, "rules", "--schema")
    assert code == 0 and json.loads(out)["title"] == "RulePack"
    entries = as_json(capsys, "catalogue")
    assert any(e["name"] == "NVIDIA H20" for e in entries)
    code, out, _ = run(capsys, "catalogue")
    assert code == 0 and "NVIDIA B200" in out
    # the H20's die area and NVLink rate are not verified against a primary source: counted, reasons in --json
    (h20,) = [line for line in out.splitlines() if "NVIDIA H20 " in line]
    assert "unverified" in out and h20.rstrip(" │|").endswith("2")
    figures = next(e for e in entries if e["name"] == "NVIDIA H20")
    assert "GH100" in figures["die_area_mm2"]["unverified"]
