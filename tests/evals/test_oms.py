"""The OpenSSF model-signing digest of a weights directory, checked by hand against the definition
(SHA-256 over the concatenated per-file SHA-256 digests, files in model-signing's path order),
through the library and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from detente.cli.app import main
from detente.errors import ConfigError
from detente.evals.oms import directory_digest, oms_digest

SHA_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 example "abc"
SHA_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SHA_X = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"  # sha256(b"x")


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "b").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"abc")
    (root / "b" / "c.bin").write_bytes(b"")
    (root / "b-c.txt").write_bytes(b"x")  # as a string "b-c.txt" < "b/c.bin"; by path components it is after
    (root / ".gitignore").write_bytes(b"*.tmp\n")  # git metadata: not part of the model
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    return root


def expected() -> str:
    assert hashlib.sha256(b"x").hexdigest() == SHA_X
    return hashlib.sha256(bytes.fromhex(SHA_ABC + SHA_EMPTY + SHA_X)).hexdigest()  # a.txt, b/c.bin, b-c.txt


def test_directory_digest_by_hand(weights: Path) -> None:
    found = directory_digest(weights)
    assert found.files == (("a.txt", SHA_ABC), ("b/c.bin", SHA_EMPTY), ("b-c.txt", SHA_X))
    assert found.digest == expected()
    assert oms_digest(weights, ["b-c.txt", "a.txt", "b/c.bin"]) == expected()  # the packaged models' path


def test_a_change_anywhere_changes_the_digest(weights: Path) -> None:
    before = directory_digest(weights).digest
    (weights / "b" / "c.bin").write_bytes(b"\x00")
    assert directory_digest(weights).digest != before
    (weights / "b" / "c.bin").write_bytes(b"")
    (weights / "b" / "d.bin").write_bytes(b"")
    assert directory_digest(weights).digest != before


def test_symlinks_and_missing_directories_are_refused(weights: Path, tmp_path: Path) -> None:
    os.symlink(weights / "a.txt", weights / "link.txt")
    with pytest.raises(ConfigError, match="symbolic link"):
        directory_digest(weights)
    with pytest.raises(ConfigError, match="not a directory"):
        directory_digest(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no files"):
        directory_digest(tmp_path / "empty")


def test_cli_digest(weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "digest", str(weights), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["digest"] == {"sha256": expected()}
    assert shown["files"] == [
        {"name": "a.txt", "algorithm": "sha256", "digest": SHA_ABC},
        {"name": "b/c.bin", "algorithm": "sha256", "digest": SHA_EMPTY},
        {"name": "b-c.txt", "algorithm": "sha256", "digest": SHA_X},
    ]
    assert main(["eval", "digest", str(weights)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"sha256:{expected()}  ") and lines[0].endswith("(3 files)")
    assert lines[1:] == [f"  sha256:{SHA_ABC}  a.txt", f"  sha256:{SHA_EMPTY}  b/c.bin", f"  sha256:{SHA_X}  b-c.txt"]
    assert main(["eval", "digest", str(weights / "a.txt")]) != 0
    assert "hint: name the model's weights directory" in capsys.readouterr().err


def test_run_names_an_endpoint_by_the_weights_it_serves(weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --weights is computed where the CLI runs and sent as the declared OMS digest; without
    # --endpoint it is refused (a packaged model is named by its own files).
    code = main(["eval", "run", "en-sentiment-consistency", "vader", "--weights", str(weights), "--key", "k"])
    assert code != 0 and "go with --endpoint" in capsys.readouterr().err
    from detente.cli.evals import _endpoint

    endpoint = _endpoint("http://127.0.0.1:1/v1", "m", "example/m", None, None, 5.0, weights)
    assert endpoint is not None and endpoint.weights_sha256 == expected()
    subject = endpoint.identity("en-sentiment-consistency").as_subject()
    assert subject["digest"] == {"sha256": expected()} and subject["annotations"]["identity"] == "declared-oms"
