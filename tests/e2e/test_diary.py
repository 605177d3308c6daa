"""A farmer keeps the production diary on a phone in Chromium: a harvest by tapping tiles, then an
entry made without signal that is kept on the phone and sent later with its original time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.kit import i18n
from txng.models import EpcisEvent
from txng.registry import service as registry_service
from txng.registry.schemas import FacilityIn

pytestmark = pytest.mark.browser


def vi(message: str) -> str:
    return i18n.gettext("vi", message)


def _events(session: Session) -> list[EpcisEvent]:
    session.rollback()  # a fresh snapshot: the server wrote in its own transactions
    return list(session.scalars(select(EpcisEvent).order_by(EpcisEvent.id)))


def test_a_farmer_records_a_harvest_then_an_entry_without_signal(
    browser, live_server: str, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    registry_service.create_facility(
        db_session,
        actor=f.ADMIN,
        organisation_id=ent.org.id,
        data=FacilityIn.model_validate(
            {
                "kind": "growing_area",
                "name": "Vùng trồng đồi Cẩm",
                "growing_area_code": "VT-24-001",
                "province_code": "24",
                "commune_code": f.LUC_NGAN,
            }
        ),
    )
    f.product(db_session, organisation_id=ent.org.id, name="Vải thiều Lục Ngạn")
    db_session.commit()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    page = context.new_page()
    page.goto(f"{live_server}/my/diary")
    page.fill("#f-email", ent.admin.email)
    page.fill("#f-password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/my/diary")

    # a harvest in a few taps: new entry → harvest tile → product → quantity → unit → save
    page.click("a[href='/my/diary/new']")
    page.click("a.tile[href^='/my/diary/new/harvest']")
    page.click("#f-product label.chip")
    today = datetime.now(i18n.DISPLAY_TZ).date()
    assert page.input_value("#f-lot_number") == f"{today:%Y%m%d}-01"
    page.click("form.diary-form button[type=submit]")  # no quantity: the server says so
    page.locator("#e-quantity").wait_for()
    assert page.locator("#e-quantity").inner_text() == vi("This field is required")
    assert page.input_value("#f-lot_number") == f"{today:%Y%m%d}-01"
    assert len(_events(db_session)) == 0
    page.fill("#f-quantity", "125,5")
    page.click("#f-unit label.chip:has(input[value=KGM])")
    page.click("form.diary-form button[type=submit]")
    page.wait_for_url("**/my/diary?saved=*")
    new = page.locator(".entry.is-new")
    assert f"125,5 {vi('kg')}" in new.inner_text()
    assert f"{today:%Y%m%d}-01" in new.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert len(_events(db_session)) == 1

    # no signal: the entry stays on the phone
    page.click("a[href='/my/diary/new']")
    page.click("a.tile[href^='/my/diary/new/fertilising']")
    page.click("#f-product label.chip")
    page.fill("#f-input", "NPK 16-16-8")
    page.fill("#f-dose", "2")
    page.click("#f-dose_unit label.chip:has(input[value=KGM])")
    context.set_offline(True)
    tapped = datetime.now(UTC)
    page.click("form.diary-form button[type=submit]")
    notice = page.locator("#diary-queue")
    notice.wait_for(state="visible")
    saved_text = vi("Saved on this phone. It will be sent when there is a signal.")
    assert saved_text in notice.inner_text()
    assert vi("Waiting to be sent: %(n)s").replace("%(n)s", "1") in notice.inner_text()
    assert page.input_value("#f-input") == ""  # the form is ready for the next entry
    time.sleep(2)
    assert len(_events(db_session)) == 1

    # the signal is back: the entry is sent with the time it was saved
    context.set_offline(False)
    sent = vi("The entries saved on this phone have been sent.")
    page.wait_for_function(
        "text => document.getElementById('diary-queue').innerText.includes(text)", arg=sent
    )
    events = _events(db_session)
    assert len(events) == 2
    fertilising = events[1]
    assert fertilising.body["bizStep"] == "txng:fertilising"
    assert fertilising.body["txng:input"] == "NPK 16-16-8"
    assert fertilising.body["eventTimeZoneOffset"] == "+07:00"
    assert tapped - timedelta(seconds=1) <= fertilising.event_time <= tapped + timedelta(seconds=1)
    assert fertilising.record_time - fertilising.event_time >= timedelta(seconds=1.5)

    page.goto(f"{live_server}/my/diary")
    rows = page.locator(".entry")
    assert rows.count() == 2
    assert vi("Fertilising") in page.locator(f"#entry-{fertilising.id}").inner_text()
    shown = i18n.format_datetime(fertilising.event_time)
    assert shown in page.locator(f"#entry-{fertilising.id} time").inner_text()
    assert page.evaluate("localStorage.getItem('txng.diary.queue.v1')") == "[]"
    context.close()
