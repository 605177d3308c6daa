"""A client signed in as a given user, for the authority tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import factories as f


@pytest.fixture
def as_user(app: FastAPI) -> Callable[[str], tuple[TestClient, dict[str, str]]]:
    """A client signed in as the user, and the CSRF header its API calls need."""
    clients: list[TestClient] = []

    def sign_in(email: str) -> tuple[TestClient, dict[str, str]]:
        c = TestClient(app)
        clients.append(c)
        f.login(c, email)
        return c, {"X-CSRF-Token": c.cookies["txng_csrf"]}

    return sign_in
