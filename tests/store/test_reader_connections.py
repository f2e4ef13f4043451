"""A SQLite store's per-thread read connections do not pile up as threads come and go (a server's
worker threads do: each connection kept open its files and its page cache; issue #26)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from detente.store.sqlite import SQLiteStore


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_the_read_connections_of_finished_threads_are_closed(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "log.db", create=True)
    try:
        store.ensure_log("us.example/log")

        def read() -> None:
            assert store.latest_checkpoint("us.example/log") is None

        read()
        before = _open_files()
        for _ in range(40):  # one after the other: each finishes before the next opens its connection
            worker = threading.Thread(target=read)
            worker.start()
            worker.join()
        assert _open_files() <= before + 3  # the last thread's connection at most (database, WAL, index)
        read()  # this thread's own connection is still open and works
    finally:
        store.close()
