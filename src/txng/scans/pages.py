"""The authority's list of consumers' problem reports (provincial admin and inspectors only)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from txng.kit import files
from txng.scans import service
from txng.scans.schemas import CATEGORY_LABELS
from txng.web.deps import DB, DbId, PageCaller
from txng.web.templating import render

router = APIRouter(tags=["problem reports"], include_in_schema=False)


@router.get("/bao-cao-van-de")
def problem_reports(
    request: Request,
    caller: PageCaller,
    db: DB,
    state: str | None = Query(default=None, pattern="^(open|closed)$"),
    page: int = Query(default=1, ge=1, le=10_000),
) -> Response:
    """Consumers' reports, newest first."""
    reports = service.list_reports(db, actor=caller, state=state, page=page)
    ctx = {"reports": reports, "categories": CATEGORY_LABELS, "state": state, "page": page}
    return render(request, "resolver/reports.html", ctx)


@router.get("/bao-cao-van-de/{report_id}/anh")
def problem_report_photo(request: Request, caller: PageCaller, db: DB, report_id: DbId) -> Response:
    """The photo a consumer attached to a report."""
    stored = service.report_photo(db, actor=caller, report_id=report_id)
    path = files.open_path(request.app.state.settings.media_dir, stored.storage_key)
    return FileResponse(path, media_type=stored.content_type)
