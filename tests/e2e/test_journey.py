"""The whole journey in Chromium: a cooperative registers, confirms its e-mail, is approved,
declares a product and submits it; a sector reviewer approves and publishes it; anyone then finds
it on the public portal by typing its name without diacritics."""

from __future__ import annotations

import email
import re
import time
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Role, Sector
from txng.config import Settings
from txng.kit import i18n

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PASSWORD = "vai-thieu-2026!"


def vi(message: str) -> str:
    return i18n.gettext("vi", message)


def _mail_link(outbox: Path, path: str, after: int, deadline: float = 15.0) -> tuple[str, int]:
    """The link of the newest e-mail written after the first ``after`` ones (sent after commit)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if len(files) > after:
            message = email.message_from_bytes(files[-1].read_bytes(), policy=default_policy)
            assert isinstance(message, EmailMessage)
            content = message.get_content()
            match = re.search(rf"https?://[^\s/]+({re.escape(path)}\S+)", content)
            assert match, content
            return match.group(1), len(files)
        time.sleep(0.05)  # polling the outbox, not waiting for the page
    raise AssertionError(f"no e-mail with {path} in {outbox}")


def test_register_approve_declare_submit_review_publish_and_find(
    browser, live_server: str, db_session: Session, settings: Settings, tmp_path: Path
) -> None:
    admin = f.user(db_session, role=Role.PROVINCIAL_ADMIN, email="admin@sokhcn.gov.vn")
    reviewer = f.user(
        db_session, role=Role.SECTOR_REVIEWER, sector=Sector.AGRICULTURE, email="nn@snnmt.gov.vn"
    )
    db_session.commit()
    outbox = settings.data_dir / "outbox"
    scan = tmp_path / "dkkd.pdf"
    scan.write_bytes(PDF)
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    page.set_default_timeout(15_000)

    # 1. The cooperative finds the registration link on the sign-in page and registers.
    page.goto(f"{live_server}/login")
    page.click(f"a[href='/register']:has-text('{vi('Register an enterprise')}')")
    page.wait_for_url(f"{live_server}/register")
    page.select_option("#f-kind", "cooperative")
    page.fill("#f-name", "HTX Vải thiều Thanh Hà")
    page.fill("#f-tax_code", f.tax_code())
    page.select_option("#f-sector", "agriculture")
    page.select_option("#f-commune_code", f.LUC_NGAN)
    page.fill("#f-street_address", "Thôn Phì Điền")
    page.set_input_files("#f-business_registration", str(scan))
    page.fill("#f-full_name", "Trần Thị Bích")
    page.fill("#f-email", "bich@htx-thanhha.vn")
    page.fill("#f-phone", "0912 345 678")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm_password", PASSWORD)
    page.click("form[action='/register'] button[type=submit]")
    page.wait_for_url(f"{live_server}/register/sent")

    # 2. The e-mail link confirms the address.
    verify, seen = _mail_link(outbox, "/register/verify/", after=0)
    page.goto(f"{live_server}{verify}")
    assert page.locator("main").inner_text()

    # 3. The provincial admin approves the registration.
    officials = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    admin_page = officials.new_page()
    admin_page.set_default_timeout(15_000)
    admin_page.goto(f"{live_server}/admin/registrations")
    admin_page.fill("#f-email", admin.email)
    admin_page.fill("#f-password", f.PASSWORD)
    admin_page.click("button[type=submit]")
    admin_page.wait_for_url(f"{live_server}/admin/registrations")
    admin_page.click("a:has-text('HTX Vải thiều Thanh Hà')")
    admin_page.click("form[action$='/approve'] button[type=submit]")
    admin_page.locator(".alert-ok").wait_for()
    admin_page.click("form[action='/logout'] button")
    admin_page.wait_for_url(f"{live_server}/")
    _mail_link(outbox, "/", after=seen)  # the applicant is told of the decision

    # 4. The cooperative signs in, declares its product and submits it for review.
    page.goto(f"{live_server}/my/products/new")
    page.fill("#f-email", "bich@htx-thanhha.vn")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/my/products/new")
    page.fill("#f-gtin", f.gtin13("8930009"))
    page.fill("#f-name_vi", "Vải thiều Thanh Hà sấy khô")
    page.fill("#f-name_en", "Thanh Ha dried lychee")
    page.select_option("#f-sector", "agriculture")
    page.click("form[action='/my/products/new'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/my/products/\d+\?saved=1$"))
    page.click(f"form[action^='/review/products/'] button:has-text('{vi('Submit for review')}')")
    page.wait_for_url(re.compile(r".*/review/items/\d+$"))
    assert vi("Awaiting review") in page.locator(".facts").inner_text()

    # 5. The agriculture reviewer approves it, which publishes it.
    review = officials.new_page()
    review.set_default_timeout(15_000)
    review.goto(f"{live_server}/review")
    review.fill("#f-email", reviewer.email)
    review.fill("#f-password", f.PASSWORD)
    review.click("button[type=submit]")
    review.wait_for_url(f"{live_server}/review")
    review.click("a:has-text('Vải thiều Thanh Hà sấy khô')")
    review.click("button[name=action][value=approve]")
    review.wait_for_url(re.compile(r".*/review/items/\d+\?done=approve$"))
    assert vi("Published") in review.locator(".facts").inner_text()

    # 6. Anyone finds it on the portal without typing the diacritics.
    visitor = browser.new_context(locale="vi-VN")
    public = visitor.new_page()
    public.set_default_timeout(15_000)
    public.goto(f"{live_server}/")
    public.fill("#home-q", "vai thieu thanh ha")
    public.click("form.portal-search button[type=submit]")
    public.wait_for_url(re.compile(r".*/san-pham\?q=vai\+thieu\+thanh\+ha$"))
    found = public.locator("li.pcard a:has-text('Vải thiều Thanh Hà sấy khô')")
    found.wait_for()
    found.click()
    public.wait_for_url(re.compile(r".*/san-pham/\d+$"))
    assert "Vải thiều Thanh Hà sấy khô" in public.locator("h1").inner_text()
    context.close()
    officials.close()
    visitor.close()
