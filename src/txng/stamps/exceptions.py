"""Errors of the stamps domain."""

from __future__ import annotations

from txng.errors import N_, Conflict, NotFound


class StampNotFound(NotFound):
    """A code that is not one of the caller's stamps (another's stamp looks the same)."""

    default_message = N_("No stamp of yours has the code %(code)s")


class StampStateConflict(Conflict):
    default_message = N_("Stamp %(code)s is %(status)s: this action is not possible")


class RequestStateConflict(Conflict):
    default_message = N_("This stamp request is %(state)s: this action is not possible")
