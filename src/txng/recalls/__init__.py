"""Recalls of lots by the authority (C12): scope from the trace engine, shown where it matters."""
