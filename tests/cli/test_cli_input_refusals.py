"""Bad command-line input is refused before anything is signed, sent or written, with a typed error
and a hint (never an internal error, never a half-written key, database or output)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from detente import __version__
from detente.cli.app import main
from detente.cli.args import parse_record_ref
from detente.cli.journal import parse_since
from detente.errors import MalformedError, MalformedRecord

AVID = Path(__file__).parent.parent / "data" / "avid"
SUMDB_KEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, err: str, expected: int) -> None:
    """A typed refusal: the expected exit code, an error line and a hint line, no internal error."""
    assert "internal error" not in err, err
    assert code == expected, (code, err)
    assert "detente: error:" in err and "detente: hint:" in err, err


@pytest.fixture
def node(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """An initialised node that is not running."""
    directory = tmp_path / "n"
    assert run(capsys, "init", directory, "--name", "us", "--origin", "us.example/log")[0] == 0
    return directory


@pytest.fixture
def party_log(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Path, Path]:
    key, db = tmp_path / "k", tmp_path / "log.db"
    assert run(capsys, "key", "generate", "a.example/log", "--out", key)[0] == 0
    assert run(capsys, "log", "init", "--store", db, "--key", key)[0] == 0
    return key, db


# --- notice send: a typo is refused, never dropped from what is signed ------------------------


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What ``notice send`` would have sent to the node."""
    calls: list[object] = []
    monkeypatch.setattr("detente.cli.notices._request", lambda *a: calls.append(a))
    monkeypatch.setenv("DETENTE_TOKEN", "t")
    return calls


@pytest.mark.parametrize(
    ("option", "item", "says"),
    [
        ("-t", "zh-Hans:你好", "is not LANG=TEXT"),
        ("-t", "=你好", "is not LANG=TEXT"),
        ("-f", "=x", "is not KEY=VALUE"),
        ("-f", "severity", "is not KEY=VALUE"),
    ],
)
def test_notice_send_refuses_a_malformed_item_before_sending(
    capsys, node: Path, sent: list[object], option: str, item: str, says: str
) -> None:
    code, _, err = run(capsys, "notice", "send", "statement", "--text", "hello", option, item, "-n", node)
    refused(code, err, 2)
    assert says in err
    assert sent == []


# --- log append: a mistyped --store never becomes a new log -----------------------------------


def test_log_append_to_a_missing_store_is_refused_and_creates_nothing(capsys, party_log, tmp_path: Path) -> None:
    key, _ = party_log
    typo = tmp_path / "lgo.db"
    code, out, err = run(capsys, "log", "append", "hello", "--store", typo, "--key", key)
    refused(code, err, 3)
    assert "detente log init" in err
    assert not typo.exists() and out == ""


def test_log_append_to_a_store_without_this_log_is_refused(capsys, party_log, tmp_path: Path) -> None:
    _, db = party_log
    other = tmp_path / "other.key"
    assert run(capsys, "key", "generate", "b.example/log", "--out", other)[0] == 0
    code, out, err = run(capsys, "log", "append", "hello", "--store", db, "--key", other)
    refused(code, err, 3)
    assert "detente log init" in err and out == ""
    code, _, err = run(capsys, "log", "checkpoint", "--store", db, "--key", other)
    refused(code, err, 3)  # no log of b.example was made


def test_log_append_after_log_init_appends(capsys, party_log) -> None:
    key, db = party_log
    code, out, err = run(capsys, "log", "append", "hello", "--store", db, "--key", key)
    assert code == 0, err
    assert json.loads(out)["index"] == 0


# --- detente init: everything checked first; a failed init leaves nothing behind --------------


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--name", "US", "--name"),
        ("--name", "us\n[x]", "--name"),
        ("--public-url", "not a url", "--public-url"),
        ("--public-url", "ftp://us.example", "--public-url"),
        ("--public-url", "http://us.example:99999", "--public-url"),
        ("--public-url", "http://us.example:0", "--public-url"),  # the pin rule, shared
        ("--origin", "é.example/log", "ASCII"),
        ("--origin", "us example/log", "ASCII"),
        ("--listen", "127.0.0.1:²", "--listen"),
    ],
)
def test_init_refuses_bad_options_and_writes_nothing(
    capsys, tmp_path: Path, option: str, value: str, says: str
) -> None:
    options = {"--name": "us", "--origin": "us.example/log", option: value}
    code, _, err = run(capsys, "init", tmp_path / "n", *[x for kv in options.items() for x in kv])
    refused(code, err, 2)
    assert says in err
    assert not (tmp_path / "n").exists() or not any((tmp_path / "n").iterdir())


def test_init_with_an_unreachable_store_can_be_run_again(capsys, tmp_path: Path, monkeypatch) -> None:
    directory = tmp_path / "n"
    args = ("init", directory, "--name", "us", "--origin", "us.example/log")
    with monkeypatch.context() as patch:  # the store is tried before the key is written
        patch.setattr("detente.cli.node.write_identity", lambda *a: pytest.fail("wrote the key first"))
        code, _, err = run(capsys, *args, "--store", "postgresql://127.0.0.1:1/detente")
    refused(code, err, 3)
    assert not (directory / "party.key").exists()
    assert run(capsys, *args)[0] == 0


