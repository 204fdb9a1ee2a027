"""Sending SMS, behind a small interface like the mailer's: an HTTP gateway in production
(`SMS_GATEWAY_URL` and `SMS_GATEWAY_KEY` set), a recording gateway in development (each message
is appended to `instance/sms/outbox.jsonl` and logged; nothing leaves the machine).

The HTTP contract (what a provincial SMS platform or a commercial one behind an adapter offers):

    POST {SMS_GATEWAY_URL}/messages          Authorization: Bearer {SMS_GATEWAY_KEY}
         {"to": "13800000001", "text": "...", "reference": "notice-42",
          "status_callback": "{PUBLIC_URL}/notices/sms/status"}
    201  {"id": "<the gateway's message id>", "status": "accepted"}

and, later, the delivery report posted back to `status_callback`:

    POST /notices/sms/status                 X-Signature: hex HMAC-SHA256(SMS_GATEWAY_KEY, body)
         {"id": "<message id>", "status": "delivered" | "failed", "error": "..."}
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask

log = logging.getLogger("govservice.notify.sms")


class SmsError(Exception):
    """The gateway did not take the message."""


@dataclass(frozen=True)
class Sent:
    id: str
    status: str  # accepted | logged


class RecordingGateway:
    """Development: the message is recorded in a JSON-lines outbox (and the log), not sent."""

    kind = "log"
    _lock = threading.Lock()

    def __init__(self, outbox: Path):
        self.outbox = outbox

    def send(self, to: str, text: str, reference: str) -> Sent:
        message_id = f"dev-{uuid.uuid4().hex[:16]}"
        self.outbox.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"id": message_id, "to": to, "text": text, "reference": reference}, ensure_ascii=False)
        with self._lock, open(self.outbox, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        log.info("SMS (development: not sent) to %s****%s: %s", to[:3], to[-4:], text)
        return Sent(message_id, "logged")

    def messages(self) -> list[dict]:
        """What was recorded, oldest first (for developers and tests)."""
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text(encoding="utf-8").splitlines() if line]


class HttpGateway:
    kind = "http"

    def __init__(self, url: str, key: str, *, callback_url: str, timeout: float = 5.0):
        self.url, self.key, self.callback_url, self.timeout = url.rstrip("/"), key, callback_url, timeout

    def send(self, to: str, text: str, reference: str) -> Sent:
        try:
            answer = requests.post(
                f"{self.url}/messages",
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.key}"},
                json={"to": to, "text": text, "reference": reference, "status_callback": self.callback_url},
            )
        except requests.RequestException as exc:
            raise SmsError(f"{type(exc).__name__}: {exc}") from exc
        if answer.status_code not in (200, 201, 202):
            raise SmsError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        try:
            body = answer.json()
            return Sent(str(body["id"])[:64], "accepted")
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsError(f"unreadable answer: {answer.text[:200]}") from exc


def from_config(app: Flask):
    config = app.config
    if not config.get("SMS_GATEWAY_URL"):
        return RecordingGateway(Path(config["INSTANCE_DIR"]) / "sms" / "outbox.jsonl")
    if not config.get("SMS_GATEWAY_KEY"):
        raise RuntimeError("SMS_GATEWAY_URL is set but SMS_GATEWAY_KEY is not")
    return HttpGateway(
        config["SMS_GATEWAY_URL"],
        config["SMS_GATEWAY_KEY"],
        callback_url=config["PUBLIC_URL"] + "/notices/sms/status",
        timeout=float(config.get("SMS_GATEWAY_TIMEOUT", 5)),
    )
