"""The audit log: every state change and administrative action, append-only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.audit import repository
from txng.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: Sequence[str]) -> dict[str, Any]:
    """The named attributes of an ORM row, ready to store as JSON."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: int | str,
    organisation_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction: the change and its record commit together."""
    entry = AuditEntry(
        actor_user_id=actor.user_id if actor else None,
        actor_api_key_id=actor.api_key_id if actor else None,
        actor_label=actor.label if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        organisation_id=organisation_id,
        ip_address=actor.ip_address if actor else None,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    repository.add(session, entry)
    return entry


def entries_for(session: Session, *, entity_type: str, entity_id: int | str) -> list[AuditEntry]:
    return repository.for_entity(session, entity_type, str(entity_id))
