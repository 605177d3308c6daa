"""The seal partial, the public ledger entry page, and the browser's own check of the proof."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conftest import Backend
from ledger.ledger_helpers import AGRI, HEALTH, publish_product
from txng.db import session_scope
from txng.ledger import keys, notes, service
from txng.models import ReviewItem


def _sealed(db: Session, backend: Backend, app: FastAPI, cosigners: tuple[notes.Signer, ...]):  # type: ignore[no-untyped-def]
    ring = keys.load(app.state.settings)
    product, item = publish_product(db, name="Vải thiều Lục Ngạn")
    db.commit()
    service.drain(backend.sessionmaker)
    with session_scope(backend.sessionmaker) as s:
        cp = service.sign_checkpoint(s, keyring=ring)
        body = cp.note.split("\n\n")[0] + "\n"
        for w in cosigners:
            line = notes.cosignature_line(w, body, 1_765_000_000)
            service.add_cosignature(s, keyring=ring, body=body, line=line)
    return product, item


def test_the_entry_page_shows_the_seal_and_who_witnessed_it(
    api: TestClient,
    ledger_app: FastAPI,
    db_session: Session,
    backend: Backend,
) -> None:
    product, item = _sealed(db_session, backend, ledger_app, (HEALTH, AGRI))
    page = api.get("/so-cai/0?lang=en")
    assert page.status_code == 200
    html = page.text
    assert 'data-seal-status="verified"' in html
    assert "verified by 2 agencies" in html
    assert HEALTH.name in html
    assert AGRI.name in html
    assert "Vải thiều Lục Ngạn" in html
    assert api.get("/so-cai/99").status_code == 404

    # Pending quorum is said, not hidden.
    seal = service.seal_context(
        db_session,
        kind="product",
        ref=str(product.id),
        keyring=keys.load(ledger_app.state.settings),
    )
    assert seal is not None
    assert seal["final"] is True

    snapshot = {**item.snapshot, "name_vi": "Vải thiều giả"}
    db_session.execute(update(ReviewItem).where(ReviewItem.id == item.id).values(snapshot=snapshot))
    db_session.commit()
    html = api.get("/so-cai/0?lang=en").text
    assert 'data-seal-status="tampered"' in html
    assert "no longer matches" in html
    assert 'data-seal-status="verified"' not in html


def test_a_record_waiting_for_its_checkpoint_says_so(
    api: TestClient,
    ledger_app: FastAPI,
    db_session: Session,
    backend: Backend,
) -> None:
    publish_product(db_session)
    db_session.commit()
    service.drain(backend.sessionmaker)
    html = api.get("/so-cai/0?lang=en").text
    assert 'data-seal-status="pending"' in html

    # Signed, but no agency has cosigned yet: verified by the log alone, and said so.
    with session_scope(backend.sessionmaker) as s:
        service.sign_checkpoint(s, keyring=keys.load(ledger_app.state.settings))
    html = api.get("/so-cai/0?lang=en").text
    assert 'data-seal-status="verified"' in html
    assert "and verified." in html
    assert "Waiting for more agencies to cosign (0 of 2)." in html


@pytest.mark.browser
def test_the_browser_verifies_the_proof_and_signatures_itself(
    browser,  # type: ignore[no-untyped-def]
    log_server: str,
    ledger_app: FastAPI,
    db_session: Session,
    backend: Backend,
) -> None:
    _sealed(db_session, backend, ledger_app, (HEALTH, AGRI))
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{log_server}/so-cai/0")
    check = page.locator("[data-ledger-check][data-browser]")
    check.wait_for(timeout=10_000)
    assert check.get_attribute("data-browser") == "verified"
    assert check.get_attribute("data-witnesses") == "2"
    assert float(check.get_attribute("data-ms") or "0") > 0
    assert errors == []
    context.close()


@pytest.mark.browser
def test_without_ed25519_the_browser_checks_the_proof_and_keeps_the_server_result(
    browser,  # type: ignore[no-untyped-def]
    log_server: str,
    ledger_app: FastAPI,
    db_session: Session,
    backend: Backend,
) -> None:
    _sealed(db_session, backend, ledger_app, (HEALTH, AGRI))
    context = browser.new_context(locale="vi-VN")
    # An older browser: SubtleCrypto without Ed25519.
    context.add_init_script(
        """
        const original = crypto.subtle.importKey.bind(crypto.subtle);
        crypto.subtle.importKey = (format, key, alg, ...rest) =>
          (alg && (alg === "Ed25519" || alg.name === "Ed25519"))
            ? Promise.reject(new DOMException("no Ed25519", "NotSupportedError"))
            : original(format, key, alg, ...rest);
        """
    )
    page = context.new_page()
    page.goto(f"{log_server}/so-cai/0")
    check = page.locator("[data-ledger-check][data-browser]")
    check.wait_for(timeout=10_000)
    assert check.get_attribute("data-browser") == "fallback"
    assert page.locator('[data-seal-status="verified"]').count() == 1
    context.close()


def test_a_stamps_consumer_page_shows_the_products_seal_and_a_tampered_name(
    api: TestClient,
    ledger_app: FastAPI,
    db_session: Session,
    backend: Backend,
) -> None:
    import scan_factories as sf

    w = sf.world(db_session)
    s = sf.stamp(db_session, w)
    db_session.commit()
    service.drain(backend.sessionmaker)
    ring = keys.load(ledger_app.state.settings)
    with session_scope(backend.sessionmaker) as session:
        cp = service.sign_checkpoint(session, keyring=ring)
        body = cp.note.split("\n\n")[0] + "\n"
        for witness in (HEALTH, AGRI):
            line = notes.cosignature_line(witness, body, 1_765_000_000)
            service.add_cosignature(session, keyring=ring, body=body, line=line)
    response = api.get(sf.url(s) + "?lang=en", headers=sf.BROWSER)
    html = response.text
    assert 'data-seal-status="verified"' in html
    assert "verified by 2 agencies" in html

    # Someone with database access renames the published product behind the ledger's back.
    item = db_session.scalars(
        select(ReviewItem).where(
            ReviewItem.entity_type == "product",
            ReviewItem.entity_id == w.product.id,
            ReviewItem.state == "published",
        )
    ).one()
    snapshot = {**item.snapshot, "name_vi": "Vải thiều giả"}
    db_session.execute(update(ReviewItem).where(ReviewItem.id == item.id).values(snapshot=snapshot))
    db_session.commit()
    ledger_app.state.consumer_cache = None  # the page's 10 s cache of published facts
    html = api.get(sf.url(s) + "?lang=en", headers=sf.BROWSER).text
    assert 'data-seal-status="tampered"' in html
    assert 'data-seal-status="verified"' not in html
