"""Reading a running demo's output in the demo tests: line by line as it comes, polled against a
deadline (never a sleep), so a loaded machine only makes a test slower.

The pipe is read with ``os.read`` on its descriptor, never through ``proc.stdout``'s buffered
reader: ``readline`` pulls every byte that has arrived into its buffer and hands back one line, so
``select`` on the descriptor then waits for more while the rest sit unread in the buffer. Lines
that arrived together (the demo's last lines, printed at once) were never seen that way, and the
test timed out with the demo waiting for it."""

from __future__ import annotations

import os
import select
import subprocess
import time


def read_lines(proc: subprocess.Popen[str], timeout: float, marker: str | None = None) -> list[str]:
    """Standard output lines until the one containing ``marker`` (then returned at once), or until
    the output ends or the deadline passes; with a ``marker`` not seen, an AssertionError that
    shows what was printed. Read once per process (what follows the marker is not kept)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    lines: list[str] = []
    pending = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while b"\n" in pending:
            raw, pending = pending.split(b"\n", 1)
            lines.append(raw.decode("utf-8", "replace").rstrip("\r"))
            if marker is not None and marker in lines[-1]:
                return lines
        if not select.select([fd], [], [], 1.0)[0]:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
    lines += [raw.decode("utf-8", "replace").rstrip("\r") for raw in pending.split(b"\n") if raw]
    if marker is not None and any(marker in line for line in lines):
        return lines
    if marker is not None:
        raise AssertionError(f"no {marker!r} in the demo's output:\n" + "\n".join(lines))
    return lines