def test_a_failed_init_removes_what_it_wrote(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from detente.errors import StoreUnavailable

    def fail(*args: object) -> str:
        raise StoreUnavailable("disk full")

    directory = tmp_path / "n"
    args = ("init", directory, "--name", "us", "--origin", "us.example/log")
    with monkeypatch.context() as patch:
        patch.setattr("detente.cli.node.issue_token", fail)  # after the key and the log are written
        assert run(capsys, *args)[0] == 3
    assert sorted(p.name for p in directory.iterdir()) == []
    code, _, err = run(capsys, *args)
    assert code == 0, err


def test_a_failed_init_keeps_a_key_file_it_did_not_write(capsys, tmp_path: Path) -> None:
    directory = tmp_path / "n"
    directory.mkdir()
    key = directory / "party.key"
    key.write_text("PRIVATE+KEY+earlier\n")
    code, _, err = run(capsys, "init", directory, "--name", "us", "--origin", "us.example/log")
    refused(code, err, 3)
    assert key.read_text() == "PRIVATE+KEY+earlier\n"
    assert sorted(p.name for p in directory.iterdir()) == ["party.key"]  # its new database removed


# --- key files: a name the key file cannot hold, a write that fails ----------------------------


def test_key_generate_refuses_a_non_ascii_name_and_writes_nothing(capsys, tmp_path: Path) -> None:
    key = tmp_path / "k"
    code, _, err = run(capsys, "key", "generate", "é.example/log", "--out", key)
    refused(code, err, 2)
    assert "not ASCII" in err and "xn--" in err
    assert not key.exists()


def test_a_key_file_that_cannot_be_written_is_removed(capsys, tmp_path: Path, monkeypatch) -> None:
    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("detente.node.keyfile.os.fsync", fail)
    key = tmp_path / "k"
    code, _, err = run(capsys, "key", "generate", "a.example/log", "--out", key)
    refused(code, err, 3)
    assert "No space left on device" in err
    assert not key.exists()


# --- numbers out of range ---------------------------------------------------------------------


@pytest.mark.parametrize("ttl", ["-5", "0", "99999999999999999999"])
def test_token_create_refuses_a_ttl_out_of_range(capsys, node: Path, ttl: str) -> None:
    code, out, err = run(capsys, "token", "create", "--role", "viewer", "--ttl", ttl, "-n", node)
    assert code == 2 and out == "", (code, out, err)
    assert "--ttl" in err and "internal error" not in err
    assert len(run(capsys, "token", "list", "-n", node)[1].splitlines()) == 1  # only init's admin token


@pytest.mark.parametrize("chunk", ["0", "-1"])
def test_incident_import_refuses_a_chunk_out_of_range(capsys, node: Path, chunk: str) -> None:
    code, out, err = run(capsys, "incident", "import", "avid", AVID, "--chunk", chunk, "-n", node, "--token", "t")
    assert code == 2 and out == "", (code, out, err)
    assert "--chunk" in err and "internal error" not in err


# --- ORIGIN#INDEX ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["us.example/log#²", "us.example/log#١", "us.example/log#", "#5", "us", "a#1" + "0" * 20]
)
def test_parse_record_ref_refuses_anything_but_ascii_digits(text: str) -> None:
    with pytest.raises(MalformedRecord, match="is not ORIGIN#INDEX"):
        parse_record_ref(text)


def test_parse_record_ref_splits_at_the_last_hash() -> None:
    assert parse_record_ref("us.example/log#a#17") == ("us.example/log#a", 17)


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "show", "us.example/log#²"],
        ["eval", "recheck", "us.example/log#²"],
        ["eval", "compare", "us.example/log#1", "us.example/log#²"],
        ["incident", "confirm", "us.example/log#²"],
        ["ack", "us.example/log#²"],
        ["open", "us.example/log#²"],
        ["disclose", "us.example/log#²", "--out", "x"],
        ["takedown", "respond", "us.example/log#²", "--declined", "no"],
    ],
)
def test_commands_refuse_an_index_that_is_not_ascii_digits(capsys, tmp_path: Path, args: list[str]) -> None:
    code, _, err = run(capsys, *args, "-n", tmp_path, "--token", "t")
    refused(code, err, 2)
    assert "is not ORIGIN#INDEX" in err


def test_audit_refuses_a_record_index_that_is_not_ascii_digits(capsys, tmp_path: Path) -> None:
    policy = tmp_path / "policy.txt"
    policy.write_text(f"log {SUMDB_KEY} http://127.0.0.1:1\nquorum none\n")
    code, _, err = run(capsys, "audit", "--policy", policy, "--record", "sum.golang.org#²")
    refused(code, err, 2)
    assert "--record" in err


# --- outputs that cannot be written are refused before the work -------------------------------


