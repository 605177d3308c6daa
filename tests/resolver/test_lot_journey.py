"""A lot's journey on the consumer page: its own events and those upstream of it, not the
activations of its stamps (each item's page shows its own); the backward trace behind it walks
every item activated in the lot and is reused until the lot's own published events change
(consumer_upstream_cache_seconds)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.orm import Session

import scan_factories as sf
from conftest import Clock
from txng.epcis import identifiers
from txng.kit.ttlcache import TTLCache
from txng.resolver import repository as resolver_repository
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


def test_each_item_shows_its_own_activation_and_the_lot_none(
    client: TestClient, db_session: Session
) -> None:
    w = sf.world(db_session)
    first, second, third = (sf.stamp(db_session, w) for _ in range(3))
    sf.activation(db_session, w, first, second)  # two activations of the same lot
    sf.activation(db_session, w, third)
    db_session.commit()
    lot_journey = _journey(client, f"/01/{w.gtin}/10/{sf.LOT}")
    assert all("recorded at the time" not in line for line in lot_journey)  # none of today's
    for stamp in (first, second, third):
        journey = _journey(client, sf.url(stamp))
        assert journey[: len(lot_journey)] == lot_journey
        assert len(journey) == len(lot_journey) + 1  # its own activation, once
        assert "recorded at the time" in journey[-1]


def _journey(client: TestClient, path: str) -> list[str]:
    page = client.get(path, headers=sf.BROWSER, params={"lang": "en"})
    assert page.status_code == 200, page.text[:300]
    items = html.fromstring(page.text).xpath("//ol[@class='journey']/li")
    return [" ".join(li.text_content().split()) for li in items]


def test_an_items_own_events_outlast_the_published_facts_cache(
    app: FastAPI, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyed by their ids, an item's own events are kept as long as the upstream trace: when the
    product's and lot's facts expire (10 s) they are not loaded again."""
    w = sf.world(db_session)
    stamp = sf.stamp(db_session, w)
    sf.activation(db_session, w, stamp)
    db_session.commit()
    item = identifiers.sgtin_dl(w.gtin, stamp.serial)
    own = set(resolver_repository.published_event_ids_naming(db_session, item))
    loaded: list[set[int]] = []
    real = resolver_repository.published_events_by_id

    def by_id(session: Session, event_pks: set[int], *args: Any) -> Any:
        loaded.append(set(event_pks))
        return real(session, event_pks, *args)

    monkeypatch.setattr(resolver_repository, "published_events_by_id", by_id)
    clock = Clock()
    settings = app.state.settings
    app.state.consumer_cache = TTLCache(settings.consumer_cache_seconds, clock=clock)
    app.state.consumer_upstream_cache = TTLCache(
        settings.consumer_upstream_cache_seconds, clock=clock
    )
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        first = _journey(c, sf.url(stamp))
        assert [pks for pks in loaded if pks & own] == [own]  # loaded once
        clock.now += settings.consumer_cache_seconds + 1  # the published facts expired
        for _ in range(3):
            assert _journey(c, sf.url(stamp)) == first
        assert [pks for pks in loaded if pks & own] == [own]  # not loaded again
        clock.now += settings.consumer_upstream_cache_seconds + 1  # now they expire too
        for _ in range(2):
            assert _journey(c, sf.url(stamp)) == first
        assert [pks for pks in loaded if pks & own] == [own, own]
