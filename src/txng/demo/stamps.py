"""Stamps for the demo: the lychee cooperative requests stamps for its loose lychee, the
provincial reviewer approves (the codes are issued), and the cooperative activates some of them
on the demo's harvest lot; the activation event is reviewed and published like the diary's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.accounts.service import principal_of
from txng.demo.data import ENTERPRISE_USERS, LYCHEE_BULK_GTIN
from txng.demo.events import LYCHEE_HARVEST_DAYS_AGO
from txng.demo.review import REVIEWER_EMAIL
from txng.diary.forms import suggest_lot
from txng.kit.gs1 import normalize_gtin
from txng.kit.i18n import DISPLAY_TZ
from txng.models import Product, ReviewItem, Stamp, User
from txng.review import service as review_service
from txng.review.state import State
from txng.stamps import service as stamps_service
from txng.stamps.schemas import ActivationIn, StampRequestIn

REQUESTED = 120
ACTIVATED = 24
KG_PER_STAMP = 5  # one stamp per 5 kg basket


def _user(session: Session, slug: str) -> User:
    email = next(e for s, _, e, _, _ in ENTERPRISE_USERS if s == slug)
    return session.scalars(select(User).where(User.email == email)).one()


def load_demo_stamps(session: Session, today: date) -> str:
    """Request, approve, issue and activate the demo's stamps; returns the path of the first
    activated stamp's Digital Link (``/01/…/21/…``) for ``txng demo`` to print."""
    owner = principal_of(_user(session, "vaithieu"))
    reviewer = principal_of(session.scalars(select(User).where(User.email == REVIEWER_EMAIL)).one())
    product = session.scalars(
        select(Product).where(Product.gtin == normalize_gtin(LYCHEE_BULK_GTIN))
    ).one()
    product.units_per_stamp = KG_PER_STAMP
    req = stamps_service.request_stamps(
        session,
        actor=owner,
        data=StampRequestIn(
            product_id=product.id, quantity=REQUESTED, label_template="a4-3x8", with_pin=True
        ),
        limits=stamps_service.Limits(REQUESTED, REQUESTED),
    )
    item = stamps_service.review_item_of(session, req.id)
    assert item is not None  # noqa: S101 - submitted just above
    review_service.approve(session, actor=reviewer, item_id=item.id)

    harvest_day = today - timedelta(days=LYCHEE_HARVEST_DAYS_AGO)
    lot = suggest_lot(harvest_day, set())
    packed = datetime.combine(harvest_day, time(9, 40), DISPLAY_TZ)
    done = stamps_service.activate(
        session,
        actor=owner,
        data=ActivationIn(lot=lot, request_id=req.id, count=ACTIVATED),
        now=packed,
    )
    waiting = session.scalars(
        select(ReviewItem.id).where(
            ReviewItem.entity_type == "event_batch",
            ReviewItem.state == State.SUBMITTED.value,
            ReviewItem.organisation_id == req.organisation_id,
        )
    ).all()
    for item_id in waiting:
        review_service.approve(session, actor=reviewer, item_id=item_id)
    session.flush()
    first: Stamp = done.stamps[0]
    return stamps_service.printed_uri("", first, req.lot)
