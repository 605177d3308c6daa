"""An enterprise requests stamps in Chromium on a phone, watches the progress bar while a
reviewer's approval issues them, and gets the downloads; a screenshot is kept as an artifact
(TXNG_ARTIFACTS_DIR, default var/artifacts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import factories as f
from txng.stamps.service import INLINE_ISSUE_MAX

if TYPE_CHECKING:
    from conftest import World  # the fixture of tests/stamps/conftest.py

pytestmark = pytest.mark.browser


def test_request_then_watch_the_progress_bar_until_the_downloads(
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    world: World,
    backend,  # type: ignore[no-untyped-def]
) -> None:
    world.db.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server}/login?next=/my/stamps")
    page.fill("#f-email", world.ent.admin.email)
    page.fill("#f-password", f.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server}/my/stamps")
    page.goto(f"{live_server}/my/stamps/new")
    page.select_option("#f-product_id", str(world.product.id))
    page.fill("#f-quantity", str(INLINE_ISSUE_MAX * 3))
    page.check("input[name=with_pin]")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/my/stamps/*")
    request_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#issuance").count() == 0  # nothing issued before the review

    world.approve(request_id)
    world.db.commit()  # the approval commits: a thread starts issuing
    page.reload()
    # The script polls the progress and reloads the page when the codes are all issued.
    page.wait_for_selector("#downloads", timeout=90_000)
    assert page.locator("progress").get_attribute("value") == str(INLINE_ISSUE_MAX * 3)
    assert page.locator("a[href$='sheet.pdf?part=3']").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    artifacts = Path(os.environ.get("TXNG_ARTIFACTS_DIR", "var/artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / f"stamps-request-{backend.name}.png"), full_page=True)
    context.close()
