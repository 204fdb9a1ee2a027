"""Sending e-mail, behind a small interface: SMTP in production (`SMTP_HOST` set), the log in
development (the message is printed, nothing leaves the machine)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import Flask

log = logging.getLogger("govservice.notify.mail")


class MailError(Exception):
    """The message could not be handed to the mail server."""


class LogMailer:
    kind = "log"

    def send(self, message: EmailMessage) -> None:
        log.info(
            "e-mail (development: not sent)\nTo: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )


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

    def send(self, message: EmailMessage) -> None:
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
                server.send_message(message)
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
