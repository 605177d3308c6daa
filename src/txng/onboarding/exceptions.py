"""Errors of onboarding."""

from __future__ import annotations

from txng.errors import N_, TxngError


class LinkInvalid(TxngError):
    status_code = 404
    type_slug = "link-invalid"
    default_message = N_("This link is not valid or has already been used")


class LinkExpired(TxngError):
    status_code = 410
    type_slug = "link-expired"
    default_message = N_("This link has expired")
