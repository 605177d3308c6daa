"""The web shell: health, API docs served locally, error pages and problem documents."""

import pytest
from fastapi.testclient import TestClient


def test_healthz_answers_once_the_database_does(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_api_docs_need_nothing_from_the_internet(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/v1/organisations/{organisation_id}/products" in spec["paths"]


@pytest.mark.browser
def test_api_docs_render_in_chromium(browser, live_server: str) -> None:
    page = browser.new_page()
    page.goto(f"{live_server}/docs")
    page.wait_for_selector(".opblock", timeout=15000)
    assert page.locator(".opblock-summary-path", has_text="/api/v1/products").count() >= 1
    page.close()


def test_unknown_page_gets_the_friendly_error_page_in_vietnamese(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert 'lang="vi"' in response.text
    assert "Không tìm thấy" in response.text


def test_unknown_api_path_gets_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_pages_carry_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    csrf_cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("txng_csrf=")]
    assert csrf_cookie
    assert "HttpOnly" in csrf_cookie[0]
    assert "SameSite=strict" in csrf_cookie[0]
