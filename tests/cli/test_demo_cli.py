"""``detente demo --keep-running`` (issue #20): it prints the console URL and a token on one line
each (never wrapped, however narrow the terminal), and SIGTERM stops every node it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from demo_output import read_lines


def _lines_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    """Standard output lines up to the one containing ``marker`` (polled, never slept on)."""
    return read_lines(proc, timeout, marker)


def test_demo_prints_its_token_whole_and_sigterm_stops_every_node(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "detente", "demo", "--dir", str(tmp_path / "demo"), "--records", "2", "--keep-running"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "60", "PYTHONUNBUFFERED": "1"},  # narrower than a token line; unbuffered pipe
    ) as proc:
        try:
            lines = _lines_until(proc, "nodes keep running", timeout=600)
            urls = [
                m.group(1) for line in lines if (m := re.search(r"^\s*(?:us|cn|audit) (http://127\.0\.0\.1:\d+)", line))
            ]
            assert len(urls) == 3, lines
            token = next(m.group(1) for line in lines if (m := re.match(r"^  token\s+(dtk_\S+)$", line)))
            console = next(
                m.group(1) for line in lines if (m := re.match(r"^  console\s+(http://\S+/console/)$", line))
            )
            assert console == urls[0] + "/console/"
            assert any(line.startswith("  audit again   detente audit --policy ") for line in lines)
            headers = {"Authorization": f"Bearer {token}"}  # the whole token, as printed on its line
            assert httpx.get(f"{urls[0]}/api/v1/status", headers=headers, timeout=10).status_code == 200

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        finally:
            if proc.poll() is None:  # a failed assertion above: stop the demo's nodes too, not only the demo
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
    for url in urls:  # every node it started is gone, not left running
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=5)
