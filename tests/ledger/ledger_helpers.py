"""Shared helpers of the ledger tests: keyrings, published records, an in-process log client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.epcis import capture as capture_service
from txng.ledger import notes
from txng.ledger.keys import Keyring
from txng.models import Organisation, Product, ReviewItem
from txng.review import service as review_service

ORIGIN = "txng.test/ledger"
AGRI_REVIEWER = Principal(role=Role.SECTOR_REVIEWER, label="Sở NN&MT", sector=Sector.AGRICULTURE)


def witness_signer(name: str) -> notes.Signer:
    return notes.generate(name, alg=notes.ALG_COSIGNATURE_V1)


HEALTH = witness_signer("soyte.test/witness")
AGRI = witness_signer("sonnmt.test/witness")


def keyring(
    *, log: notes.Signer | None = None, witnesses: tuple[notes.Signer, ...] = (), quorum: int = 2
) -> Keyring:
    log = log or notes.generate("txng.test/log")
    return Keyring(ORIGIN, log, (log.verifier,), tuple(w.verifier for w in witnesses), quorum)


def publish_product(db: Session, name: str = "Vải thiều Lục Ngạn") -> tuple[Product, ReviewItem]:
    org = f.organisation(db)
    product = f.product(db, organisation_id=org.id, name=name)
    owner = Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=org.id)
    item = review_service.submit_product(db, actor=owner, product_id=product.id)
    review_service.approve(db, actor=AGRI_REVIEWER, item_id=item.id)
    return product, item


def publish_events(db: Session, org: Organisation, serials: list[str]) -> ReviewItem:
    staff = Principal(role=Role.ENTERPRISE_STAFF, label="staff", organisation_id=org.id)
    events = [
        {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventTime": "2026-06-10T07:30:00.000+07:00",
            "eventTimeZoneOffset": "+07:00",
            "epcList": [f"urn:epc:id:sgtin:8930001.012345.{serial}"],
        }
        for serial in serials
    ]
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:00:00.000+07:00",
        "epcisBody": {"eventList": events},
    }
    job = capture_service.capture(db, staff, document).job
    item = db.query(ReviewItem).filter_by(entity_type="event_batch", entity_id=job.id).one()
    if item.state != "published":
        review_service.approve(db, actor=AGRI_REVIEWER, item_id=item.id)
    return item


class InProcessLog:
    """The witness's LogClient over a Starlette TestClient (in-process log)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.get(path, params=dict(params or {}))
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=dict(body))
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data
