"""The detente CLI end to end: real files, real SQLite, the installed console script."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from detente.cli.app import main

VECTORS = Path(__file__).parent.parent / "vectors"
SUMDB_KEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sumdb_note(tmp_path: Path) -> Path:
    note = json.loads((VECTORS / "notes" / "sumdb-6476701.json").read_text())["note"]
    path = tmp_path / "checkpoint"
    path.write_text(note)
    return path


def test_note_verify_prints_text_and_verifying_keys(capsys, sumdb_note: Path) -> None:
    code, out, err = run(capsys, "note", "verify", "--key", SUMDB_KEY, str(sumdb_note))
    assert code == 0
    assert out.startswith("go.sum database tree\n6476701\n")
    assert "verified by sum.golang.org" in err


def test_note_verify_json(capsys, sumdb_note: Path) -> None:
    code, out, _ = run(capsys, "note", "verify", "--json", "--key", SUMDB_KEY, str(sumdb_note))
    assert code == 0
    assert json.loads(out)["verified"] == ["sum.golang.org"]


def test_note_verify_with_an_unrelated_key_exits_1_with_a_hint(capsys, sumdb_note: Path) -> None:
    code, out, err = run(
        capsys,
        "note",
        "verify",
        "--key",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        str(sumdb_note),
    )
    assert code == 1
    assert out == ""
    assert err.startswith("detente: error: no signature on the note is from a trusted key")
    assert "detente: hint:" in err
    assert "Traceback" not in err


def test_note_verify_tampered_note_fails(capsys, sumdb_note: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text(sumdb_note.read_text().replace("6476701", "6476702"))
    code, _, err = run(capsys, "note", "verify", "--key", SUMDB_KEY, str(bad))
    assert code == 1
    assert "does not verify" in err


def test_malformed_key_exits_2(capsys, sumdb_note: Path) -> None:
    code, _, err = run(capsys, "note", "verify", "--key", "not-a-key", str(sumdb_note))
    assert code == 2
    assert "detente: error:" in err and "detente: hint:" in err


@pytest.mark.parametrize(
    ("kind", "vector", "expected"),
    [
        ("inclusion", "inclusion/1/happy-path.json", 0),
        ("inclusion", "inclusion/1/modified-proof[1]-bit-@3.json", 1),
        ("inclusion", "inclusion/1/wrong-leaf.json", 2),  # a 9-byte "hash" is malformed input
        ("consistency", "consistency/1/happy-path.json", 0),
        ("consistency", "consistency/1/modified-proof@1-bit-@4.json", 1),
    ],
)
def test_tlog_verify_reads_transparency_dev_vectors(capsys, kind: str, vector: str, expected: int) -> None:
    path = VECTORS / "merkle" / vector
    code, _, _ = run(capsys, "tlog", f"verify-{kind}", "--file", str(path))
    assert code == expected


def test_tlog_verify_inclusion_from_flags(capsys) -> None:
    # RFC 6962 8-leaf data set: leaf 0 of 8 (transparency-dev/merkle inclusion/1/happy-path)
    code, out, _ = run(
        capsys,
        "tlog",
        "verify-inclusion",
        "--index",
        "0",
        "--size",
        "8",
        "--root",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        "--leaf-hash",
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "-p",
        "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
        "-p",
        "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
        "-p",
        "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
    )
    assert code == 0, out
    assert "inclusion verified" in out


def test_tlog_bad_hash_is_a_malformed_input(capsys) -> None:
    code, _, err = run(
        capsys,
        "tlog",
        "verify-consistency",
        "--size1",
        "1",
        "--size2",
        "2",
        "--root1",
        "zzz",
        "--root2",
        "zzz",
    )
    assert code == 2
    assert "detente: error: root1 is not valid base64" in err


def test_party_log_workflow(capsys, tmp_path: Path) -> None:
    key = tmp_path / "party.key"
    db = str(tmp_path / "log.db")
    code, out, _ = run(capsys, "key", "generate", "aisi.example/log", "--out", str(key))
    assert code == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    vkey = out.split("log vkey:")[1].split()[0]

    code, out, _ = run(capsys, "log", "init", "--store", db, "--key", str(key))
    assert code == 0 and out.startswith("aisi.example/log\n0\n")
    for i in range(3):
        code, out, _ = run(
            capsys,
            "log",
            "append",
            f"notice {i}",
            "--store",
            db,
            "--key",
            str(key),
            "--type",
            "detente.dev/statement/v1",
            "-t",
            f"zh-Hans=通知 {i}",
            "--body",
            json.dumps({"window": "2026-12-01T00:00Z/PT6H"}),
        )
        assert code == 0
        assert json.loads(out)["index"] == i

    code, out, _ = run(capsys, "log", "prove", "--index", "1", "--store", db, "--vkey", vkey)
    assert code == 0
    proof = tmp_path / "proof.json"
    proof.write_text(out)
    code, out, _ = run(capsys, "tlog", "verify-inclusion", "--file", str(proof))
    assert code == 0

    code, out, _ = run(capsys, "log", "prove-consistency", "--old-size", "1", "--store", db, "--vkey", vkey)
    assert code == 0
    proof.write_text(out)
    code, out, _ = run(capsys, "tlog", "verify-consistency", "--file", str(proof))
    assert code == 0 and "size 1 is a prefix of size 3" in out

    code, out, _ = run(capsys, "log", "show", "2", "--store", db, "--vkey", vkey)
    assert code == 0
    record = json.loads(out)
    assert record["text"]["translations"] == {"zh-Hans": "通知 2"}
    assert record["party"] == "aisi.example/log"

    code, out, _ = run(capsys, "log", "audit", "--store", db, "--vkey", vkey)
    assert code == 0
    assert json.loads(out) == {**json.loads(out), "size": 3, "records_verified": 3, "ok": True}

    checkpoint = tmp_path / "cp"
    code, out, _ = run(capsys, "log", "checkpoint", "--store", db, "--key", str(key))
    checkpoint.write_text(out)
    code, out, _ = run(capsys, "note", "verify", "--key", vkey, str(checkpoint))
    assert code == 0 and out.startswith("aisi.example/log\n3\n")


def test_bad_input_is_refused_and_nothing_is_written(capsys, tmp_path: Path) -> None:
    key = tmp_path / "party.key"
    db = str(tmp_path / "log.db")
    run(capsys, "key", "generate", "aisi.example/log", "--out", str(key))
    run(capsys, "log", "init", "--store", db, "--key", str(key))
    code, _, err = run(capsys, "log", "append", "x", "--store", db, "--key", str(key), "--body", "[1]")
    assert code == 2 and "--body must be a JSON object" in err
    code, _, err = run(capsys, "log", "append", "x", "--store", db, "--key", str(key), "--lang", "English")
    assert code == 2 and "BCP 47" in err
    code, _, err = run(
        capsys, "log", "append", "x", "--store", db, "--key", str(key), "--type", "detente.dev/statment/v1"
    )
    assert code == 2 and "not a record type" in err and "did you mean detente.dev/statement/v1?" in err
    code, out, _ = run(capsys, "log", "checkpoint", "--store", db, "--key", str(key))
    assert out.splitlines()[1] == "0"


def test_key_files_are_never_overwritten_and_must_be_private(capsys, tmp_path: Path) -> None:
    key = tmp_path / "party.key"
    assert run(capsys, "key", "generate", "a.example/log", "--out", str(key))[0] == 0
    before = key.read_bytes()
    code, _, err = run(capsys, "key", "generate", "a.example/log", "--out", str(key))
    assert code == 3 and "already exists" in err
    assert key.read_bytes() == before
    os.chmod(key, 0o644)
    code, _, err = run(capsys, "key", "show", str(key))
    assert code == 3 and "chmod 600" in err


def test_missing_store_gives_a_hint(capsys, tmp_path: Path) -> None:
    code, _, err = run(
        capsys,
        "log",
        "checkpoint",
        "--store",
        str(tmp_path / "none.db"),
        "--vkey",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    )
    assert code == 3
    assert "detente: hint:" in err


def test_console_script_runs_the_demo(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("detente")
    proc = subprocess.run(
        [str(exe), "demo", "--dir", str(tmp_path / "demo"), "--records", "4"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "demo ok" in proc.stdout
    refs = int(proc.stdout.split("cross-log references resolved to their exact leaves: ")[1].split()[0])
    assert refs >= 4 + 3  # the replies, plus receipts and acknowledgements of the protocol flow
    for line in ("pre-test notification", "answered", "FLASH", "deadline missed: recorded in both logs"):
        assert line in proc.stdout
    for name in ("us", "cn", "audit"):
        assert (tmp_path / "demo" / name / "detente.db").exists()
    state = json.loads((tmp_path / "demo" / "audit-state.json").read_text())
    assert len(state) == 2 and all(v["size"] >= 4 for v in state.values())


def test_notice_send_asks_for_recipients_only_for_addressed_types(capsys, tmp_path: Path) -> None:
    # hotline messages are addressed: without --to the CLI says how to name the recipients
    code, _, err = run(capsys, "notice", "send", "hotline-message", "--text", "x", "-n", str(tmp_path))
    assert code == 2 and "names its recipients" in err and "detente: hint: add --to" in err
    # a withheld notice is not addressed (records.catalogue): the CLI goes on to the node (none here)
    code, _, err = run(capsys, "notice", "send", "withheld-notification", "--text", "x", "-n", str(tmp_path))
    assert "--to" not in err and "recipients" not in err and "detente.toml" in err
