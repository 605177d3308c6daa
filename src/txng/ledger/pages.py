"""Public ledger pages: one entry of the log (``/so-cai/{leaf_index}``), with its seal."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from txng.ledger import api as ledger_api
from txng.ledger import repository, service
from txng.ledger.exceptions import RecordNotSealed
from txng.web.deps import DB, MAX_ID
from txng.web.templating import render

router = APIRouter(tags=["ledger pages"], include_in_schema=False)


@router.get("/so-cai/{leaf_index}", response_class=HTMLResponse)
def entry(
    request: Request,
    session: DB,
    ring: ledger_api.Ring,
    leaf_index: Annotated[int, Path(ge=0, le=MAX_ID)],
) -> HTMLResponse:
    """One sealed record, its inclusion proof and the agencies that witnessed it."""
    ledger_api.rate_limit(request)
    leaf = repository.leaf(session, leaf_index)
    if leaf is None:
        raise RecordNotSealed()
    seal = service.seal_of(session, leaf=leaf, keyring=ring)
    record = json.dumps(json.loads(seal["record"]), ensure_ascii=False, indent=2)
    return render(request, "ledger/entry.html", {"seal": seal, "record_pretty": record})
