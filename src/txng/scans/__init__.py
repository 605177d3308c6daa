"""Scans of stamps, the authenticity verdict shown to consumers, and consumers' problem reports."""
