"""The demo's review round: every public fact of the demo passes through a recorded review.

Each enterprise submits its profile and its products; the provincial administrator approves
and publishes them and the diary's event batches, as a reviewer would from the queue. The
audit log keeps who decided what and when, as for any review.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.accounts import service as accounts_service
from txng.accounts.roles import Principal, Role
from txng.models import Organisation, Product, ReviewItem, User
from txng.review import service as review_service
from txng.review.state import State

REVIEWER_EMAIL = "sokhcn@txng.demo"


def review_everything(session: Session) -> int:
    """Submit every organisation and product, then approve and publish all that waits.

    Returns how many items were published.
    """
    admins = session.scalars(
        select(User).where(User.role == Role.ENTERPRISE_ADMIN.value).order_by(User.id)
    )
    owners: dict[int, Principal] = {}
    for user in admins:
        if user.organisation_id is not None:
            owners.setdefault(user.organisation_id, accounts_service.principal_of(user))
    for org in session.scalars(select(Organisation).order_by(Organisation.id)):
        owner = owners.get(org.id)
        if owner is None:
            continue
        review_service.submit_organisation(session, actor=owner, organisation_id=org.id)
        products = session.scalars(
            select(Product).where(Product.organisation_id == org.id).order_by(Product.id)
        )
        for product in products:
            review_service.submit_product(session, actor=owner, product_id=product.id)
    session.flush()
    reviewer_user = session.scalars(select(User).where(User.email == REVIEWER_EMAIL)).one()
    reviewer = accounts_service.principal_of(reviewer_user)
    waiting = session.scalars(
        select(ReviewItem.id)
        .where(ReviewItem.state == State.SUBMITTED.value)
        .order_by(ReviewItem.id)
    ).all()
    results = review_service.bulk_approve(session, actor=reviewer, item_ids=waiting, publish=True)
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"demo review refused {len(failed)} item(s): {failed[:3]}")
    return len(results)
