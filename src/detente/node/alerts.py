"""Operator alerts: on arrival, at reminders, at misses and escalations. Each alert goes to the
node's log and, when ``webhook_url`` is set, is POSTed as a DSSE envelope signed with the party
key (payload type :data:`ALERT_PAYLOAD_TYPE`), so the receiver can check who sent it. A bounded
queue and one sender thread keep a slow webhook from slowing the node; failed deliveries are
retried with backoff and then dropped, with a log line (the thread itself stays in the log and
the inbox, so nothing is lost but the notification)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import httpx

from detente.crypto.canonical import canonical_json
from detente.crypto.dsse import Ed25519DSSESigner, sign_envelope
from detente.crypto.keys import Ed25519Identity

__all__ = ["ALERT_PAYLOAD_TYPE", "Alerter"]

log = logging.getLogger(__name__)
ALERT_PAYLOAD_TYPE = "application/vnd.detente.alert+json"


class Alerter:
    def __init__(self, identity: Ed25519Identity, webhook_url: str = "", *, attempts: int = 5) -> None:
        self.identity = identity
        self.webhook_url = webhook_url
        self.attempts = attempts
        self.sent = 0
        self.failed = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None
        if webhook_url:
            self._thread = threading.Thread(target=self._run, name="detente-alerts", daemon=True)
            self._thread.start()

    def alert(self, kind: str, **fields: Any) -> None:
        event = {"kind": kind, "node": self.identity.name, "at": time.time(), **fields}
        log.log(
            logging.WARNING if kind in ("miss", "escalation") else logging.INFO,
            "alert %s",
            " ".join(f"{k}={v}" for k, v in event.items()),
        )
        if self._thread is not None:
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                self.failed += 1
                log.warning("alert queue full; dropped kind=%s", kind)

    def _run(self) -> None:
        client = httpx.Client(timeout=5)
        signer = [Ed25519DSSESigner(self.identity)]
        while (event := self._queue.get()) is not None:
            body = sign_envelope(ALERT_PAYLOAD_TYPE, canonical_json(event), signer).to_json()
            for attempt in range(self.attempts):
                try:
                    resp = client.post(
                        self.webhook_url,
                        content=body,
                        headers={"Content-Type": "application/vnd.dsse.envelope.v1+json"},
                    )
                    if resp.status_code < 300:
                        self.sent += 1
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(min(5.0, 0.2 * 2**attempt))
            else:
                self.failed += 1
                log.warning("webhook delivery failed kind=%s url=%s", event["kind"], self.webhook_url)
        client.close()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
