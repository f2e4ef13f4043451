"""Finishing a key rotation that a crash interrupted (docs/security.md, "Keys").

:meth:`Node.rotate_key <detente.node.node.Node.rotate_key>` takes four durable steps: it writes the
new key to a staged file ``<key_file>.<key ID>.new``; logs the rotation record, whose checkpoint is
signed by the new key; records the rotation in the node store's key history; and moves the staged
key into place (the old one kept as ``<key_file>.<old key ID>``). A crash can stop it between any
two of them. When the node starts, before it opens its log for writing, it looks for staged keys:

- the log's latest checkpoint verifies with a staged key: the rotation was logged, so it is
  finished: the rotation record is found at the end of the log and kept in the key history if it
  was not yet, and the staged key installed;
- otherwise the rotation never reached the log: the staged key signed nothing anyone can have
  seen, and it is deleted.

The key file on disk then always matches the key the log's checkpoint is signed with, so the node
never signs with a key its peers no longer accept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from detente.crypto.dsse import Envelope
from detente.crypto.keys import Ed25519Identity
from detente.crypto.note_verifiers import verifier_for
from detente.errors import DetenteError, KeyFileError
from detente.node.keyfile import install_rotated_key, read_identity
from detente.node.tilelog import TileLog
from detente.records.keys import KEY_ROTATION, KeyEvent, KeyHistory
from detente.records.record import Record
from detente.store.protocol import LogStore
from detente.tlog.checkpoint import open_checkpoint

__all__ = ["finish_rotation", "staged_keys"]

log = logging.getLogger("detente.node")

_SCAN = 256  # the rotation record is the last entry of its batch: it is found near the end


def staged_keys(key_path: Path) -> list[Path]:
    """Staged new keys left next to ``key_path`` by a rotation that did not finish."""
    return sorted(key_path.parent.glob(f"{key_path.name}.*.new"))


def finish_rotation(
    key_path: Path,
    logs: LogStore,
    identity: Ed25519Identity,
    history: KeyHistory,
    keep: Callable[[KeyHistory, tuple[KeyEvent, ...]], None],
) -> Ed25519Identity:
    """The identity the node must sign with: ``identity`` (read from ``key_path``), or the staged
    key of a rotation that was logged before a crash, installed now. ``history`` is the own log's
    key history from the node store; ``keep`` records an event in it durably."""
    staged = staged_keys(key_path)
    if not staged:
        return identity
    note = logs.latest_checkpoint(identity.name)
    for path in staged:
        new = read_identity(path)
        if note is None or new.name != identity.name or not _signs(new, note):
            path.unlink()
            log.warning("key-rotation origin=%s staged key %s was never logged: deleted", identity.name, path.name)
            continue
        if new.vkey() not in history.keys:
            _keep_rotation(logs, history, new, keep)
        kept = install_rotated_key(key_path, path, identity)
        log.warning("key-rotation origin=%s finished after a restart: vkey=%s (old key in %s)",
                    identity.name, new.vkey(), kept.name)  # fmt: skip
        identity = new
    return identity


def _signs(key: Ed25519Identity, note: bytes) -> bool:
    try:
        open_checkpoint(note, [verifier_for(key.vkey())], origin=key.name)
    except DetenteError:
        return False
    return True


def _keep_rotation(
    logs: LogStore,
    history: KeyHistory,
    new: Ed25519Identity,
    keep: Callable[[KeyHistory, tuple[KeyEvent, ...]], None],
) -> None:
    """Find the rotation record naming ``new`` at the end of the log and add it to the history."""
    tlog = TileLog(logs, new.name, [*history.keys, new.vkey()])
    want = str(new.vkey())
    for index in range(tlog.size - 1, max(-1, tlog.size - 1 - _SCAN), -1):
        entry = tlog.entries(index, index + 1)[0]
        history.open_entry(entry, index)  # sealed by the key in force there, as every entry of this log
        record = Record.from_json(Envelope.from_json(entry).payload)
        if record.type == KEY_ROTATION and record.body.get("vkey") == want:
            applied = history.apply(index, record)
            keep(history, (applied[0],) if applied else ())
            return
    raise KeyFileError(
        f"the checkpoint of {new.name} is signed by the staged key {new.vkey()}, but no rotation record "
        f"naming it is among the last {_SCAN} entries",
        hint="restore the node's key files from backup; do not delete the staged .new key",
    )
