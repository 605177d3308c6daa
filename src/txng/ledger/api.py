"""The ledger's public JSON API: checkpoints, proofs, bundles, witness cosignatures.

Everything here is public and read-only except ``POST /api/ledger/cosign`` (a witness, checked by
its key) and ``POST /api/ledger/checkpoint`` (an administrator signs now). Rate-limited per IP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from txng.errors import Forbidden, TooManyRequests
from txng.ledger import keys, service
from txng.ledger.exceptions import NoCheckpoint, RecordNotSealed
from txng.ledger.keys import Keyring
from txng.web.deps import DB, MAX_ID, ApiCaller, client_ip
from txng.web.ratelimit import RateLimiter

RATE_PER_MINUTE = 300
_CORS = {"Access-Control-Allow-Origin": "*"}


def rate_limit(request: Request) -> None:
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "ledger_limiter", None)
    if limiter is None:
        limiter = state.ledger_limiter = RateLimiter(RATE_PER_MINUTE, 60.0)
    if not limiter.allow(f"ledger|{client_ip(request)}"):
        raise TooManyRequests()


def keyring(request: Request) -> Keyring:
    """The app's keyring, loaded once from the settings' files and environment."""
    ring: Keyring | None = getattr(request.app.state, "ledger_keyring", None)
    if ring is None:
        ring = request.app.state.ledger_keyring = keys.load(request.app.state.settings)
    return ring


router = APIRouter(prefix="/api/ledger", tags=["ledger"], dependencies=[Depends(rate_limit)])
Ring = Annotated[Keyring, Depends(keyring)]
Index = Annotated[int | None, Query(ge=0, le=MAX_ID, description="Leaf index.")]
Kind = Annotated[str | None, Query(max_length=32, description="Record kind, e.g. product.")]
Ref = Annotated[str | None, Query(max_length=600, description="Record reference, e.g. 12.")]


class CosignIn(BaseModel):
    checkpoint: str = Field(description="The checkpoint body cosigned (origin, size, root).")
    cosignature: str = Field(description="The witness's cosignature/v1 signature line.")


def _json(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(data, headers=_CORS)


@router.get("/checkpoint")
def latest_checkpoint(session: DB, ring: Ring) -> JSONResponse:
    """The newest signed checkpoint (C2SP signed note) with the witnesses' cosignatures."""
    data = service.latest_view(session, keyring=ring).as_json()
    data["origin"] = ring.origin
    data["log_keys"] = ring.log_vkeys
    data["witness_keys"] = ring.witness_vkeys
    return _json(data)


@router.post("/checkpoint")
def sign_checkpoint(session: DB, caller: ApiCaller, ring: Ring) -> JSONResponse:
    """Seal what is queued and sign a checkpoint now (provincial administrators)."""
    if not caller.is_admin:
        raise Forbidden()
    service.append_pending(session, limit=100_000)
    checkpoint = service.sign_checkpoint(session, keyring=ring)
    return _json(service.view(session, checkpoint, keyring=ring).as_json())


@router.get("/proof/inclusion")
def inclusion(
    session: DB,
    kind: Kind = None,
    ref: Ref = None,
    leaf_index: Index = None,
    tree_size: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> JSONResponse:
    """Inclusion proof of a record (by kind and ref, or by leaf index) in a tree size
    (default: the newest checkpoint's)."""
    leaf = service.find_leaf(session, kind=kind, ref=ref, leaf_index=leaf_index)
    if tree_size is None:
        from txng.ledger import repository

        checkpoint = repository.checkpoint_covering(session, leaf.leaf_index)
        if checkpoint is None:
            raise NoCheckpoint()
        tree_size = checkpoint.tree_size
    proof = service.inclusion_proof(session, leaf_index=leaf.leaf_index, tree_size=tree_size)
    return _json(
        {
            "kind": leaf.kind,
            "ref": leaf.ref,
            "leaf_index": leaf.leaf_index,
            "tree_size": tree_size,
            "leaf_hash": service.b64(bytes(leaf.leaf_hash)),
            "record": bytes(leaf.record).decode("utf-8"),
            "sealed_at": leaf.sealed_at.isoformat(),
            "inclusion_proof": [service.b64(p) for p in proof],
        }
    )


@router.get("/proof/consistency")
def consistency(
    session: DB,
    first: Annotated[int, Query(ge=0, le=MAX_ID)],
    second: Annotated[int, Query(ge=0, le=MAX_ID)],
) -> JSONResponse:
    """Consistency proof (RFC 9162 §2.1.4) that the tree of ``second`` leaves extends ``first``."""
    proof = service.consistency_proof(session, first=first, second=second)
    return _json(
        {"first": first, "second": second, "consistency_proof": [service.b64(p) for p in proof]}
    )


@router.get("/bundle")
def export_bundle(
    session: DB, ring: Ring, kind: Kind = None, ref: Ref = None, leaf_index: Index = None
) -> JSONResponse:
    """Everything needed to check one record offline with ``txng verify``."""
    if leaf_index is None and not (kind and ref):
        raise RecordNotSealed()
    leaf = service.find_leaf(session, kind=kind, ref=ref, leaf_index=leaf_index)
    data = service.bundle(session, leaf=leaf, keyring=ring)
    name = f"txng-ledger-{leaf.leaf_index}.json"
    response = _json(data)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.post("/cosign")
def cosign(body: CosignIn, session: DB, ring: Ring) -> JSONResponse:
    """A witness returns its cosignature of a checkpoint (checked against its known key)."""
    checkpoint = service.add_cosignature(
        session, keyring=ring, body=body.checkpoint, line=body.cosignature
    )
    return _json(service.view(session, checkpoint, keyring=ring).as_json())
