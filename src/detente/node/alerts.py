"""Operator alerts: on arrival, at reminders, at misses and escalations. Each alert goes to the
node's log; when ``webhook_url`` is set it is POSTed as a DSSE envelope signed with the party
key (payload type :data:`ALERT_PAYLOAD_TYPE`), so the receiver can check who sent it; when an
SMTP server and a recipient are set it is also sent as a bilingual e-mail (stdlib ``smtplib``,
the signed envelope attached as the body's last part). A bounded
queue and one sender thread keep a slow webhook from slowing the node; failed deliveries are
retried with backoff and then dropped, with a log line (the thread itself stays in the log and
the inbox, so nothing is lost but the notification)."""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time
from email.message import EmailMessage
from typing import Any

import httpx

from detente.crypto.canonical import canonical_json
from detente.crypto.dsse import Ed25519DSSESigner, sign_envelope
from detente.crypto.keys import Ed25519Identity

__all__ = ["ALERT_PAYLOAD_TYPE", "Alerter", "send_email"]

log = logging.getLogger(__name__)
ALERT_PAYLOAD_TYPE = "application/vnd.detente.alert+json"
_KIND_ZH = {
    "arrival": "收到",
    "reminder": "提醒",
    "miss": "逾期",
    "escalation": "升级",
    "alarm": "警报",
    "flag": "标记",
}


class Alerter:
    def __init__(
        self,
        identity: Ed25519Identity,
        webhook_url: str = "",
        *,
        smtp: str = "",
        email_to: str = "",
        email_from: str = "",
        attempts: int = 5,
    ) -> None:
        self.identity = identity
        self.webhook_url = webhook_url
        self.smtp = smtp
        self.email_to = email_to
        self.email_from = email_from or f"detente@{identity.name.split('/')[0]}"
        self.attempts = attempts
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None
        if webhook_url or (smtp and email_to):
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
            try:  # no alert, however odd its fields, ends this thread
                self._deliver(client, signer, event)
            except Exception as exc:
                self.failed += 1
                self.last_error = f"{exc.__class__.__name__}: {str(exc)[:300]}"
                log.exception("alert delivery failed kind=%s", event.get("kind"))
        client.close()

    def _deliver(self, client: httpx.Client, signer: list[Ed25519DSSESigner], event: dict[str, Any]) -> None:
        body = sign_envelope(ALERT_PAYLOAD_TYPE, canonical_json(event), signer).to_json()
        if self.smtp and self.email_to:
            self._email(event, body)
        if self.webhook_url:
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
                self.last_error = f"webhook {self.webhook_url} did not accept {event['kind']}"
                log.warning("webhook delivery failed kind=%s url=%s", event["kind"], self.webhook_url)

    def _email(self, event: dict[str, Any], envelope: bytes) -> None:
        kind = str(event["kind"])
        msg = EmailMessage()
        msg["Subject"] = (
            f"[detente] {kind} / {_KIND_ZH.get(kind, kind)}: {event.get('origin', '')}#{event.get('index', '')}"
        )
        msg["From"], msg["To"] = self.email_from, self.email_to
        lines = [f"{k}: {v}" for k, v in event.items()]
        msg.set_content(
            "\n".join(lines) + "\n\nSigned alert (DSSE, verify with the node's log key):\n" + envelope.decode()
        )
        if send_email(self.smtp, msg, attempts=self.attempts) is None:
            self.sent += 1
        else:
            self.failed += 1
            log.warning("e-mail alert failed kind=%s server=%s", kind, self.smtp)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)


def send_email(server: str, msg: EmailMessage, *, attempts: int = 3) -> str | None:
    """Send ``msg`` through ``server`` (``smtp://host:port``), retrying with backoff; ``None`` once
    it is accepted, else the last error as text."""
    host, _, port = server.removeprefix("smtp://").partition(":")
    error = "no attempt made"
    for attempt in range(attempts):
        try:
            with smtplib.SMTP(host, int(port or 25), timeout=10) as smtp:
                smtp.send_message(msg)
            return None
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            error = f"{exc.__class__.__name__}: {exc}"
            if attempt + 1 < attempts:
                time.sleep(min(5.0, 0.2 * 2**attempt))
    return error
