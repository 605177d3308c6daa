"""Turn validation failures into messages next to form fields, in the page's language."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from txng.errors import N_, FieldError, ValidationFailed
from txng.kit import i18n

_PYDANTIC_MESSAGES = {
    "missing": N_("This field is required"),
    "string_too_short": N_("Too short: at least %(min_length)s characters"),
    "string_too_long": N_("Too long: at most %(max_length)s characters"),
    "too_long": N_("Too many entries: at most %(max_length)s"),
    "int_parsing": N_("Enter a whole number"),
    "int_from_float": N_("Enter a whole number"),
    "float_parsing": N_("Enter a number"),
    "decimal_parsing": N_("Enter a number"),
    "greater_than_equal": N_("Must be at least %(ge)s"),
    "greater_than": N_("Must be more than %(gt)s"),
    "less_than_equal": N_("Must be at most %(le)s"),
    "enum": N_("Choose one of the options"),
    "literal_error": N_("Choose one of the options"),
    "date_parsing": N_("Enter a date"),
    "date_from_datetime_parsing": N_("Enter a date"),
    "datetime_parsing": N_("Enter a date and time"),
    "extra_forbidden": N_("Unknown field"),
    "string_pattern_mismatch": N_("Invalid format"),
    "json_invalid": N_("Malformed JSON"),
    "bool_parsing": N_("Enter true or false"),
    "string_type": N_("Enter text"),
    "list_type": N_("Enter a list"),
    "model_type": N_("Enter an object"),
}


def pointer(loc: tuple[int | str, ...]) -> str:
    """JSON pointer (RFC 6901) of a pydantic error location, without the ``body`` prefix."""
    parts = [str(p) for p in loc if p not in ("body",)]
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def from_pydantic(errors: list[Any]) -> ValidationFailed:
    out: list[FieldError] = []
    for err in errors:
        msgid = _PYDANTIC_MESSAGES.get(err["type"], N_("Invalid value"))
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, int | float | str)}
        out.append(FieldError(pointer(tuple(err["loc"])), msgid, err["type"], ctx))
    return ValidationFailed(errors=out)


def from_validation_error(exc: ValidationError) -> ValidationFailed:
    return from_pydantic(list(exc.errors()))


def translate(locale: str, err: FieldError) -> str:
    try:
        return i18n.gettext(locale, err.message, err.params)
    except (KeyError, ValueError, TypeError):
        return i18n.gettext(locale, err.message)


def field_messages(locale: str, exc: ValidationFailed) -> dict[str, str]:
    """``{"gtin": "Sai số kiểm tra …", "certifications.0.valid_to": …}`` for templates."""
    messages: dict[str, str] = {}
    for err in exc.errors:
        key = err.field.strip("/").replace("/", ".")
        messages.setdefault(key or "_form", translate(locale, err))
    return messages
