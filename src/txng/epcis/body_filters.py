"""Query conditions on fields kept only in the event's JSON ``body`` (no index column).

One construct, :class:`BodyMatch`, compiled per database: ``json_each``/``json_tree`` on SQLite,
``jsonb_path_query`` over ``CAST(body AS jsonb)`` on PostgreSQL, so that it keeps working whether
the column is ``jsonb`` (today) or plain ``json``. Values inside arrays are matched one by one.

Extension field names come in two spellings: ``IRI#localName`` (the standard's fully qualified
name) is resolved through each event's own prefixes (column ``namespaces``); a CURIE
(``example:field``) is matched as written, that is with the prefix the capturing document used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Boolean, ColumnElement, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

Comparison = Literal[">", ">=", "<", "<="]

# Only values of these shapes are compared as numbers or timestamps; the rest never match.
_NUMBER_RE = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*$"
_TIMESTAMP_RE = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]+)?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_TIMESTAMP_GLOB = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]*"


@dataclass(frozen=True)
class FieldName:
    """A field as a query names it: keys matched as written, or a namespace IRI + local name."""

    literal: str | None = None
    namespace: str | None = None
    local: str = ""


@dataclass(frozen=True)
class TextIn:
    """The value, as text, is one of ``values``; numeric values also match numerically."""

    values: tuple[str, ...]
    numbers: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class Compare:
    """The value, read as a number or as a timestamp, compares with ``bound``."""

    op: Comparison
    bound: Decimal | datetime


@dataclass(frozen=True)
class Exists:
    """The field is present (with any value)."""


Test = TextIn | Compare | Exists


class BodyMatch(ColumnElement[bool]):
    """``body.root….field`` (or, with ``inner``, ``field`` nested anywhere below a member of
    ``root``) satisfies ``test``."""

    inherit_cache = False
    type = Boolean()

    def __init__(
        self, root: tuple[str, ...], field: FieldName, test: Test, *, inner: bool = False
    ) -> None:
        self.root = root
        self.field = field
        self.test = test
        self.inner = inner


class _Params:
    """Bound parameters with names unique within the statement."""

    def __init__(self, compiler: SQLCompiler, **kw: Any) -> None:
        self.compiler = compiler
        self.kw = kw
        self.n = 0

    def __call__(self, value: Any) -> str:
        self.n += 1
        param: BindParameter[Any] = bindparam(f"bm_{self.n}", value, unique=True)
        return self.compiler.process(param, **self.kw)


# SQLite ------------------------------------------------------------------------------------


def _exists(from_: str, where: str) -> str:
    # Only constants and bound parameters (rendered by the compiler) reach this text.
    return f"EXISTS (SELECT 1 FROM {from_} WHERE {where})"  # noqa: S608


@dataclass(frozen=True)
class _Source:
    """One spelling of the field: extra FROM items and their condition, the key's SQL."""

    from_: str
    where: str
    key: str


def _sqlite_sources(field: FieldName, p: _Params) -> list[_Source]:
    out: list[_Source] = []
    if field.literal is not None:
        out.append(_Source("", "", p(field.literal)))
    if field.namespace is not None:
        out.append(
            _Source(
                "json_each(epcis_event.namespaces) AS ns, ",
                f"ns.value IN ({p(field.namespace)}, {p(field.namespace + '#')}) "
                "AND instr(ns.key, '\"') = 0 AND ",
                f"(ns.key || ':' || {p(field.local)})",
            )
        )
    return out


def _sqlite_value_test(test: TextIn | Compare, p: _Params) -> str:
    # A scalar, or an element of an array; not the members of an object.
    scalar = "(v.key IS NULL OR typeof(v.key) = 'integer')"
    number = (
        "(CASE WHEN v.type IN ('integer', 'real') THEN v.atom WHEN v.type = 'text' THEN "
        "(CASE WHEN json_valid(v.atom) THEN (CASE WHEN json_type(v.atom) IN ('integer', 'real') "
        "THEN CAST(v.atom AS REAL) END) END) END)"
    )
    if isinstance(test, TextIn):
        as_text = (
            "(CASE v.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            "WHEN 'text' THEN v.atom WHEN 'integer' THEN CAST(v.atom AS TEXT) "
            "WHEN 'real' THEN CAST(v.atom AS TEXT) END)"
        )
        ors = [f"{as_text} IN ({', '.join(p(v) for v in test.values)})"]
        if test.numbers:
            ors.append(f"{number} IN ({', '.join(p(float(n)) for n in test.numbers)})")
        return f"{scalar} AND (" + " OR ".join(ors) + ")"
    if isinstance(test.bound, Decimal):
        return f"{scalar} AND {number} {test.op} {p(float(test.bound))}"
    moment = (
        f"(CASE WHEN v.type = 'text' AND v.atom GLOB '{_TIMESTAMP_GLOB}' "
        "THEN julianday(v.atom) END)"
    )
    bound = test.bound.isoformat(timespec="microseconds")
    return f"{scalar} AND {moment} {test.op} julianday({p(bound)})"


