"""Run real detente nodes as separate processes on loopback: used by ``detente demo`` and by
the tests that cross a network. Each node is ``python -m detente serve`` on its own port with
its own key, config and database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from detente.errors import StoreUnavailable

__all__ = ["LocalNode", "free_port", "parties_policy"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalNode:
    name: str
    origin: str
    directory: Path
    port: int = field(default_factory=free_port)
    store: str = "detente.db"
    info: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def vkey(self) -> str:
        return str(self.info["vkey"])

    @property
    def cosigner_vkey(self) -> str:
        return str(self.info["cosigner_vkey"])

    @property
    def token(self) -> str:
        return str(self.info["admin_token"])

    def init(self, **options: str) -> LocalNode:
        args = [
            "init",
            str(self.directory),
            "--name",
            self.name,
            "--origin",
            self.origin,
            "--listen",
            f"127.0.0.1:{self.port}",
            "--store",
            self.store,
        ]
        for k, v in options.items():
            args += [f"--{k.replace('_', '-')}", v]
        out = _run_cli(args)
        self.info = json.loads(out)
        return self

    def use_agreement(self, agreement: dict[str, Any], *, protocol_interval: float = 0.3) -> None:
        """Write an agreement file and point the (stopped) node's configuration at it."""
        (self.directory / "agreement.json").write_text(json.dumps(agreement))
        config = self.directory / "detente.toml"
        text = config.read_text().replace('agreement = ""', 'agreement = "agreement.json"')
        config.write_text(text.replace("protocol_interval = 5.0", f"protocol_interval = {protocol_interval}"))

    def pin(self, other: LocalNode, *, witness: bool = True) -> None:
        args = ["peer", "add", other.name, other.url, "--vkey", other.vkey, "-n", str(self.directory)]
        if witness:
            args += ["--cosigner-vkey", other.cosigner_vkey]
        _run_cli(args)

    def start(self, *, timeout: float = 20.0, env: dict[str, str] | None = None) -> LocalNode:
        log_path = self.directory / "serve.log"
        with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "detente", "serve", "-n", str(self.directory), "--log-level", "warning"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StoreUnavailable(f"node {self.name} exited with {self.process.returncode}; see {log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise StoreUnavailable(f"node {self.name} did not come up within {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def api(
        self, method: str, path: str, *, token: str | None = None, timeout: float = 30, **kw: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **kw.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=timeout, **kw)

    def status(self) -> dict[str, Any]:
        resp = self.api("GET", "/api/v1/status")
        resp.raise_for_status()
        return dict(resp.json())

    def thread(self, origin: str, index: int) -> dict[str, Any]:
        """The inbox entry of record ``origin#index`` at this node ({} if it has none)."""
        for t in self.api("GET", "/api/v1/inbox").json():
            if t["origin"] == origin and t["index"] == index:
                return dict(t)
        return {}

    def send(
        self,
        record_type: str,
        text: str,
        *,
        lang: str = "en",
        translations: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        refs: list[dict[str, Any]] | None = None,
        to: list[str] | None = None,
    ) -> dict[str, Any]:
        payload = {
            "type": record_type,
            "to": to or [],
            "body": body or {},
            "refs": refs or [],
            "text": {"original": {"lang": lang, "text": text}, "translations": translations or {}},
        }
        resp = self.api("POST", "/api/v1/records", json=payload)
        if resp.status_code != 201:
            raise StoreUnavailable(f"node {self.name} refused a {record_type} record: {resp.text[:300]}")
        return dict(resp.json())


def parties_policy(us: LocalNode, cn: LocalNode, auditor: LocalNode) -> str:
    """The C2SP tlog-policy an outside auditor of the two parties' logs uses in the demo and the
    load test: both logs by their public URLs and keys, and a checkpoint counts only when one
    party's witness *and* the neutral auditor cosigned it."""
    return (
        f"log {us.vkey} {us.url}\nlog {cn.vkey} {cn.url}\n"
        f"witness us-w {us.cosigner_vkey}\nwitness cn-w {cn.cosigner_vkey}\n"
        f"witness auditor-w {auditor.cosigner_vkey}\n"
        "group parties any us-w cn-w\ngroup parties-and-auditor all parties auditor-w\n"
        "quorum parties-and-auditor\n"
    )


def _run_cli(args: list[str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "detente", *args], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise StoreUnavailable(f"detente {' '.join(args[:2])} failed: {proc.stderr.strip()}")
    return proc.stdout
