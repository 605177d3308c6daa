"""A producer on a phone signs in, switches language and declares a product in Chromium."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.models import Product

pytestmark = pytest.mark.browser


def test_producer_declares_a_product_on_a_phone(
    browser, live_server: str, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server}/my/products")
    assert "/login" in page.url
    assert page.locator("h1").inner_text() == "Đăng nhập"
    page.fill("#f-email", ent.admin.email)
    page.fill("#f-password", "wrong password!")
    page.click("button[type=submit]")
    assert page.locator("#e-password").is_visible()

    page.fill("#f-password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/my/products")
    page.click("text=Khai báo sản phẩm")
    gtin = f.gtin13()
    page.fill("#f-gtin", gtin[:-1] + str((int(gtin[-1]) + 1) % 10))
    page.fill("#f-name_vi", "Vải thiều sấy khô")
    page.select_option("#f-sector", "agriculture")
    page.click("form.card button[type=submit]")
    error = page.locator("#e-gtin")
    assert error.is_visible()
    assert gtin[-1] in error.inner_text()
    assert page.input_value("#f-name_vi") == "Vải thiều sấy khô"

    page.fill("#f-gtin", gtin)
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/my/products/*?saved=1")
    assert (
        db_session.scalar(select(Product.name_vi).where(Product.gtin == "0" + gtin))
        == "Vải thiều sấy khô"
    )

    page.click("a[lang=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("text=Sign out").is_visible()
    # nothing overflows the phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
