"""The query interface: EPCIS 2.0 query parameters → SQL over the event and index tables.

Every query is scoped: the public sees published events only; an enterprise its own and the
published ones; a sector reviewer or commune officer the events of the organisations they
oversee; inspectors and administrators everything.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.epcis import identifiers, vocab
from txng.epcis.body_filters import BodyMatch, Compare, Comparison, Exists, FieldName, TextIn
from txng.epcis.capture import vocabulary_key
from txng.epcis.timestamps import format_timestamp, parse_timestamp
from txng.errors import N_, FieldError, TxngError
from txng.models import EpcisEvent, EventIdent, EventLink, Organisation
from txng.models import epcis as m
from txng.registry.repository import organisation_scope

STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)

_MATCH_ROLES: dict[str, tuple[str, ...]] = {
    "MATCH_epc": (m.ROLE_EPC, m.ROLE_CHILD),
    "MATCH_parentID": (m.ROLE_PARENT,),
    "MATCH_inputEPC": (m.ROLE_INPUT,),
    "MATCH_outputEPC": (m.ROLE_OUTPUT,),
    "MATCH_anyEPC": (m.ROLE_EPC, m.ROLE_CHILD, m.ROLE_PARENT, m.ROLE_INPUT, m.ROLE_OUTPUT),
    "MATCH_epcClass": (m.ROLE_QUANTITY, m.ROLE_CHILD_QUANTITY),
    "MATCH_inputEPCClass": (m.ROLE_INPUT_QUANTITY,),
    "MATCH_outputEPCClass": (m.ROLE_OUTPUT_QUANTITY,),
    "MATCH_anyEPCClass": (
        m.ROLE_QUANTITY,
        m.ROLE_CHILD_QUANTITY,
        m.ROLE_INPUT_QUANTITY,
        m.ROLE_OUTPUT_QUANTITY,
    ),
}
_TIME_BOUNDS = {
    "GE_eventTime": (EpcisEvent.event_time, ">="),
    "LT_eventTime": (EpcisEvent.event_time, "<"),
    "GE_recordTime": (EpcisEvent.record_time, ">="),
    "LT_recordTime": (EpcisEvent.record_time, "<"),
}
_LINK_PREFIXES = (
    ("EQ_bizTransaction_", "bt", "bizTransactionType"),
    ("EQ_source_", "source", "sourceDestType"),
    ("EQ_destination_", "dest", "sourceDestType"),
)
_QUANTITY_ROLES = (
    m.ROLE_QUANTITY,
    m.ROLE_CHILD_QUANTITY,
    m.ROLE_INPUT_QUANTITY,
    m.ROLE_OUTPUT_QUANTITY,
)
_QUANTITY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "EQ_quantity": operator.eq,
    "GT_quantity": operator.gt,
    "GE_quantity": operator.ge,
    "LT_quantity": operator.lt,
    "LE_quantity": operator.le,
}
_COMPARISONS: dict[str, Comparison] = {"GT": ">", "GE": ">=", "LT": "<", "LE": "<="}
_ERROR_TIME: dict[str, Comparison] = {
    "GE_errorDeclarationTime": ">=",
    "LT_errorDeclarationTime": "<",
}
# Text fields kept in the body: (where, field, CBV vocabulary whose spellings are equivalent).
_BODY_TEXT: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "EQ_errorReason": (("errorDeclaration",), "reason", "errorReason"),
    "EQ_correctiveEventID": (("errorDeclaration",), "correctiveEventIDs", None),
    "EQ_persistentDisposition_set": (("persistentDisposition",), "set", "disposition"),
    "EQ_persistentDisposition_unset": (("persistentDisposition",), "unset", "disposition"),
    "EQ_transformationID": ((), "transformationID", None),
}
# EQ_/GT_/…/EXISTS_ on an extension field, at the top level, in the ILMD or in the error
# declaration; INNER_ looks for the field nested anywhere inside those fields.
_FIELD_PARAM = re.compile(r"(EQ|GT|GE|LT|LE|EXISTS)_(INNER_)?(ILMD_|ERROR_DECLARATION_)?(.+)")
_FIELD_ROOTS = {None: (), "ILMD_": ("ilmd",), "ERROR_DECLARATION_": ("errorDeclaration",)}
_NCNAME = r"[A-Za-z_][\w.-]*"
_CURIE = re.compile(rf"{_NCNAME}:{_NCNAME}")
_QUALIFIED = re.compile(rf"([A-Za-z][\w+.-]*:[^#\s\"\\]+)#({_NCNAME})")
_NUMBER = re.compile(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*")
_PAGING = frozenset({"perPage", "nextPageToken", "orderBy", "orderDirection", "eventCountLimit"})


class QueryParameterError(TxngError):
    """EPCIS QueryParameterException: a parameter the repository cannot honour."""

    status_code = 400
    type_slug = "epcis-query-parameter"
    type_uri = "epcisException:QueryParameterException"
    default_message = N_("The query has an invalid parameter")


def _bad(name: str, message: str, **params: Any) -> QueryParameterError:
    return QueryParameterError(errors=[FieldError(name, message, "invalid_parameter", params)])


def event_scope(principal: Principal | None) -> ColumnElement[bool]:
    published = EpcisEvent.published_at.is_not(None)
    if principal is None:
        return published
    if principal.sees_everything:
        return true()
    if principal.is_enterprise:
        if principal.organisation_id is None:
            return published
        return or_(EpcisEvent.organisation_id == principal.organisation_id, published)
    overseen = select(Organisation.id).where(organisation_scope(principal))
    return or_(EpcisEvent.organisation_id.in_(overseen), published)


@dataclass
class EventQuery:
    """Parsed query parameters (the SimpleEventQuery of EPCIS 2.0, REST binding)."""

    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    order_by: str | None = None  # eventTime | recordTime
    descending: bool = True
    per_page: int = DEFAULT_PER_PAGE
    after: tuple[str | None, int] | None = None  # keyset: (sort value, id)
    limit: int | None = None  # eventCountLimit


def _values(raw: str, name: str) -> list[str]:
    values = [v for v in raw.split("|") if v]
    if not values:
        raise _bad(name, N_("A parameter needs at least one value"))
    return values


def _number(raw: str) -> Decimal | None:
    return Decimal(raw.strip()) if _NUMBER.fullmatch(raw) else None


def _flag(name: str, raw: str) -> bool:
    """A boolean parameter; given without a value it means true."""
    if raw.lower() in ("", "true"):
        return True
    if raw.lower() == "false":
        return False
    raise _bad(name, N_("Enter true or false"))


def _spellings(kind: str, values: Sequence[str]) -> tuple[str, ...]:
    """Each value with the other spellings (bare word, Web URI, URN) of the same CBV value:
    the body keeps the spelling the sender used."""
    out: list[str] = []
    for value in values:
        short = vocab.vocab_short(kind, value)
        if short is None:
            out.append(value)
            continue
        uri = vocab.vocab_uri(kind, short)
        out.extend(s for s, u in vocab.vocab_spellings(kind).items() if u == uri)
    return tuple(dict.fromkeys(out))


def _time(name: str, raw: str) -> datetime:
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise _bad(
            name, N_("Not a valid timestamp with a time zone: %(value)s"), value=raw
        ) from None


def _canonical(name: str, value: str) -> str:
    try:
        return identifiers.canonical_id(value)
    except identifiers.IdentifierError as exc:
        raise _bad(
            name, N_("Not a valid identifier: %(value)s"), value=value, reason=str(exc)
        ) from exc


def _ident_match(name: str, values: Sequence[str], roles: Sequence[str]) -> ColumnElement[bool]:
    exact: list[str] = []
    patterns: list[ColumnElement[bool]] = []
    for value in values:
        if value.startswith("urn:epc:idpat:") and value.endswith("*"):
            prefix = _pattern_prefix(value)
            if prefix is None:
                raise _bad(name, N_("Not a valid identifier: %(value)s"), value=value)
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            patterns.append(EventIdent.ident.like(escaped + "%", escape="\\"))
        else:
            exact.append(_canonical(name, value))
    matches: list[ColumnElement[bool]] = list(patterns)
    if exact:
        matches.append(EventIdent.ident.in_(exact))
    inner = select(EventIdent.event_pk).where(EventIdent.role.in_(roles), or_(*matches))
    return EpcisEvent.id.in_(inner)


def _pattern_prefix(value: str) -> str | None:
    """``urn:epc:idpat:sgtin:0614141.107346.*`` → the Digital Link prefix of those items."""
    if not value.startswith("urn:epc:idpat:sgtin:") or value.count("*") != 1:
        return None
    try:
        gtin = identifiers.canonical_id(value)
    except identifiers.IdentifierError:
        return None
    return gtin + "/21/" if gtin.startswith("https://id.gs1.org/01/") else None


def _link_match(kind: str, type_key: str | None, values: Sequence[str]) -> ColumnElement[bool]:
    cond = [EventLink.kind == kind, EventLink.value.in_([_canonical_lenient(v) for v in values])]
    if type_key is not None:
        cond.append(EventLink.type == type_key)
    return EpcisEvent.id.in_(select(EventLink.event_pk).where(*cond))


def _canonical_lenient(value: str) -> str:
    try:
        return identifiers.canonical_id(value)
    except identifiers.IdentifierError:
        return value


def parse_query(params: Mapping[str, str]) -> EventQuery:
    """Turn REST query parameters into SQL conditions; unknown parameters are refused."""
    query = EventQuery()
    cond = query.conditions
    for name, raw in params.items():
        if name in _PAGING:
            continue
        if name == "eventType":
            types = _values(raw, name)
            unknown = [t for t in types if t not in EVENT_TYPES]
            if unknown:
                raise _bad(name, N_("Unknown event type %(value)s"), value=unknown[0])
            cond.append(EpcisEvent.event_type.in_(types))
        elif name in _TIME_BOUNDS:
            column, op = _TIME_BOUNDS[name]
            moment = _time(name, raw)
            cond.append(column >= moment if op == ">=" else column < moment)
        elif name == "EQ_action":
            actions = _values(raw, name)
            if any(a not in ("ADD", "OBSERVE", "DELETE") for a in actions):
                raise _bad(name, N_("Must be one of: %(allowed)s"), allowed="ADD, OBSERVE, DELETE")
            cond.append(EpcisEvent.action.in_(actions))
        elif name == "EQ_bizStep":
            keys = [vocabulary_key("bizStep", v, {}) for v in _values(raw, name)]
            cond.append(EpcisEvent.biz_step.in_(keys))
        elif name == "EQ_disposition":
            keys = [vocabulary_key("disposition", v, {}) for v in _values(raw, name)]
            cond.append(EpcisEvent.disposition.in_(keys))
        elif name in ("EQ_readPoint", "WD_readPoint"):
            # WD_: no location hierarchy (master data) is kept, so a place has no descendants.
            cond.append(
                EpcisEvent.read_point.in_([_canonical(name, v) for v in _values(raw, name)])
            )
        elif name in ("EQ_bizLocation", "WD_bizLocation"):
            cond.append(
                EpcisEvent.biz_location.in_([_canonical(name, v) for v in _values(raw, name)])
            )
        elif name in _MATCH_ROLES:
            cond.append(_ident_match(name, _values(raw, name), _MATCH_ROLES[name]))
        else:
            cond.extend(_other_condition(name, raw))
    _parse_paging(query, params)
    return query


def _other_condition(name: str, raw: str) -> list[ColumnElement[bool]]:
    """Error declarations, quantities, fields kept in the body, links, extension fields."""
    if name == "EQ_eventID":
        return [EpcisEvent.event_id.in_(_values(raw, name))]
    if name == "EXISTS_errorDeclaration":
        return [EpcisEvent.error_declared.is_(True)] if _flag(name, raw) else []
    if name in _ERROR_TIME:
        test = Compare(_ERROR_TIME[name], _time(name, raw))
        return [BodyMatch(("errorDeclaration",), FieldName("declarationTime"), test)]
    if name in _BODY_TEXT:
        root, key, kind = _BODY_TEXT[name]
        values = _values(raw, name)
        wanted = TextIn(_spellings(kind, values) if kind else tuple(values))
        return [BodyMatch(root, FieldName(key), wanted)]
    if name in _QUANTITY_OPS:
        return [_quantity_match(name, raw)]
    for prefix, kind, vocabulary in _LINK_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            type_key = vocabulary_key(vocabulary, name[len(prefix) :], {})
            return [_link_match(kind, type_key, _values(raw, name))]
    return [_field_condition(name, raw)]


def _quantity_match(name: str, raw: str) -> ColumnElement[bool]:
    amount = _number(raw)
    if amount is None:
        raise _bad(name, N_("Enter a number"))
    compare = _QUANTITY_OPS[name](EventIdent.quantity, float(amount))
    inner = select(EventIdent.event_pk).where(EventIdent.role.in_(_QUANTITY_ROLES), compare)
    return EpcisEvent.id.in_(inner)


def _field_condition(name: str, raw: str) -> ColumnElement[bool]:
    """``EQ_ext:field``, ``GE_ILMD_https://example.com/ns#field``, ``EXISTS_INNER_…`` …."""
    found = _FIELD_PARAM.fullmatch(name)
    qualified = _QUALIFIED.fullmatch(found.group(4)) if found else None
    if found is None or (qualified is None and not _CURIE.fullmatch(found.group(4))):
        raise _bad(name, N_("This query parameter is not supported: %(parameter)s"), parameter=name)
    op, inner, place, field_name = found.groups()
    if qualified is not None:
        namespace, local = qualified.groups()
        target = FieldName(namespace + local, namespace, local)
    else:
        target = FieldName(field_name)
    root = _FIELD_ROOTS[place]
    if op == "EXISTS":
        return BodyMatch(root, target, Exists(), inner=bool(inner))
    if op == "EQ":
        values = _values(raw, name)
        numbers = tuple(n for n in map(_number, values) if n is not None)
        return BodyMatch(root, target, TextIn(tuple(values), numbers), inner=bool(inner))
    bound: Decimal | datetime | None = _number(raw)
    if bound is None:
        try:
            bound = parse_timestamp(raw)
        except ValueError:
            raise _bad(name, N_("Enter a number or a timestamp with a time zone")) from None
    return BodyMatch(root, target, Compare(_COMPARISONS[op], bound), inner=bool(inner))


