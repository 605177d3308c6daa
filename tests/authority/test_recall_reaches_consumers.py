"""An inspector's recall, end to end: the stamp's consumer page turns red at once, with the
instructions, and the recall is sealed in the ledger so that rewriting it later is detected."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import update
from sqlalchemy.orm import Session
from tests.authority.helpers import INSPECTOR

import scan_factories as sf
from conftest import Backend
from txng.ledger import service as ledger_service
from txng.models import Recall
from txng.recalls import service


def _verdict(client: TestClient, path: str) -> tuple[str, str]:
    page = html.fromstring(client.get(path + "?lang=en", headers=sf.BROWSER).text)
    banner = page.xpath("//section[@id='verdict']")[0]
    tone = next(c for c in banner.get("class").split() if c.startswith("verdict-"))
    return tone, banner.text_content()


def test_an_inspectors_recall_shows_on_the_stamp_page_and_is_sealed(
    client: TestClient, db_session: Session, backend: Backend
) -> None:
    w = sf.world(db_session)
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    tone, _ = _verdict(client, sf.url(stamp))
    assert tone == "verdict-green"

    recall = service.recall_lot(
        db_session,
        actor=INSPECTOR,
        gtin=w.gtin,
        lot=sf.LOT,
        reason="Dư lượng thuốc bảo vệ thực vật vượt ngưỡng",
        severity="high",
        instructions_vi="Ngừng sử dụng và mang trả nơi mua.",
        instructions_en="Stop eating it and bring it back to the shop.",
    )
    db_session.commit()

    tone, text = _verdict(client, sf.url(stamp))
    assert tone == "verdict-red"
    assert "recalled" in text
    assert "Stop eating it and bring it back to the shop." in text

    ledger_service.drain(backend.sessionmaker)
    assert ledger_service.seal_context(db_session, kind="recall", ref=str(recall.id)) is not None
    assert not [p for p in ledger_service.audit(db_session) if p.kind == "recall"]

    # Someone softens the recall in the database afterwards: the ledger's audit catches it.
    db_session.execute(update(Recall).where(Recall.id == recall.id).values(severity="low"))
    db_session.commit()
    changed = [p for p in ledger_service.audit(db_session) if p.kind == "recall"]
    assert [(p.ref, p.problem) for p in changed] == [(str(recall.id), "changed")]
