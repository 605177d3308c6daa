"""A consumer scans a stamp with a cheap phone: Chromium at 390 × 844, Vietnamese then English,
and reports a problem. Screenshots are kept as test artifacts (TXNG_ARTIFACTS_DIR, default
var/artifacts) and, when TXNG_SCREENSHOTS_DIR is set (scripts/screenshots.py), for the README."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

import scan_factories as sf
from txng.models.stamps import ProblemReport

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _shoot(page, name: str, backend: str) -> None:  # type: ignore[no-untyped-def]
    artifacts = Path(os.environ.get("TXNG_ARTIFACTS_DIR", "var/artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / f"{name}-{backend}.png"), full_page=True)
    readme = os.environ.get("TXNG_SCREENSHOTS_DIR")
    if readme and backend == "sqlite" and name in ("consumer-vi", "consumer-en"):
        Path(readme).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(readme) / f"{name}.png"), full_page=False)


def test_a_consumer_scans_a_stamp_on_a_phone(
    browser, live_server: str, db_session: Session, backend, tmp_path: Path
) -> None:
    w = sf.world(db_session)
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    context = browser.new_context(viewport=PHONE, locale="vi-VN", device_scale_factor=1)
    page = context.new_page()
    page.goto(live_server + sf.url(stamp))

    banner = page.locator("#verdict")
    assert "verdict-green" in (banner.get_attribute("class") or "")
    assert banner.is_visible()
    assert page.locator("html").get_attribute("lang") == "vi"
    facts = page.locator("article.resolved").inner_text()
    for fact in ("Vải thiều Lục Ngạn", "HTX Vải thiều Thanh Hà", sf.LOT, stamp.serial, w.gtin):
        assert fact in facts, fact
    journey = page.locator("ol.journey").inner_text()
    assert "10/06/2026 07:30" in journey
    assert "Vườn vải Thanh Hà" in journey
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # large type: the verdict reads at a glance
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.verdict-title')).fontSize)"
    )
    assert size >= 26
    _shoot(page, "consumer-vi", backend.name)

    page.click("a[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # waits for the new page
    expect(page.locator("article.resolved h2")).to_have_text("Luc Ngan lychee")
    expect(page.locator("#verdict h1")).to_have_text("Genuine — first verified now")
    _shoot(page, "consumer-en", backend.name)

    photo = tmp_path / "anh.png"
    photo.write_bytes(PNG)
    page.select_option("#f-category", "quality")
    page.fill("#f-message", "Quả bị dập nhiều, có mùi lạ.")
    page.set_input_files("#f-photo", str(photo))
    page.click("#report button[type=submit]")
    expect(page.locator("h1")).to_have_text("Thank you: your report was sent")
    _shoot(page, "consumer-report-sent", backend.name)
    db_session.expire_all()
    report = db_session.scalar(select(ProblemReport))
    assert report is not None
    assert (report.stamp_id, report.category) == (stamp.id, "quality")
    assert report.photo_file_id is not None
    context.close()
