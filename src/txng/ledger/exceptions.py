"""Errors of the ledger."""

from __future__ import annotations

from txng.errors import N_, Conflict, NotFound, TxngError


class LedgerError(TxngError):
    pass


class RecordNotSealed(NotFound):
    default_message = N_("This record is not sealed in the ledger")


class NoCheckpoint(NotFound):
    default_message = N_("The ledger has no signed checkpoint yet")


class BadProofRequest(LedgerError):
    status_code = 422
    type_slug = "validation-error"
    default_message = N_("No such proof for these tree sizes")


class BadCosignature(LedgerError):
    status_code = 422
    type_slug = "validation-error"
    default_message = N_("The cosignature does not verify against a known witness key")


class LogCorrupt(Conflict):
    default_message = N_("The ledger's stored tree does not match its state; appends stopped")
