"""The demo's stamps: requested, approved, issued, some activated on the published lychee lot,
and the printed URL of one of them names an activated stamp."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from txng.demo.data import load_demo
from txng.models import EpcisEvent, Stamp, StampRequest
from txng.resolver import dl


def test_the_demo_has_activated_stamps_on_a_published_lot(db_session: Session) -> None:
    result = load_demo(db_session)
    db_session.flush()
    req = db_session.scalars(select(StampRequest)).one()
    assert (req.state, req.issued_count) == ("issued", req.quantity)
    active = db_session.scalars(select(Stamp).where(Stamp.status == "active")).all()
    assert len(active) == 24
    lot = active[0].lot
    assert lot is not None
    harvest = db_session.scalars(
        select(EpcisEvent).where(EpcisEvent.biz_step == "commissioning", EpcisEvent.action == "ADD")
    ).all()
    assert any(e.body.get("ilmd", {}).get("cbvmda:lotNumber") == lot for e in harvest)
    event = db_session.scalars(
        select(EpcisEvent).where(EpcisEvent.event_id == active[0].activation_event_id)
    ).one()
    assert event.published_at is not None
    assert event.event_time <= event.record_time

    parsed = dl.parse(result.stamp_path)
    stamp = db_session.scalars(select(Stamp).where(Stamp.serial == parsed.qualifier("21"))).one()
    assert stamp.status == "active"
    assert stamp.gtin == parsed.key
    unpublished = db_session.scalar(
        select(func.count()).select_from(EpcisEvent).where(EpcisEvent.published_at.is_(None))
    )
    assert unpublished == 0


def test_txng_demo_prints_the_stamp_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from txng.cli.main import _print_logins
    from txng.config import Settings

    settings = Settings(data_dir=tmp_path)
    (tmp_path / "demo-logins.txt").write_text(
        "provincial_admin\tadmin@txng.demo\tpw\nstamp\t/01/08930001000018/21/ABCDEFGHJKMNP\n"
    )
    _print_logins(settings, "127.0.0.1", 8000)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/01/08930001000018/21/ABCDEFGHJKMNP" in out
