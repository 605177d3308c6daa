"""TXNG: the provincial product traceability system and portal."""

__version__ = "0.1.0"
