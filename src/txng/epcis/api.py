"""EPCIS 2.0 REST binding under ``/epcis``: capture, capture jobs, events, named queries."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.epcis import capture as capture_service
from txng.epcis import query as query_service
from txng.epcis import xml_binding
from txng.errors import N_, Conflict, FieldError, NotFound, TxngError
from txng.models import CaptureJob, NamedQuery
from txng.models.base import utcnow
from txng.web.deps import DB, ApiCaller, MaybeCaller
from txng.web.forms import translate
from txng.web.handlers import problem

router = APIRouter(prefix="/epcis", tags=["EPCIS 2.0"])

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
JSON_TYPES = ("application/json", "application/ld+json")
# The EPCIS 2.0 capture interface also takes an EPCISQueryDocument; its root names it early.
_XML_QUERY_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?EPCISQueryDocument[\s>]")
XML_TYPES = ("application/xml", "text/xml")


class EpcisValidationError(TxngError):
    status_code = 400
    type_slug = "epcis-validation"
    type_uri = "epcisException:ValidationException"
    default_message = N_("The EPCIS document is not valid")


class CaptureLimitExceeded(TxngError):
    status_code = 413
    type_slug = "epcis-capture-limit"
    type_uri = "epcisException:CaptureLimitExceededException"
    default_message = N_("The document has more events than one capture may carry")


class UnsupportedMediaType(TxngError):
    status_code = 415
    type_slug = "unsupported-media-type"
    default_message = N_("Send the document as JSON-LD (application/ld+json) or XML")


class NoSuchResource(NotFound):
    type_uri = "epcisException:NoSuchResourceException"


def _standard_headers() -> dict[str, str]:
    return {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION}


def _capture_headers(request: Request) -> dict[str, str]:
    settings = request.app.state.settings
    return {
        **_standard_headers(),
        "GS1-EPCIS-Capture-Limit": str(settings.epcis_capture_limit),
        "GS1-EPCIS-Capture-File-Size-Limit": str(settings.epcis_capture_max_bytes),
        "GS1-Capture-Error-Behaviour": "rollback, proceed",
    }


async def _read_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it passes the limit, also when sent in chunks."""
    limit = request.app.state.settings.epcis_capture_max_bytes
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise CaptureLimitExceeded(N_("The document is larger than the capture size limit"))
        parts.append(chunk)
    return b"".join(parts)


def _parse(data: bytes, content_type: str) -> Any:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in XML_TYPES:
        try:
            if _XML_QUERY_ROOT.search(data[:4096]):
                return xml_binding.parse_query_document(data)
            return xml_binding.parse_document(data)
        except xml_binding.XmlBindingError as exc:
            raise EpcisValidationError(
                errors=[
                    FieldError(
                        exc.pointer,
                        N_("Not a valid EPCIS XML document: %(reason)s"),
                        "invalid_xml",
                        {"reason": exc.message, "line": exc.line or ""},
                    )
                ]
            ) from exc
    if media in JSON_TYPES or not media:
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            reason = str(exc)
            raise EpcisValidationError(
                errors=[
                    FieldError(
                        "", N_("Not valid JSON: %(reason)s"), "invalid_json", {"reason": reason}
                    )
                ]
            ) from exc
    raise UnsupportedMediaType()


def job_json(request: Request, job: CaptureJob) -> dict[str, Any]:
    locale = request.state.locale
    body: dict[str, Any] = {
        "captureID": job.capture_id,
        "createdAt": job.created_at.isoformat().replace("+00:00", "Z"),
        "running": job.running,
        "success": job.success,
        "captureErrorBehaviour": job.error_behaviour,
        "errors": [
            {"pointer": e.field, "code": e.code, "detail": translate(locale, e)}
            for e in capture_service.job_errors(job)
        ],
        "eventCount": job.event_count,
        "storedCount": job.stored_count,
        "duplicateCount": job.duplicate_count,
    }
    if job.finished_at is not None:
        body["finishedAt"] = job.finished_at.isoformat().replace("+00:00", "Z")
    return body


