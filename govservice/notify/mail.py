"""Sending e-mail, behind a small interface: SMTP in production (`SMTP_HOST` set), the log in
development (the message is printed, nothing leaves the machine)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import Flask

log = logging.getLogger("govservice.notify.mail")


class MailError(Exception):
    """The message could not be handed to the mail server."""


@dataclass(frozen=True)
class Mail:
    """One e-mail: its MIME message is made only by a mailer that sends it (Python's header
    registry costs about a millisecond a message, more than the rest of a notice)."""

    sender: str  # MAIL_FROM: an address, or a name and an address
    to: str
    subject: str
    body: str

    def message(self) -> EmailMessage:
        message = EmailMessage()
        name, address = parseaddr(self.sender)
        message["From"] = formataddr((name, address)) if name else address
        message["To"] = self.to
        message["Subject"] = self.subject
        message.set_content(self.body)
        return message


class LogMailer:
    kind = "log"

    def send(self, mail: Mail) -> None:
        log.info("e-mail (development: not sent)\nTo: %s\nSubject: %s\n\n%s", mail.to, mail.subject, mail.body)


class SmtpMailer:
    kind = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str = "",
        password: str = "",
        security: str = "starttls",
        timeout: float = 10.0,
    ):
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"SMTP_SECURITY must be starttls, ssl or none, not {security!r}")
        self.host, self.port, self.user, self.password = host, port, user, password
        self.security, self.timeout = security, timeout

    def send(self, mail: Mail) -> None:
        try:
            if self.security == "ssl":
                server = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with server:
                if self.security == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if self.user:
                    server.login(self.user, self.password)
                server.send_message(mail.message())
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from exc


def from_config(app: Flask):
    config = app.config
    if not config.get("SMTP_HOST"):
        return LogMailer()
    return SmtpMailer(
        config["SMTP_HOST"],
        config["SMTP_PORT"],
        user=config.get("SMTP_USER", ""),
        password=config.get("SMTP_PASSWORD", ""),
        security=config.get("SMTP_SECURITY", "starttls"),
        timeout=config.get("SMTP_TIMEOUT", 10.0),
    )
