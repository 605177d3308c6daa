"""Until app.py includes the review routers, the review tests add them to their own app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from txng.app import create_app
from txng.config import Settings
from txng.review import api as review_api
from txng.review import pages as review_pages


@pytest.fixture
def app(settings: Settings, db_session: Session) -> Iterator[FastAPI]:
    application = create_app(settings)
    paths = {getattr(route, "path", "") for route in application.routes}
    if "/api/v1/review/items" not in paths:
        application.include_router(review_api.router)
        application.include_router(review_pages.router)
    yield application
    application.state.engine.dispose()
