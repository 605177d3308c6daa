"""Resident memory of a process from /proc (Linux): current (VmRSS) and peak (VmHWM), in MiB."""

from __future__ import annotations

from pathlib import Path


def _status_kib(field: str, pid: int | str) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return None


def rss_mib(pid: int | str = "self") -> float | None:
    """Resident set size now; None where /proc is missing."""
    kib = _status_kib("VmRSS", pid)
    return kib / 1024 if kib is not None else None


def peak_rss_mib(pid: int | str = "self") -> float | None:
    """Highest resident set size since the process started (VmHWM)."""
    kib = _status_kib("VmHWM", pid)
    return kib / 1024 if kib is not None else None


def fmt_mib(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "n/a"
