"""Work done after the response: logging a scan must never block or break the consumer page.

Each scan is written after its response (BackgroundTasks) in its own short transaction; a
failure is logged, never raised.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from txng.db import session_scope
from txng.scans import service

log = logging.getLogger("txng.scans")


def _write(maker: sessionmaker[Session], visits: list[service.Visit]) -> None:
    try:
        with session_scope(maker) as session:
            service.log_scans(session, visits=visits)
    except Exception:
        stamps = sorted({v.stamp_id for v in visits})[:10]
        log.exception("could not log %s scan(s) of stamps %s", len(visits), stamps)


def record_scan(maker: sessionmaker[Session], *, stamp_id: int, ip_hash: str, at: datetime) -> None:
    """Log one scan in its own short transaction."""
    _write(maker, [service.Visit(stamp_id, ip_hash, at)])