def _capture_document(
    request: Request,
    session: Session,
    principal: Principal,
    document: Any,
    error_behaviour: str,
) -> capture_service.CaptureOutcome:
    if not isinstance(document, dict):
        raise EpcisValidationError(
            errors=[FieldError("", N_("Must be a JSON object"), "invalid_type")]
        )
    events, _ = capture_service.events_of(document)
    if len(events) > request.app.state.settings.epcis_capture_limit:
        raise CaptureLimitExceeded()
    try:
        return capture_service.capture(
            session, principal, document, error_behaviour=error_behaviour
        )
    except capture_service.ConcurrentCapture:
        session.rollback()  # another capture stored some of these events: now they are duplicates
        return capture_service.capture(
            session, principal, document, error_behaviour=error_behaviour
        )


@router.options("/capture", status_code=204, summary="Capture interface settings")
def capture_options(request: Request) -> Response:
    return Response(
        status_code=204, headers={"Allow": "OPTIONS, GET, POST", **_capture_headers(request)}
    )


@router.post(
    "/capture",
    status_code=202,
    summary="Capture an EPCISDocument (JSON-LD or XML)",
    description=(
        "Stores the events of an EPCISDocument or EPCISQueryDocument. Events without an eventID "
        "get the CBV 2.0 event hash as their ID; an event already stored is kept once. "
        "`GS1-Capture-Error-Behaviour: rollback` (default) stores nothing when any event is "
        "invalid (400 with every error and its JSON pointer); `proceed` stores the valid events "
        "and lists the others in the capture job."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/ld+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def capture(
    request: Request,
    session: DB,
    principal: ApiCaller,
    gs1_capture_error_behaviour: Annotated[
        str, Header(alias="GS1-Capture-Error-Behaviour")
    ] = "rollback",
) -> Response:
    behaviour = gs1_capture_error_behaviour.strip().lower()
    if behaviour not in capture_service.ERROR_BEHAVIOURS:
        raise EpcisValidationError(
            errors=[
                FieldError(
                    "GS1-Capture-Error-Behaviour",
                    N_("Must be one of: %(allowed)s"),
                    "invalid_header",
                    {"allowed": "rollback, proceed"},
                )
            ]
        )
    capture_service.check_may_capture(principal)
    document = _parse(await _read_body(request), request.headers.get("content-type", ""))
    outcome = _capture_document(request, session, principal, document, behaviour)
    location = f"/epcis/capture/{outcome.job.capture_id}"
    headers = {**_capture_headers(request), "Location": location}
    if outcome.rejected:
        response = problem(
            request,
            400,
            EpcisValidationError.default_message,
            type_slug=EpcisValidationError.type_slug,
            type_uri=EpcisValidationError.type_uri,
            errors=outcome.errors,
            headers=headers,
        )
        return response
    return JSONResponse(job_json(request, outcome.job), status_code=202, headers=headers)


@router.post(
    "/events",
    status_code=201,
    summary="Capture a single event (synchronous)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def capture_one(request: Request, session: DB, principal: ApiCaller) -> Response:
    capture_service.check_may_capture(principal)
    event = _parse(await _read_body(request), request.headers.get("content-type", ""))
    if not isinstance(event, dict):
        raise EpcisValidationError(
            errors=[FieldError("", N_("Must be a JSON object"), "invalid_type")]
        )
    context = event.pop("@context", None)
    document = {
        "@context": context or [query_service.STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": utcnow().isoformat().replace("+00:00", "Z"),
        "epcisBody": {"eventList": [event]},
    }
    outcome = _capture_document(request, session, principal, document, "rollback")
    if outcome.rejected:
        errors = [
            FieldError(
                e.field.replace("/epcisBody/eventList/0", "", 1), e.message, e.code, e.params
            )
            for e in outcome.errors
        ]
        raise EpcisValidationError(errors=errors)
    if outcome.job.duplicate_count:
        raise Conflict(N_("This event is already stored"))
    event_id = outcome.event_ids[0]
    stored = query_service.event_by_id(session, principal, event_id)
    body = query_service.event_json(stored) if stored else {}
    headers = {**_standard_headers(), "Location": f"/epcis/events/{quote(event_id, safe='')}"}
    return JSONResponse(body, status_code=201, headers=headers)


@router.get("/capture", summary="Capture jobs of the caller's organisation")
def capture_jobs(
    request: Request, session: DB, principal: ApiCaller, perPage: int = 30
) -> JSONResponse:
    stmt = select(CaptureJob).order_by(CaptureJob.id.desc()).limit(max(1, min(perPage, 1000)))
    if not principal.sees_everything:
        stmt = stmt.where(CaptureJob.organisation_id == principal.organisation_id)
    jobs = session.scalars(stmt)
    return JSONResponse([job_json(request, job) for job in jobs], headers=_standard_headers())


@router.get("/capture/{capture_id}", summary="One capture job: status and errors")
def capture_job(
    request: Request, session: DB, principal: ApiCaller, capture_id: str
) -> JSONResponse:
    job = session.scalars(select(CaptureJob).where(CaptureJob.capture_id == capture_id)).first()
    visible = job is not None and (
        principal.sees_everything or job.organisation_id == principal.organisation_id
    )
    if job is None or not visible:
        raise NoSuchResource()
    return JSONResponse(job_json(request, job), headers=_standard_headers())


# query -------------------------------------------------------------------------------------


def _wants_xml(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(t in accept for t in XML_TYPES) and "json" not in accept


def _results(
    request: Request,
    session: Session,
    principal: Principal | None,
    params: dict[str, str],
    *,
    query_name: str = "SimpleEventQuery",
) -> Response:
    query = query_service.parse_query(params)
    page = query_service.run(session, principal, query)
    document = query_service.query_document(page.events, query_name=query_name, created=utcnow())
    headers = _standard_headers()
    if page.next_token:
        following = {k: v for k, v in params.items() if k != "nextPageToken"}
        following["nextPageToken"] = page.next_token
        headers["Link"] = f'<{request.url.path}?{urlencode(following)}>; rel="next"'
    if _wants_xml(request):
        return Response(
            xml_binding.render_query_document(document),
            media_type="application/xml",
            headers=headers,
        )
    return JSONResponse(document, media_type="application/ld+json", headers=headers)


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


@router.get(
    "/events",
    summary="Query events (EPCIS 2.0 query parameters)",
    description=(
        "Standard parameters: eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_action, "
        "EQ_bizStep, EQ_disposition, EQ_persistentDisposition_set/_unset, EQ_readPoint, "
        "WD_readPoint, EQ_bizLocation, WD_bizLocation, EQ_transformationID, MATCH_epc, "
        "MATCH_anyEPC, MATCH_parentID, MATCH_inputEPC, MATCH_outputEPC, MATCH_epcClass, "
        "MATCH_inputEPCClass, MATCH_outputEPCClass, MATCH_anyEPCClass, "
        "EQ_/GT_/GE_/LT_/LE_quantity, EQ_eventID, EXISTS_errorDeclaration, "
        "GE_/LT_errorDeclarationTime, EQ_errorReason, EQ_correctiveEventID, "
        "EQ_bizTransaction_{type}, EQ_source_{type}, EQ_destination_{type}, orderBy, "
        "orderDirection, perPage, nextPageToken. Extension fields: EQ_, GT_, GE_, LT_, LE_ and "
        "EXISTS_ followed by an optional INNER_ (the field nested anywhere inside an extension "
        "field), an optional ILMD_ or ERROR_DECLARATION_, and the field's name, either "
        "`namespaceIRI#localName` or a CURIE `prefix:localName` as the capturing document wrote "
        "it; GT_/GE_/LT_/LE_ compare numbers or timestamps. WD_readPoint and WD_bizLocation "
        "match the place itself only: no location hierarchy (master data) is kept. Several "
        "values are separated by `|`. Identifiers may be EPC URNs or GS1 Digital Link URIs. "
        "Send `Accept: application/xml` for the XML binding."
    ),
)
def events(request: Request, session: DB, principal: MaybeCaller) -> Response:
    return _results(request, session, principal, _params(request))


@router.get("/events/{event_id:path}", summary="One event by its eventID")
def event(request: Request, session: DB, principal: MaybeCaller, event_id: str) -> Response:
    found = query_service.event_by_id(session, principal, event_id)
    if found is None:
        raise NoSuchResource()
    if _wants_xml(request):
        document = query_service.query_document(
            [found], query_name="SimpleEventQuery", created=utcnow()
        )
        return Response(
            xml_binding.render_query_document(document),
            media_type="application/xml",
            headers=_standard_headers(),
        )
    return JSONResponse(
        query_service.event_json(found),
        media_type="application/ld+json",
        headers=_standard_headers(),
    )


def _resource_events(parameter: str) -> Any:
    def endpoint(request: Request, session: DB, principal: MaybeCaller, value: str) -> Response:
        params = _params(request)
        params[parameter] = value
        return _results(request, session, principal, params)

    return endpoint


for _path, _parameter, _summary in (
    ("/eventTypes/{value}/events", "eventType", "Events of one event type"),
    ("/epcs/{value:path}/events", "MATCH_anyEPC", "Events naming one EPC (URN or Digital Link)"),
    ("/bizSteps/{value:path}/events", "EQ_bizStep", "Events of one business step"),
    ("/bizLocations/{value:path}/events", "EQ_bizLocation", "Events at one business location"),
    ("/readPoints/{value:path}/events", "EQ_readPoint", "Events at one read point"),
    ("/dispositions/{value:path}/events", "EQ_disposition", "Events with one disposition"),
):
    router.add_api_route(_path, _resource_events(_parameter), methods=["GET"], summary=_summary)


# named queries -----------------------------------------------------------------------------


def _owner(principal: Principal) -> str:
    if principal.organisation_id is not None:
        return f"org:{principal.organisation_id}"
    return f"user:{principal.user_id}"


def _as_params(query: Any) -> dict[str, str]:
    if not isinstance(query, dict):
        raise EpcisValidationError(
            errors=[FieldError("/query", N_("Must be a JSON object"), "invalid_type")]
        )
    params: dict[str, str] = {}
    for key, value in query.items():
        if isinstance(value, list):
            params[str(key)] = "|".join(str(v) for v in value)
        else:
            params[str(key)] = str(value)
    query_service.parse_query(params)  # refuse a query that could never run
    return params


def _named(session: Session, principal: Principal, name: str) -> NamedQuery:
    stmt = select(NamedQuery).where(NamedQuery.owner == _owner(principal), NamedQuery.name == name)
    found = session.scalars(stmt).first()
    if found is None:
        raise NoSuchResource()
    return found


@router.post("/queries", status_code=201, summary="Create a named query")
def create_query(
    session: DB, principal: ApiCaller, body: Annotated[dict[str, Any], Body()]
) -> Response:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise EpcisValidationError(
            errors=[FieldError("/name", N_("This field is required"), "required")]
        )
    params = _as_params(body.get("query", {}))
    owner = _owner(principal)
    exists = session.scalars(
        select(NamedQuery.id).where(NamedQuery.owner == owner, NamedQuery.name == name)
    ).first()
    if exists is not None:
        raise Conflict(N_("A query with this name already exists"))
    session.add(NamedQuery(owner=owner, name=name, query=params))
    return Response(
        status_code=201,
        headers={**_standard_headers(), "Location": f"/epcis/queries/{quote(name, safe='')}"},
    )


@router.get("/queries", summary="The caller's named queries")
def list_queries(session: DB, principal: ApiCaller) -> JSONResponse:
    rows = session.scalars(
        select(NamedQuery).where(NamedQuery.owner == _owner(principal)).order_by(NamedQuery.name)
    )
    return JSONResponse([{"name": q.name, "query": q.query} for q in rows])


@router.get("/queries/{name}", summary="One named query")
def get_query(session: DB, principal: ApiCaller, name: str) -> JSONResponse:
    found = _named(session, principal, name)
    return JSONResponse({"name": found.name, "query": found.query})


@router.delete("/queries/{name}", status_code=204, summary="Delete a named query")
def delete_query(session: DB, principal: ApiCaller, name: str) -> Response:
    session.delete(_named(session, principal, name))
    return Response(status_code=204)


@router.get("/queries/{name}/events", summary="Run a named query")
def run_query(request: Request, session: DB, principal: ApiCaller, name: str) -> Response:
    found = _named(session, principal, name)
    params = {**found.query, **_params(request)}
    return _results(request, session, principal, params, query_name=name)
