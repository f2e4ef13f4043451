"""Reading a running demo's output in the demo tests: line by line as it comes, polled against a
deadline (never a sleep), so a loaded machine only makes a test slower."""

from __future__ import annotations

import selectors
import subprocess
import time


def read_lines(proc: subprocess.Popen[str], timeout: float, marker: str | None = None) -> list[str]:
    """Standard output lines until the one containing ``marker`` (then returned at once), or until
    the output ends or the deadline passes; with a ``marker`` not seen, an AssertionError that
    shows what was printed."""
    assert proc.stdout is not None
    lines: list[str] = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sel.select(timeout=1.0):
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker is not None and marker in line:
            return lines
    if marker is not None:
        raise AssertionError(f"no {marker!r} in the demo's output:\n" + "\n".join(lines))
    return lines
