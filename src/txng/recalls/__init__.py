"""Recalls of lots by the authority (C12): scope from the trace engine, shown wherever it matters."""