def _parse_paging(query: EventQuery, params: Mapping[str, str]) -> None:
    order_by = params.get("orderBy")
    if order_by is not None:
        if order_by not in ("eventTime", "recordTime"):
            raise _bad(
                "orderBy", N_("Must be one of: %(allowed)s"), allowed="eventTime, recordTime"
            )
        query.order_by = order_by
    direction = params.get("orderDirection", "DESC")
    if direction not in ("ASC", "DESC"):
        raise _bad("orderDirection", N_("Must be one of: %(allowed)s"), allowed="ASC, DESC")
    query.descending = direction == "DESC"
    query.per_page = _positive(params, "perPage", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    if "eventCountLimit" in params:
        query.limit = _positive(params, "eventCountLimit", 0, 10**9)
    token = params.get("nextPageToken")
    if token:
        query.after = decode_token(token, query.order_by, query.descending)


def _positive(params: Mapping[str, str], name: str, default: int, ceiling: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise _bad(name, N_("Must be a whole number of at least %(min)s"), min=1)
    return min(int(raw), ceiling)


def encode_token(order_by: str | None, descending: bool, key: str | None, last_id: int) -> str:
    raw = json.dumps([order_by, descending, key, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, order_by: str | None, descending: bool) -> tuple[str | None, int]:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        token_order, token_desc, key, last_id = value
        valid = (
            token_order == order_by
            and token_desc == descending
            and isinstance(last_id, int)
            and (key is None or isinstance(key, str))
        )
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise _bad("nextPageToken", N_("This page token is not valid for this query"))
    return key, last_id


def _sort_column(query: EventQuery) -> Any:
    if query.order_by == "eventTime":
        return EpcisEvent.event_time
    if query.order_by == "recordTime":
        return EpcisEvent.record_time
    return None


def statement(query: EventQuery, principal: Principal | None) -> Select[EpcisEvent]:
    stmt = select(EpcisEvent).where(event_scope(principal), *query.conditions)
    column = _sort_column(query)
    if column is None:
        if query.after is not None:
            stmt = stmt.where(EpcisEvent.id > query.after[1])
        return stmt.order_by(EpcisEvent.id)
    if query.after is not None:
        key, last_id = query.after
        moment = parse_timestamp(key) if key else None
        if moment is not None:
            if query.descending:
                stmt = stmt.where(
                    or_(column < moment, and_(column == moment, EpcisEvent.id < last_id))
                )
            else:
                stmt = stmt.where(
                    or_(column > moment, and_(column == moment, EpcisEvent.id > last_id))
                )
    if query.descending:
        return stmt.order_by(column.desc(), EpcisEvent.id.desc())
    return stmt.order_by(column.asc(), EpcisEvent.id.asc())


@dataclass
class Page:
    events: list[EpcisEvent]
    next_token: str | None


def run(session: Session, principal: Principal | None, query: EventQuery) -> Page:
    size = query.per_page
    if query.limit is not None:
        size = min(size, query.limit)
    rows = list(session.scalars(statement(query, principal).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    token = None
    if more and rows:
        last = rows[-1]
        key = None
        if query.order_by == "eventTime":
            key = format_timestamp(last.event_time)
        elif query.order_by == "recordTime":
            key = format_timestamp(last.record_time)
        token = encode_token(query.order_by, query.descending, key, last.id)
    return Page(rows, token)


def event_by_id(session: Session, principal: Principal | None, event_id: str) -> EpcisEvent | None:
    stmt = select(EpcisEvent).where(EpcisEvent.event_id == event_id, event_scope(principal))
    return session.scalars(stmt).first()


# output ------------------------------------------------------------------------------------


def event_json(event: EpcisEvent, rename: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The event as captured, with the repository's recordTime."""
    body = dict(event.body)
    if rename:
        body = _renamed(body, rename)
    body["recordTime"] = format_timestamp(event.record_time)
    return body


def _renamed(value: Any, rename: Mapping[str, str]) -> Any:
    """Rewrite ``old:`` prefixes (keys and values) when two events used one prefix differently."""
    if isinstance(value, dict):
        return {_rename_str(k, rename): _renamed(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, rename) for v in value]
    if isinstance(value, str):
        return _rename_str(value, rename)
    return value


def _rename_str(text: str, rename: Mapping[str, str]) -> str:
    prefix, sep, rest = text.partition(":")
    if sep and prefix in rename and not rest.startswith("//"):
        return f"{rename[prefix]}:{rest}"
    return text


def events_json(events: Sequence[EpcisEvent]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Events ready for one document, and the merged prefix map of their @context."""
    merged: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for event in events:
        rename: dict[str, str] = {}
        for prefix, iri in (event.namespaces or {}).items():
            if merged.get(prefix, iri) == iri:
                merged[prefix] = iri
                continue
            # The prefix means something else in this event: use another name for it.
            existing = next((p for p, i in merged.items() if i == iri), None)
            if existing is None:
                n = 2
                while f"{prefix}{n}" in merged:
                    n += 1
                existing = f"{prefix}{n}"
                merged[existing] = iri
            rename[prefix] = existing
        out.append(event_json(event, rename))
    return out, merged


def query_document(
    events: Sequence[EpcisEvent], *, query_name: str, created: datetime
) -> dict[str, Any]:
    """An EPCISQueryDocument (JSON-LD) holding the events."""
    bodies, namespaces = events_json(events)
    context: list[Any] = [STANDARD_CONTEXT]
    if namespaces:
        context.append(dict(sorted(namespaces.items())))
    return {
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": format_timestamp(created),
        "epcisBody": {
            "queryResults": {
                "queryName": query_name,
                "resultsBody": {"eventList": bodies},
            }
        },
    }
