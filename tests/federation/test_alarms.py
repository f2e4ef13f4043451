"""Fork alarms as values: canonical bounded evidence, one alarm per fork whatever the padding,
an alarm raised even when its record cannot be logged, and background loops that survive any
exception (issue #17). A real SQLite node store underneath."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hostile_peer import forged_checkpoint, padded

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import parse_note
from detente.errors import EntryTooLarge
from detente.node.alarms import Alarms, canonical_evidence, fork_id
from detente.node.loops import Loops
from detente.node.sync import Fork
from detente.store.open import open_node_store

ORIGIN = "cn.detente.example/log"


class _Alerts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def alert(self, kind: str, **fields: Any) -> None:
        self.sent.append((kind, fields))


def _fork(identity: Ed25519Identity, lines: int = 100) -> Fork:
    seen = forged_checkpoint(identity, 5, b"\x01" * 32)
    shown = forged_checkpoint(identity, 5, b"\x02" * 32)
    return Fork(ORIGIN, "equivocation", "two different roots for size 5", padded(seen, lines), padded(shown, lines))


def test_evidence_is_the_text_and_the_logs_own_signature_only() -> None:
    identity = Ed25519Identity.generate(ORIGIN)
    note = forged_checkpoint(identity, 5, b"\x01" * 32)
    big = padded(note)
    assert len(big) > 40_000
    kept = canonical_evidence(ORIGIN, big)
    assert kept.encode() == note  # exactly the log's own note, padding gone
    assert parse_note(kept).signatures == parse_note(note).signatures
    entry = b"{" + b"x" * 60_000 + b"}"  # not a checkpoint (an entry): its leaf hash and length
    assert canonical_evidence(ORIGIN, entry).startswith("entry leaf-hash ") and "60002" in canonical_evidence(
        ORIGIN, entry
    )


def test_padding_does_not_make_a_new_fork() -> None:
    identity = Ed25519Identity.generate(ORIGIN)
    assert fork_id(_fork(identity, 100)) == fork_id(_fork(identity, 3)) == fork_id(_fork(identity, 1))
    other = Fork(
        ORIGIN,
        "equivocation",
        "x",
        forged_checkpoint(identity, 5, b"\x01" * 32),
        forged_checkpoint(identity, 5, b"\x03" * 32),
    )
    assert fork_id(other) != fork_id(_fork(identity))


def test_one_alarm_per_fork_and_raised_even_when_it_cannot_be_logged(tmp_path: Path) -> None:
    state = open_node_store(str(tmp_path / "n.db"), create=True)
    identity = Ed25519Identity.generate(ORIGIN)
    logged: list[dict[str, object]] = []

    def refuse(body: dict[str, object]) -> int:
        raise EntryTooLarge("entry is over 65535 bytes")

    alerts = _Alerts()
    alarms = Alarms(state, refuse, alerts, clock=lambda: 1_700_000_000.0)
    assert alarms.raise_once(_fork(identity)) is None
    rows = state.alarms()
    assert len(rows) == 1 and rows[0].index is None and rows[0].kind == "equivocation"  # raised all the same
    assert [k for k, _ in alerts.sent] == ["alarm"]
    assert alarms.failures and "65535" in alarms.failures[0].error  # and the failure is reported
    # however often, by whichever path: one alarm
    for lines in (100, 7, 1):
        alarms.raise_once(_fork(identity, lines))
    assert len(state.alarms()) == 1 and len(alerts.sent) == 1

    # a restarted node remembers which forks it raised
    def log_it(body: dict[str, object]) -> int:
        logged.append(body)
        return len(logged) - 1

    again = Alarms(state, log_it, _Alerts(), clock=lambda: 1_700_000_001.0)
    assert again.raise_once(_fork(identity)) is None and logged == []
    new = Fork(
        ORIGIN,
        "equivocation",
        "two different roots for size 6",
        forged_checkpoint(identity, 6, b"\x01" * 32),
        forged_checkpoint(identity, 6, b"\x04" * 32),
    )
    assert again.raise_once(new) == 0
    assert len(logged) == 1 and len(str(logged[0])) < 4_000


def test_a_loop_survives_any_exception_and_reports_it() -> None:
    loops = Loops(clock=lambda: 42.0)
    failures = iter([ValueError("x" * 5000), KeyError("k"), None])

    def turn() -> None:
        exc = next(failures)
        if exc is not None:
            raise exc

    assert isinstance(loops.run("sync:cn", turn), ValueError)
    assert isinstance(loops.run("sync:cn", turn), KeyError)
    assert loops.backoff("sync:cn", 30.0) > loops.backoff("other", 30.0) == 0.0
    status = loops.as_dict()["sync:cn"]
    assert status["failures"] == 2 and status["consecutive_failures"] == 2 and "KeyError" in str(status["last_error"])
    assert loops.run("sync:cn", turn) is None
    status = loops.as_dict()["sync:cn"]
    assert status["consecutive_failures"] == 0 and status["last_ok_at"] == 42.0 and status["runs"] == 3
