"""The trace page: a graph drawn on the server and a timeline, in Vietnamese by default."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.orm import Session
from tests.trace import chains

import factories as f
from txng.accounts.roles import Role


def test_an_inspector_sees_the_lychee_box_graph_and_timeline(
    client: TestClient, db_session: Session
) -> None:
    w = chains.world(db_session)
    ly = chains.lychee(db_session, w)
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    f.login(client, inspector.email)

    response = client.get("/trace", params={"id": ly.boxes[0], "direction": "backward"})
    assert response.status_code == 200
    page = html.fromstring(response.text)
    boxes = page.xpath("//svg//g[@class='node']")
    titles = [box.findtext("title") for box in boxes]
    assert ly.boxes[0] in titles
    assert ly.harvest_lot_urn in titles
    # The start is drawn differently, and the farm's name appears on the harvest lot.
    text = " ".join(page.xpath("//svg//text/text()"))
    assert w.farm.org.name[:22] in text or w.farm.org.name[:21] + "…" in text
    rows = page.xpath("//section[@aria-labelledby='timeline-title']//tbody/tr")
    assert len(rows) == len(page.xpath("//svg/path"))
    assert len(rows) >= 3
    times = [row.findtext("td") for row in rows]
    assert all(t and "/" in t for t in times)  # dd/mm/yyyy
    assert "Lô" in text  # kinds are named in Vietnamese by default


def test_unknown_and_malformed_identifiers(client: TestClient, db_session: Session) -> None:
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    f.login(client, inspector.email)
    unknown = client.get("/trace", params={"id": "urn:epc:class:lgtin:8930001.012345.NOPE"})
    assert unknown.status_code == 404
    bad = client.get("/trace", params={"id": "urn:epc:id:sgtin:12.34"})
    assert bad.status_code == 422
    page = html.fromstring(bad.text)
    assert page.xpath("//p[@id='e-id']"), "the message is shown next to the field"


def test_the_public_sees_nothing_unpublished(client: TestClient, db_session: Session) -> None:
    w = chains.world(db_session)
    ly = chains.lychee(db_session, w)
    db_session.commit()
    response = client.get("/trace", params={"id": ly.harvest_lot_urn})
    assert response.status_code == 404
