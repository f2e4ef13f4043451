"""A key rotation interrupted by a crash at each of its steps (detente.node.rotation).

The crash is simulated in-process: the step after the chosen point raises an exception that
nothing in detente catches (as SIGKILL would stop the process there), the node object is
abandoned without ``stop()``, and a new ``Node`` opens the same folder, as a restarted process
would. After the restart the key file must hold the key the log's checkpoint is signed with, the
node must go on signing with it, and a verifier who pinned only the original key must accept every
entry and the checkpoint by following the log's own rotation records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from detente.crypto.keys import VerifierKey
from detente.crypto.note_verifiers import verifier_for
from detente.node import keys as node_module  # where rotation installs the new key file
from detente.node.audit import audit_log
from detente.node.config import load_config
from detente.node.keyfile import read_identity
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.rotation import staged_keys
from detente.node.tilelog import TileLog
from detente.records.keys import KeyHistory
from detente.records.record import Record
from detente.store.open import open_store
from detente.tlog.checkpoint import open_checkpoint

ORIGIN = "us.example/log"


class Crash(BaseException):
    """The process dying at this point (a BaseException: nothing in detente catches it)."""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return LocalNode("us", ORIGIN, tmp_path / "us").init().directory


def _open(folder: Path) -> Node:
    config, base = load_config(folder)
    return Node(config, base)


def _statement(node: Node, text: str) -> int:
    record = Record(type="detente.dev/statement/v1", party=ORIGIN, issued=datetime.now(UTC), body={"text": text})
    return node.writer.append(record).index


def _verify(folder: Path, pinned: VerifierKey, known: list[VerifierKey]) -> KeyHistory:
    """Check every entry with exactly the key in force at its position, learning rotations from
    the log itself (``audit_log`` with a history holding only the pinned key), then the checkpoint
    with the key in force at the end."""
    config, base = load_config(folder)
    store = open_store(str(base / config.store))
    try:
        history = KeyHistory(pinned)
        report = audit_log(TileLog(store, ORIGIN, known), history=history)
        assert report.ok, report.as_dict()
        note = store.latest_checkpoint(ORIGIN)
        assert note is not None
        open_checkpoint(note, [verifier_for(history.current)], origin=ORIGIN)
        return history
    finally:
        store.close()


def _crash_while_rotating(node: Node) -> None:
    with pytest.raises(Crash):
        node.keys.rotate("scheduled")
    node.sequencer.close()  # the abandoned process's thread; it writes nothing


@pytest.mark.parametrize("step", ["before-logging", "after-logging", "before-install"])
def test_a_rotation_cut_short_at_any_step_leaves_a_node_that_signs_with_the_key_in_force(
    folder: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    node = _open(folder)
    pinned = node.signer.identity.vkey()
    assert [_statement(node, f"old key {i}") for i in range(2)] == [0, 1]

    def crash(*_: object, **__: object) -> None:
        raise Crash(step)

    if step == "before-logging":  # the staged key is on disk, the rotation record is not durable
        monkeypatch.setattr(node.sequencer, "add", crash)
    elif step == "after-logging":  # logged (checkpoint signed by the new key), not yet in the key history
        monkeypatch.setattr(node.keyring, "keep", crash)
    else:  # logged and in the key history, the staged key not yet moved into place
        monkeypatch.setattr(node_module, "install_rotated_key", crash)
    _crash_while_rotating(node)
    monkeypatch.undo()
    key_file = folder / "party.key"
    staged = staged_keys(key_file)
    assert len(staged) == 1 and read_identity(key_file).vkey() == pinned  # the crash left it half done
    new = read_identity(staged[0]).vkey()

    restarted = _open(folder)
    assert staged_keys(key_file) == []
    index = _statement(restarted, "after the restart")
    if step == "before-logging":
        # nothing was logged: the staged key signed nothing anyone saw, and is gone
        assert restarted.signer.identity.vkey() == pinned and read_identity(key_file).vkey() == pinned
        assert index == 2
        history = _verify(folder, pinned, [pinned])
        assert history.keys == (pinned,)
    else:
        # the rotation record is #2 and its checkpoint is signed by the new key: the node finished it
        assert restarted.signer.identity.vkey() == new and read_identity(key_file).vkey() == new
        assert read_identity(folder / f"party.key.{pinned.key_id:08x}").vkey() == pinned  # old key kept
        assert index == 3
        history = _verify(folder, pinned, [pinned, new])
        assert history.keys == (pinned, new) and history.current == new
        assert [e.index for e in history.events] == [2]
        own = restarted.keyring.history(ORIGIN, str(new))
        assert own.keys == (pinned, new)  # the node store's key history has the rotation too
    restarted.sequencer.close()


def test_a_second_restart_after_finishing_a_rotation_changes_nothing(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = _open(folder)
    pinned = node.signer.identity.vkey()
    monkeypatch.setattr(node_module, "install_rotated_key", lambda *_: (_ for _ in ()).throw(Crash()))
    _crash_while_rotating(node)
    monkeypatch.undo()
    first = _open(folder)
    new = first.signer.identity.vkey()
    assert new != pinned
    first.sequencer.close()
    second = _open(folder)
    assert second.signer.identity.vkey() == new and second.log.size == 1
    assert _statement(second, "signed by the new key") == 1
    second.sequencer.close()
    _verify(folder, pinned, [pinned, new])
