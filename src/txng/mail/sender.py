"""Senders: SMTP for production, .eml files under ``data_dir/outbox`` for the demo and tests.

Messages are sent after the request's transaction has committed (see ``deliver``), so that no
e-mail announces a change that was rolled back.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from txng.config import Settings
from txng.models.base import utcnow

log = logging.getLogger(__name__)


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """Sends through an SMTP server, with STARTTLS and login when configured."""

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        user: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


class FileSender:
    """Writes each message as an .eml file: the demo's outbox, readable with any mail client."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
        path = self.directory / name
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)


def sender_from_settings(settings: Settings) -> MailSender:
    """SMTP when a host is configured, otherwise the file outbox."""
    if settings.smtp_host:
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    return FileSender(settings.data_dir / "outbox")


def deliver(sender: MailSender, message: EmailMessage) -> None:
    """Send and log a failure instead of raising: run after the response, nobody could catch it."""
    try:
        sender.send(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send e-mail %r to %s", message["Subject"], message["To"])
