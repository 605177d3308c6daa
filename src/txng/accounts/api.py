"""JSON API: who am I, and the organisation's API keys."""

from __future__ import annotations

from fastapi import APIRouter, status

from txng.accounts import service
from txng.accounts.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, MeOut
from txng.errors import NotFound
from txng.web.deps import DB, ApiCaller, DbId

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/me", response_model=MeOut)
def me(caller: ApiCaller) -> MeOut:
    """The caller as the API sees it: role, organisation and scope."""
    return MeOut(
        role=caller.role.value,
        label=caller.label,
        organisation_id=caller.organisation_id,
        sector=caller.sector.value if caller.sector else None,
        communes=sorted(caller.communes),
    )


def _org(caller: ApiCaller) -> int:
    if caller.organisation_id is None:
        raise NotFound()
    return caller.organisation_id


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(caller: ApiCaller, db: DB) -> list[ApiKeyOut]:
    """The caller's organisation's keys (enterprise administrators)."""
    keys = service.list_api_keys(db, actor=caller, organisation_id=_org(caller))
    return [ApiKeyOut.model_validate(k) for k in keys]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyIn, caller: ApiCaller, db: DB) -> ApiKeyCreated:
    """Create a key; the response carries the full key once."""
    key, full = service.create_api_key(
        db, actor=caller, organisation_id=_org(caller), name=body.name
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=full)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_api_key(key_id: DbId, caller: ApiCaller, db: DB) -> ApiKeyOut:
    """Revoke a key at once; requests with it get 401 from then on."""
    key = service.revoke_api_key(db, actor=caller, organisation_id=_org(caller), key_id=key_id)
    return ApiKeyOut.model_validate(key)