def test_publish_refuses_an_out_folder_it_cannot_create(capsys, node: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, _, err = run(capsys, "publish", "-n", node, "--out", tmp_path / "file" / "pub")
    refused(code, err, 3)


def test_publish_refuses_an_nginx_conf_in_a_missing_folder_before_publishing(
    capsys, node: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pub"
    code, _, err = run(capsys, "publish", "-n", node, "--out", out, "--nginx-conf", tmp_path / "no" / "n.conf")
    refused(code, err, 3)
    assert "mkdir -p" in err
    assert not any(out.iterdir())  # nothing published


@pytest.fixture
def suite_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records each run of a suite instead of running it."""
    runs: list[object] = []

    def record(*args: object, **kw: object) -> None:
        runs.append(args)
        raise AssertionError("the suite ran")

    monkeypatch.setattr("detente.evals.run.run_suite", record)
    return runs


def test_eval_run_refuses_an_out_in_a_missing_folder_before_running(capsys, tmp_path: Path, suite_runs) -> None:
    key = tmp_path / "k"
    assert run(capsys, "key", "generate", "a.example/log", "--out", key)[0] == 0
    out = tmp_path / "missing" / "r.json"
    code, _, err = run(capsys, "eval", "run", "en-sentiment-consistency", "vader", "--key", key, "--out", out)
    refused(code, err, 3)
    assert suite_runs == []


def test_eval_run_reads_its_key_before_running(capsys, tmp_path: Path, suite_runs) -> None:
    code, _, err = run(capsys, "eval", "run", "en-sentiment-consistency", "vader", "--key", tmp_path / "missing.key")
    refused(code, err, 3)
    assert suite_runs == []


# --- every refusal says how to fix it ---------------------------------------------------------


@pytest.fixture
def workdir(capsys, tmp_path: Path, party_log, node: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("bad.key").write_text("garbage\n")
    os.chmod("bad.key", 0o600)
    Path("corrupt.db").write_bytes(b"not a database" * 100)
    return tmp_path


HINTED = {
    "corrupt key file": (["key", "show", "bad.key"], "detente key generate"),
    "mistyped store": (["log", "checkpoint", "--store", "lgo.db", "--key", "k"], "detente log init"),
    "empty text": (["log", "append", "", "--store", "log.db", "--key", "k"], "TEXT must not be empty"),
    "neither --key nor --vkey": (["log", "checkpoint", "--store", "log.db"], "--vkey"),
    "proof file missing": (["tlog", "verify-inclusion", "--file", "nofile"], "check the path"),
    "policy file missing": (["audit", "--policy", "nope.txt"], "check the path"),
    "unknown token id": (["token", "revoke", "nope", "-n", "n"], "detente token list"),
    "unknown peer": (["peer", "remove", "nope", "-n", "n"], "detente peer list"),
    "corrupt store": (["log", "checkpoint", "--store", "corrupt.db", "--key", "k"], "must be a detente database"),
    "store folder missing": (["log", "init", "--store", "no/such/dir/x.db", "--key", "k"], "its folder must exist"),
    "--body not JSON": (["log", "append", "x", "--body", "{oops", "--store", "log.db", "--key", "k"], "--body takes"),
}


@pytest.mark.parametrize("case", list(HINTED))
def test_each_refusal_has_a_hint(capsys, workdir: Path, case: str) -> None:
    args, hint = HINTED[case]
    code, _, err = run(capsys, *args)
    assert code in (1, 2, 3), (code, err)
    assert "detente: hint: " in err and hint in err.split("detente: hint: ", 1)[1], err


# --- usage errors read like every other refusal ------------------------------------------------


USAGE = {
    "value out of range": (["token", "create", "--ttl", "-5", "-n", "n"], "invalid value for '--ttl'", "token create"),
    "unknown option": (["log", "show", "0", "--nope"], "no such option: --nope", "log show"),
    "missing argument": (["log", "append"], "missing argument 'text'", "log append"),
}


@pytest.mark.parametrize("case", list(USAGE))
def test_a_usage_error_is_an_error_line_and_a_hint_naming_the_commands_help(capsys, case: str) -> None:
    args, error, command = USAGE[case]
    code, _, err = run(capsys, *args)
    refused(code, err, 2)
    assert f"detente: error: {error}" in err and f"detente: hint: see detente {command} --help" in err, err
    assert "╭" not in err  # not click's box


def test_a_usage_error_with_json_is_a_problem_body(capsys) -> None:
    code, _, err = run(capsys, "log", "show", "0", "--nope", "--json")
    problem = json.loads(err)
    assert code == 2 and problem["exit_code"] == 2 and problem["error"]["code"] == "malformed"
    assert problem["error"]["hint"] == "see detente log show --help"


def test_version_and_a_bare_group(capsys) -> None:
    assert run(capsys, "--version")[:2] == (0, f"{__version__}\n")
    code, out, err = run(capsys, "log")  # a group without its command: its help, as before
    assert code == 2 and "Usage: detente log" in out and err == ""


def test_journal_since_with_a_superscript_digit_is_refused_not_an_internal_error() -> None:
    with pytest.raises(MalformedError, match="is not a time"):  # '²' is a digit to str.isdigit, not to int()
        parse_since("²")
    assert parse_since(" 86400 ") == 86400
