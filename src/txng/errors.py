"""One error hierarchy. Every TxngError renders as RFC 7807 problem JSON (API) or an error page.

Messages are English msgids (marked with ``N_``) with ``%(name)s`` parameters; the edge
translates them into the caller's language (Vietnamese by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class FieldError:
    """One invalid field: ``field`` is a JSON pointer into the request body (``/gtin``)."""

    field: str
    message: str
    code: str = "invalid"
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class TxngError(Exception):
    status_code = 400
    type_slug = "bad-request"
    type_uri: str | None = None  # a standard problem type (EPCIS exceptions) instead of ours
    default_message = N_("Bad request")

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors or []
        self.params = dict(params or {})
        super().__init__(self.message)


class ValidationFailed(TxngError):
    status_code = 422
    type_slug = "validation-error"
    default_message = N_("The submitted data is not valid")


class NotFound(TxngError):
    status_code = 404
    type_slug = "not-found"
    default_message = N_("Not found")


class Conflict(TxngError):
    status_code = 409
    type_slug = "conflict"
    default_message = N_("This conflicts with the current state")


class Forbidden(TxngError):
    status_code = 403
    type_slug = "forbidden"
    default_message = N_("You are not allowed to do this")


class Unauthenticated(TxngError):
    status_code = 401
    type_slug = "unauthenticated"
    default_message = N_("Sign in or send a valid API key")


class TooManyRequests(TxngError):
    status_code = 429
    type_slug = "rate-limited"
    default_message = N_("Too many requests, please try again later")


class PayloadTooLarge(TxngError):
    status_code = 413
    type_slug = "payload-too-large"
    default_message = N_("The upload is too large")


def field_error(
    pointer: str, message: str, code: str = "invalid", **params: Any
) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(pointer, message, code, params)])


class ErrorCollector:
    """Gathers every field error of one submission so the user sees them all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, pointer: str, message: str, code: str = "invalid", **params: Any) -> None:
        self.errors.append(FieldError(pointer, message, code, params))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(errors=list(self.errors))
