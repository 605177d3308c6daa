"""The tamper-evident ledger (C9): an RFC 9162 verifiable log of every published record."""