def _sqlite(match: BodyMatch, p: _Params) -> str:
    root = "$" + "".join(f'."{k}"' for k in match.root)
    test = match.test
    found: list[str] = []
    for src in _sqlite_sources(match.field, p):
        if match.inner:
            # Every member of the root object, walked to any depth.
            tables = (
                f"{src.from_}json_each(epcis_event.body, {p(root)}) AS top, "
                "json_tree(top.value) AS t"
            )
            where = f"{src.where}top.type IN ('object', 'array') AND t.key = {src.key}"
            if not isinstance(test, Exists):
                tables += ", json_each(top.value, t.fullkey) AS v"
                where += " AND " + _sqlite_value_test(test, p)
            found.append(_exists(tables, where))
            continue
        path = f"({p(root + '.')} || '\"' || {src.key} || '\"')"
        if isinstance(test, Exists):
            present = f"json_type(epcis_event.body, {path}) IS NOT NULL"
            if src.from_:
                present = _exists(src.from_.rstrip(", "), src.where + present)
            found.append(present)
            continue
        tables = f"{src.from_}json_each(epcis_event.body, {path}) AS v"
        found.append(_exists(tables, src.where + _sqlite_value_test(test, p)))
    return "(" + " OR ".join(found) + ")"


# PostgreSQL --------------------------------------------------------------------------------


def _jsonpath_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pg_value_test(test: TextIn | Compare, p: _Params) -> str:
    scalar = "(v.val #>> '{}')"
    number = (
        f"(CASE WHEN jsonb_typeof(v.val) = 'number' THEN CAST({scalar} AS numeric) "
        f"WHEN jsonb_typeof(v.val) = 'string' AND {scalar} ~ {p(_NUMBER_RE)} "
        f"THEN CAST({scalar} AS numeric) END)"
    )
    if isinstance(test, TextIn):
        ors = [
            f"(jsonb_typeof(v.val) IN ('string', 'number', 'boolean') AND {scalar} IN "
            f"({', '.join(p(v) for v in test.values)}))"
        ]
        if test.numbers:
            ors.append(
                f"{number} IN ({', '.join(f'CAST({p(n)} AS numeric)' for n in test.numbers)})"
            )
        return "(" + " OR ".join(ors) + ")"
    if isinstance(test.bound, Decimal):
        return f"{number} {test.op} CAST({p(test.bound)} AS numeric)"
    moment = (
        f"(CASE WHEN jsonb_typeof(v.val) = 'string' AND {scalar} ~ {p(_TIMESTAMP_RE)} "
        f"THEN CAST({scalar} AS timestamptz) END)"
    )
    return f"{moment} {test.op} {p(test.bound)}"


def _pg(match: BodyMatch, p: _Params) -> str:
    head = "lax $" + "".join("." + _jsonpath_key(k) for k in match.root)
    if match.inner:
        head += ".*.**"  # members of the root's members, at any depth
    test = match.test
    tail = "" if isinstance(test, Exists) else "[*]"  # array elements one by one
    body = "CAST(epcis_event.body AS jsonb)"  # also when the column is plain json
    paths: list[tuple[str, str, str]] = []  # (extra FROM, its condition, jsonpath SQL)
    field = match.field
    if field.literal is not None:
        literal = p(head + "." + _jsonpath_key(field.literal) + tail)
        paths.append(("", "", f"CAST({literal} AS jsonpath)"))
    if field.namespace is not None:
        opening, closing = p(head + '."'), p(_jsonpath_key(field.local)[1:] + tail)
        paths.append(
            (
                "jsonb_each_text(CAST(epcis_event.namespaces AS jsonb)) AS ns(key, value)",
                f"ns.value IN ({p(field.namespace)}, {p(field.namespace + '#')}) "
                "AND strpos(ns.key, '\"') = 0 AND strpos(ns.key, '\\') = 0 AND ",
                f"CAST({opening} || ns.key || ':' || {closing} AS jsonpath)",
            )
        )
    found: list[str] = []
    for ns_from, ns_where, path in paths:
        if isinstance(test, Exists):
            present = f"jsonb_path_exists({body}, {path})"
            found.append(_exists(ns_from, ns_where + present) if ns_from else present)
            continue
        values = f"jsonb_path_query({body}, {path}) AS v(val)"
        tables = f"{ns_from} CROSS JOIN LATERAL {values}" if ns_from else values
        found.append(_exists(tables, ns_where + _pg_value_test(test, p)))
    return "(" + " OR ".join(found) + ")"


@compiles(BodyMatch, "sqlite")
def _compile_sqlite(element: BodyMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return _sqlite(element, _Params(compiler, **kw))


@compiles(BodyMatch, "postgresql")
def _compile_postgresql(element: BodyMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return _pg(element, _Params(compiler, **kw))


@compiles(BodyMatch)
def _compile_other(element: BodyMatch, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(f"no JSON body filter for {compiler.dialect.name}")
