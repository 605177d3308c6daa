"""JSON API of authority actions under ``/api/authority``: suspensions and recalls."""

from __future__ import annotations

from fastapi import APIRouter

from txng.authority import service
from txng.authority.schemas import (
    ReasonIn,
    RecallDetailOut,
    RecallIn,
    RecallOut,
    StampsIn,
    StampsOut,
    StatusOut,
    TargetOut,
)
from txng.models import Recall
from txng.recalls import service as recalls_service
from txng.web.deps import DB, ApiCaller, DbId

router = APIRouter(prefix="/api/authority", tags=["authority"])


@router.post("/organisations/{organisation_id}/suspend", response_model=StatusOut)
def suspend_organisation(
    organisation_id: DbId, body: ReasonIn, caller: ApiCaller, db: DB
) -> StatusOut:
    """Suspend an organisation (its profile and products leave the public pages)."""
    org = service.suspend_organisation(
        db, actor=caller, organisation_id=organisation_id, reason=body.reason
    )
    return StatusOut(id=org.id, status=org.status)


@router.post("/organisations/{organisation_id}/reinstate", response_model=StatusOut)
def reinstate_organisation(
    organisation_id: DbId, body: ReasonIn, caller: ApiCaller, db: DB
) -> StatusOut:
    """Lift an organisation's suspension."""
    org = service.reinstate_organisation(
        db, actor=caller, organisation_id=organisation_id, reason=body.reason
    )
    return StatusOut(id=org.id, status=org.status)


@router.post("/products/{product_id}/suspend", response_model=StatusOut)
def suspend_product(product_id: DbId, body: ReasonIn, caller: ApiCaller, db: DB) -> StatusOut:
    """Suspend a product (it leaves the portal; its stamps' pages flag it)."""
    product = service.suspend_product(db, actor=caller, product_id=product_id, reason=body.reason)
    return StatusOut(id=product.id, status=product.status)


@router.post("/products/{product_id}/reinstate", response_model=StatusOut)
def reinstate_product(product_id: DbId, body: ReasonIn, caller: ApiCaller, db: DB) -> StatusOut:
    """Lift a product's suspension."""
    product = service.reinstate_product(db, actor=caller, product_id=product_id, reason=body.reason)
    return StatusOut(id=product.id, status=product.status)


def _stamps_out(result: service.StampsResult) -> StampsOut:
    return StampsOut(
        product_id=result.product.id,
        changed=len(result.changed),
        skipped=len(result.skipped),
        serials=[s.serial for s in result.changed],
    )


def _selection(body: StampsIn) -> service.StampSelection:
    return service.StampSelection(codes=body.codes, first=body.first, last=body.last, lot=body.lot)


@router.post("/products/{product_id}/stamps/suspend", response_model=StampsOut)
def suspend_stamps(product_id: DbId, body: StampsIn, caller: ApiCaller, db: DB) -> StampsOut:
    """Suspend a list, a range or a lot of the product's stamps."""
    result = service.suspend_stamps(
        db, actor=caller, product_id=product_id, selection=_selection(body), reason=body.reason
    )
    return _stamps_out(result)


@router.post("/products/{product_id}/stamps/reinstate", response_model=StampsOut)
def reinstate_stamps(product_id: DbId, body: StampsIn, caller: ApiCaller, db: DB) -> StampsOut:
    """Reinstate suspended stamps of the product."""
    result = service.reinstate_stamps(
        db, actor=caller, product_id=product_id, selection=_selection(body), reason=body.reason
    )
    return _stamps_out(result)


def _recall_out(recall: Recall, counts: dict[str, int]) -> RecallOut:
    return RecallOut.model_validate(recall).model_copy(update={"targets": counts})


@router.post("/recalls", response_model=list[RecallOut], status_code=201)
def recall_lots(body: RecallIn, caller: ApiCaller, db: DB) -> list[RecallOut]:
    """Recall one or more lots; the scope comes from the trace engine (errors: `/lots/{i}/…`)."""
    issued = recalls_service.recall_lots(
        db,
        actor=caller,
        lines=[recalls_service.RecallLine(line.gtin, line.lot) for line in body.lots],
        reason=body.reason,
        severity=body.severity,
        instructions_vi=body.instructions_vi,
        instructions_en=body.instructions_en,
    )
    counts = recalls_service.target_counts(db, recall_ids=[r.id for r in issued])
    return [_recall_out(r, counts.get(r.id, {})) for r in issued]


@router.get("/recalls", response_model=list[RecallOut])
def list_recalls(caller: ApiCaller, db: DB) -> list[RecallOut]:
    """Every recall (authority), newest first."""
    return [
        _recall_out(row.recall, row.counts)
        for row in recalls_service.list_recalls(db, actor=caller)
    ]


@router.get("/recalls/{recall_id}", response_model=RecallDetailOut)
def get_recall(recall_id: DbId, caller: ApiCaller, db: DB) -> RecallDetailOut:
    """One recall with its scope (an organisation sees the part it holds)."""
    recall = recalls_service.get_recall(db, actor=caller, recall_id=recall_id)
    targets = recalls_service.targets_of(db, actor=caller, recall_id=recall.id)
    counts: dict[str, int] = {}
    for t in targets:
        counts[t.kind] = counts.get(t.kind, 0) + 1
    return RecallDetailOut.model_validate(recall).model_copy(
        update={"targets": counts, "scope": [TargetOut.model_validate(t) for t in targets]}
    )


@router.post("/recalls/{recall_id}/lift", response_model=RecallOut)
def lift_recall(recall_id: DbId, body: ReasonIn, caller: ApiCaller, db: DB) -> RecallOut:
    """End a recall; consumer pages stop showing it."""
    recall = recalls_service.lift_recall(db, actor=caller, recall_id=recall_id, reason=body.reason)
    return _recall_out(recall, {})
