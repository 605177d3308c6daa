"""Errors of authority actions."""

from __future__ import annotations

from txng.errors import N_, Conflict


class AlreadyInState(Conflict):
    default_message = N_("This action is not possible in the current status (%(status)s)")


class NothingToChange(Conflict):
    default_message = N_("None of the chosen stamps can take this action")
