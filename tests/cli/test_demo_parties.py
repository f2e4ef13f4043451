"""``detente demo --parties 3`` end to end (issue #25): three party nodes and a neutral witness as
real processes; the demo checks each outcome against the nodes' APIs and prints it, so its
output names every receipt, the acknowledgement left missing, and the quorum met only at the
k-th signature. Every node it started is gone when it ends."""

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


def _run_demo(args: list[str], timeout: float) -> tuple[int, list[str]]:
    """The demo's exit status and output lines, read as they come (polled against a deadline);
    on a failure or past the deadline it is stopped with SIGTERM so its nodes stop too."""
    with subprocess.Popen(
        [sys.executable, "-m", "detente", "demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"},
    ) as proc:
        try:
            lines = read_lines(proc, timeout)
            return proc.wait(timeout=120), lines
        finally:
            if proc.poll() is None:  # past the deadline or a failure: stop the demo and its nodes
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _index(lines: list[str], pattern: str) -> int:
    found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no line matches {pattern!r} in the demo's output:\n" + "\n".join(lines)
    return found[0]


def test_demo_with_three_parties_runs_the_multilateral_story(tmp_path: Path) -> None:
    rc, lines = _run_demo(["--parties", "3", "--records", "2", "--dir", str(tmp_path / "demo")], timeout=1200)
    text = "\n".join(lines)
    assert rc == 0, text
    urls = [
        m.group(1) for line in lines if (m := re.search(r"^\s*(?:us|cn|uk|witness) (http://127\.0\.0\.1:\d+)", line))
    ]
    assert len(urls) == 4, text

    # a notice to several parties: a receipt from each, an acknowledgement from all but the last
    _index(lines, r"^us → cn, uk  pre-test notification #\d+")
    for name in ("cn", "uk"):
        _index(lines, rf"receipt from {name}: received")
    _index(lines, r"acknowledged by cn: answered")
    assert not any("acknowledged by uk" in line for line in lines), text
    _index(lines, r"no acknowledgement from uk \(on purpose\): received, still pending")

    _index(lines, r"^cn → all  FLASH hotline message #\d+: received by us, uk \(2 of 2\)")
    _index(lines, r"found at cn, uk \(2 of 2\)")
    _index(
        lines,
        r"^cn, uk  link their own reports to us-2026-0008 \(same-as\); us confirmed both, as every party.s node shows",
    )

    # the statement's quorum (2 of 3, in the document): not adopted at one signature, adopted at two
    drafted = _index(lines, r"rule: 2 of 3$")
    one = _index(lines, r"cn signs: 1 of 3 signed \(2 needed\): not adopted")
    two = _index(lines, r"uk signs: 2 of 3 signed: adopted \(rule 2 of 3 met at every node\); binds cn, uk only")
    assert drafted < one < two

    _index(
        lines, r"^us, cn  mra-forum co-signed by all 2 members: in force; acme-fab \(listed by us\) recognized by cn"
    )
    _index(lines, r"^\s*uk  outside the arrangement: its signature refused \(.*is not a party to mra-forum\)$")
    for name in ("us", "cn", "uk"):
        _index(lines, rf"^\s*{name}  size +\d+, cosigned by .*witness")
    _index(lines, r"^demo ok: 3 parties")
    for url in urls:  # every node it started is gone, not left running
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=5)


def test_parties_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    for n in ("1", "11"):
        proc = subprocess.run(
            [sys.executable, "-m", "detente", "demo", "--parties", n, "--dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "--parties" in proc.stderr
        assert not (tmp_path / "d").exists()
