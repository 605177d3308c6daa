"""Plain-text messages from Jinja templates under ``templates/mail``, in the recipient's language.

A template's first line is the subject, then an empty line, then the body.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader

from txng.kit import i18n

# Python's header folding loses the space between an encoded word and a plain word when it
# folds a long non-ASCII subject ("đã được" arrives as "đãđược"); one unfolded encoded word
# per header avoids that, and mail software accepts the longer line.
MAIL_POLICY = SMTP.clone(max_line_length=None)


@lru_cache(maxsize=len(i18n.LOCALES))
def _environment(locale: str) -> Environment:
    # Plain-text mail: nothing is rendered as HTML, so escaping would only garble names.
    env = Environment(
        loader=PackageLoader("txng", "templates"),
        autoescape=False,  # noqa: S701
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = i18n.format_date
    env.filters["datetime"] = i18n.format_datetime
    env.globals["locale"] = locale
    return env


def compose(
    template: str, *, to: str, sender: str, locale: str, context: dict[str, Any]
) -> EmailMessage:
    """Render ``mail/<template>.txt`` into a message for ``to``."""
    if locale not in i18n.LOCALES:
        locale = i18n.DEFAULT_LOCALE
    text = _environment(locale).get_template(f"mail/{template}.txt").render(context)
    subject, _, body = text.partition("\n\n")
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="txng")
    message.set_content(body.strip() + "\n", cte="quoted-printable")
    message["Content-Language"] = locale  # after set_content, which resets Content-* headers
    message.policy = MAIL_POLICY  # for writing it out: the body is already encoded in short lines
    return message
