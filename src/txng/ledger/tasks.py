"""Background work of the ledger in the web process: drain the outbox, sign checkpoints."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from txng.config import Settings
from txng.db import session_scope
from txng.ledger import keys, service

log = logging.getLogger(__name__)


def tick(factory: sessionmaker[Session], ring: keys.Keyring, *, sign: bool) -> int:
    """One round: seal what is queued; sign a checkpoint when asked and the tree grew."""
    sealed = service.drain(factory)
    if sign:
        with session_scope(factory) as session:
            service.sign_checkpoint(session, keyring=ring)
    return sealed


def start(factory: sessionmaker[Session], settings: Settings) -> threading.Event:
    """Run ``tick`` forever in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    ring = keys.load(settings)

    def loop() -> None:
        last_sign = 0.0
        while not stop.is_set():
            now = time.monotonic()
            sign = now - last_sign >= settings.ledger_checkpoint_seconds
            try:
                tick(factory, ring, sign=sign)
                if sign:
                    last_sign = now
            except Exception:  # keep the thread alive; the next round retries
                log.exception("ledger background round failed")
            stop.wait(settings.ledger_drain_seconds)

    threading.Thread(target=loop, name="txng-ledger", daemon=True).start()
    return stop
