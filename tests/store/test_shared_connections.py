"""A SQLite connection shared by threads never hands a half-read statement to its caller.

Reproduces the ``database is locked`` 503 of the load test (docs/reliability.md): a reader on the
node store's shared connection still held its statement (rows not yet fetched) when another
thread wrote on that connection after a third connection had committed; SQLite answers such a
write at once with SQLITE_BUSY_SNAPSHOT, which ``busy_timeout`` does not wait on."""

from __future__ import annotations

from pathlib import Path

from detente.store.sqlite import SQLiteStore
from detente.store.sqlite_node import SQLiteNodeStore


def test_a_read_then_a_commit_elsewhere_then_a_write_on_the_shared_connection(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    logs, state = SQLiteStore(path, create=True), SQLiteNodeStore(path, create=True)
    for i in range(3):
        state.set_cursor(f"c{i}", i)
    result = state._run(
        "SELECT name FROM cursors WHERE name LIKE 'c_' ORDER BY name"
    )  # a caller about to read its rows
    logs.ensure_log("other.example/log")  # another connection commits meanwhile
    state.set_cursor("x", 1)  # another thread writes: it used to get "database is locked" at once
    assert result.fetchall() == [("c0",), ("c1",), ("c2",)] and state.get_cursor("x") == 1


def test_the_incident_index_reads_its_rows_before_releasing_the_connection(tmp_path: Path) -> None:
    from detente.store.sqlite_incidents import SQLiteIncidentIndex

    path = tmp_path / "d.db"
    logs, index = SQLiteStore(path, create=True), SQLiteIncidentIndex(path)
    result = index._exec("SELECT key FROM inc_meta")
    logs.ensure_log("other.example/log")
    index._exec("INSERT INTO inc_meta VALUES ('probe', '1')")  # a write on the index's connection
    assert result.fetchall() == [("format",)]
