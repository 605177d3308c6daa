"""Work done after the response: logging a scan must never block or break the consumer page.

Each scan is written after its response (BackgroundTasks); a failure is logged, never raised.
Scans arriving while another batch is being written are written together in the next one (group
commit): one short transaction for many scans instead of one each, so a busy page does not queue
for the database's write lock. A scan is stored when its task returns, as before.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
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


@dataclass
class _Ticket:
    visit: service.Visit
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # set before ``done``: this task writes the next batch


class _GroupWriter:
    """One writer at a time per database; the others wait for the batch that holds their scan."""

    def __init__(self, maker: sessionmaker[Session]) -> None:
        self._maker = maker
        self._lock = threading.Lock()
        self._pending: list[_Ticket] = []
        self._writing = False

    def write(self, visit: service.Visit) -> None:
        ticket = _Ticket(visit)
        with self._lock:
            self._pending.append(ticket)
            ticket.lead = not self._writing
            self._writing = True
        if not ticket.lead:
            ticket.done.wait()
            if not ticket.lead:
                return  # written in another task's batch
        batch: list[_Ticket] = []
        try:
            with self._lock:
                batch, self._pending = self._pending, []
            _write(self._maker, [t.visit for t in batch])
        finally:
            for done in batch:
                done.done.set()
            with self._lock:  # hand over to the oldest waiting task, if any
                if self._pending:
                    self._pending[0].lead = True
                    self._pending[0].done.set()
                else:
                    self._writing = False


_writers: weakref.WeakKeyDictionary[sessionmaker[Session], _GroupWriter] = (
    weakref.WeakKeyDictionary()
)
_writers_lock = threading.Lock()


def _writer(maker: sessionmaker[Session]) -> _GroupWriter:
    with _writers_lock:
        writer = _writers.get(maker)
        if writer is None:
            writer = _writers[maker] = _GroupWriter(maker)
        return writer


def record_scan(maker: sessionmaker[Session], *, stamp_id: int, ip_hash: str, at: datetime) -> None:
    """Log one scan, in a batch with the scans that arrive while the previous batch is written."""
    _writer(maker).write(service.Visit(stamp_id, ip_hash, at))
