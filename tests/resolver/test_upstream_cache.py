"""The backward trace behind a lot's journey walks every item activated in the lot: the consumer
page reuses it until the lot's own published events change (consumer_upstream_cache_seconds)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

import scan_factories as sf
from txng.kit.ttlcache import TTLCache
from txng.resolver import service as resolver_service


def test_the_trace_upstream_of_a_lot_is_reused_until_the_lots_events_change(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = sf.world(db_session)
    db_session.commit()
    traced: list[str] = []
    real = resolver_service._upstream_event_ids

    def upstream_of(session: Session, lgtin: str) -> Any:
        traced.append(lgtin)
        return real(session, lgtin)

    monkeypatch.setattr(resolver_service, "_upstream_event_ids", upstream_of)
    cache: TTLCache[Any] = TTLCache(300)

    def facts() -> Any:
        return resolver_service.published(db_session, gtin=w.gtin, lot=sf.LOT, upstream=cache)

    first = facts()
    assert first is not None
    assert first.lot_events
    assert facts() == first
    assert len(traced) == 1  # traced once, reused
    sf.lot_event(db_session, w, "receiving")
    db_session.commit()
    later = facts()  # the lot has a new published event: traced again, shown at once
    assert len(traced) == 2
    assert len(later.lot_events) == len(first.lot_events) + 1
    assert later.lot_events[-1].step == "Receiving"
    resolver_service.published(db_session, gtin=w.gtin, lot=sf.LOT)  # no cache: traced each time
    assert len(traced) == 3
