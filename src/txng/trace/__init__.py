"""Trace (C4): backward and forward traces over the EPCIS events, recall scope and spreadsheet,
one step back / one step forward."""
