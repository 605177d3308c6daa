"""Jinja2 environments, one per language, with Babel translations and Vietnamese formats."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from txng.accounts.roles import ROLE_LABELS, SECTOR_LABELS
from txng.kit import i18n
from txng.kit.adminunits import admin_units
from txng.registry import labels


def _commune_label(code: str | None) -> str:
    return admin_units().label(code)


_PLAIN_MESSAGES_MAX = 10_000


def _remember_plain_messages(env: Environment) -> None:
    """Translate each message without variables once per language: a page calls ``_()`` dozens
    of times, and Jinja's new-style gettext formats the translation as Markup on every call."""
    translate = env.globals["gettext"]
    done: dict[tuple[str, bool], Any] = {}

    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> Any:
        if variables:
            return translate(context, message, **variables)  # type: ignore[operator]
        key = (message, context.eval_ctx.autoescape)
        text = done.get(key)
        if text is None:
            text = translate(context, message)  # type: ignore[operator]
            if len(done) < _PLAIN_MESSAGES_MAX:
                done[key] = text
        return text

    env.globals["gettext"] = gettext
    env.globals["_"] = gettext  # directly, not through the extension's alias that looks it up


@lru_cache(maxsize=len(i18n.LOCALES))
def environment(locale: str) -> Environment:
    env = Environment(
        loader=PackageLoader("txng", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are package files: no stat() of each template and include on every render
        # (measurable on busy pages such as the consumer page); restart to see an edit.
        auto_reload=False,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    _remember_plain_messages(env)
    env.filters["date"] = i18n.format_date
    env.filters["datetime"] = i18n.format_datetime
    env.filters["vnd"] = i18n.format_vnd
    env.filters["number"] = i18n.format_number
    env.filters["commune"] = _commune_label
    env.globals["locale"] = locale
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    env.globals["SECTOR_LABELS"] = SECTOR_LABELS
    env.globals["ORG_KIND_LABELS"] = labels.ORGANISATION_KIND_LABELS
    env.globals["FACILITY_KIND_LABELS"] = labels.FACILITY_KIND_LABELS
    env.globals["SCHEME_LABELS"] = labels.SCHEME_LABELS
    env.globals["UNIT_LABELS"] = labels.UNIT_LABELS
    return env


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    settings = request.app.state.settings
    ctx: dict[str, Any] = {
        "request": request,
        "principal": getattr(request.state, "principal", None),
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "province_name": settings.province_name,
        "errors": {},
        "form": {},
    }
    ctx.update(context or {})
    html = environment(locale).get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)
