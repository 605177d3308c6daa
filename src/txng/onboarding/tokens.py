"""Signed links of a registration: the single-use verification token and the status key.

The verification token is random; the link carries it with an HMAC so that forged links are
refused without a database read, and the database keeps only its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_verify_link_token(secret: str) -> tuple[str, str]:
    """``(link_token, token_hash)``: the first goes into the e-mail, the second into the row."""
    token = secrets.token_urlsafe(32)
    return f"{token}.{_mac(secret, 'register-verify', token)}", token_hash(token)


def verify_link_hash(secret: str, link_token: str) -> str | None:
    """The stored hash a well-signed link token stands for; ``None`` for a forged one."""
    token, _, mac = link_token.rpartition(".")
    if not token or not hmac.compare_digest(mac, _mac(secret, "register-verify", token)):
        return None
    return token_hash(token)


def status_key(secret: str, registration_id: int) -> str:
    """A key that shows one registration's status, sent to the applicant only."""
    return f"{registration_id}.{_mac(secret, 'register-status', str(registration_id))}"


def registration_of_status_key(secret: str, key: str) -> int | None:
    ident, _, mac = key.partition(".")
    if not ident.isdigit() or len(ident) > 18:
        return None
    if not hmac.compare_digest(mac, _mac(secret, "register-status", ident)):
        return None
    return int(ident)
