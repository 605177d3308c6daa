"""Mail senders: SMTP against a local aiosmtpd server, the file outbox, selection by settings."""

from __future__ import annotations

import email
import socket
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from txng.config import Settings
from txng.kit import i18n
from txng.mail.compose import compose
from txng.mail.sender import FileSender, SmtpSender, deliver, sender_from_settings


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _text(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


def _message(locale: str = "vi") -> EmailMessage:
    return compose(
        "registration_approved",
        to="Trần Thị Bích <bich@htx-lucngan.vn>",
        sender="TXNG <no-reply@txng.example>",
        locale=locale,
        context={
            "province_name": "Bắc Ninh",
            "full_name": "Trần Thị Bích",
            "organisation_name": "HTX Nông sản Lục Ngạn",
            "tax_code": "2400000018",
            "login_url": "http://txng.example/login",
            "status_url": "http://txng.example/register/status/1.x",
        },
    )


def test_smtp_sender_delivers_a_vietnamese_message(smtp_server: tuple[Any, int]) -> None:
    inbox, port = smtp_server
    SmtpSender(host="127.0.0.1", port=port, starttls=False, timeout=5).send(_message())
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["bich@htx-lucngan.vn"]
    [received] = inbox.messages()
    subject = i18n.gettext(
        "vi",
        "Your registration with the %(province)s traceability system was approved",
        {"province": "Bắc Ninh"},
    )
    assert received["Subject"] == subject
    assert received["To"] == "Trần Thị Bích <bich@htx-lucngan.vn>"
    assert received["Content-Language"] == "vi"
    text = _text(received)
    assert i18n.gettext("vi", "Dear %(name)s,", {"name": "Trần Thị Bích"}) in text
    assert "HTX Nông sản Lục Ngạn" in text
    assert "http://txng.example/login" in text


def test_smtp_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    sender = SmtpSender(host="127.0.0.1", port=_free_port(), starttls=False, timeout=2)
    deliver(sender, _message())
    assert "could not send e-mail" in caplog.text


def test_file_sender_writes_eml(tmp_path: Any) -> None:
    FileSender(tmp_path / "outbox").send(_message("en"))
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert message["Content-Language"] == "en"
    assert "Dear Trần Thị Bích," in message.get_content()


def test_sender_follows_settings(settings: Settings) -> None:
    assert isinstance(sender_from_settings(settings), FileSender)
    smtp = sender_from_settings(settings.model_copy(update={"smtp_host": "mail.example"}))
    assert isinstance(smtp, SmtpSender)
    assert (smtp.host, smtp.port, smtp.starttls) == ("mail.example", 587, True)
