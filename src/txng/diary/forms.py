"""Diary forms: a submitted form (strings) checked into an :class:`~txng.diary.activities.Entry`,
and an event read back into the form that would record it again (the start of a correction).

Pure functions, no database: what a form may refer to comes in as
:class:`~txng.diary.activities.Options`. Every problem is reported at once, on its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import unquote

from txng.diary.activities import (
    DOSE,
    HEAD_COUNT,
    INPUT,
    INPUTS,
    LOT,
    LOT_NUMBER,
    PACKAGES,
    PARTNER,
    PRODUCT,
    QUANTITY,
    UNIT_LABELS,
    VARIETY,
    WITHHOLDING,
    Activity,
    Amount,
    Entry,
    Item,
    Lot,
    Options,
    Place,
    event_id_from,
    json_number,
    split_class,
)
from txng.epcis import identifiers
from txng.errors import N_, ErrorCollector, ValidationFailed
from txng.kit.gs1 import GS1KeyError, normalize_gtin
from txng.kit.i18n import DISPLAY_TZ

MAX_LOT_LENGTH: Final = 20
INPUT_ROWS: Final = 3  # input lots offered on the processing form
FUTURE_SLACK: Final = timedelta(minutes=10)  # a phone's clock may run a little ahead
MAX_OFFSET: Final = timedelta(hours=14)  # the widest time zone offset EPCIS allows
MAX_QUANTITY: Final = Decimal(10) ** 9
MAX_TEXT: Final = 200
MAX_NOTE: Final = 1000
_LOT_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-./_]*\Z")


def suggest_lot(day: date, taken: set[str] | frozenset[str]) -> str:
    """``20260612-01``: the day of the harvest and the first free sequence number."""
    stem = day.strftime("%Y%m%d")
    n = 1
    while f"{stem}-{n:02d}" in taken:
        n += 1
    return f"{stem}-{n:02d}"


# reading the form ----------------------------------------------------------------------------


class _Reader:
    """Typed values out of a submitted form, collecting every error with its field."""

    def __init__(self, form: Mapping[str, str]) -> None:
        self.form = form
        self.errors = ErrorCollector()

    def raw(self, name: str) -> str:
        return (self.form.get(name) or "").strip()

    def text(self, name: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self.errors.add(f"/{name}", N_("This field is required"), "required")
            return None
        if len(value) > max_length:
            self.errors.add(
                f"/{name}",
                N_("Too long: at most %(max_length)s characters"),
                "too_long",
                max_length=max_length,
            )
            return None
        return value

    def pick(self, name: str, choices: Mapping[int, Any], *, required: bool = False) -> Any:
        value = self.raw(name)
        if not value:
            if required:
                self.errors.add(f"/{name}", N_("This field is required"), "required")
            return None
        found = choices.get(int(value)) if value.isdigit() and len(value) < 19 else None
        if found is None:
            self.errors.add(f"/{name}", N_("Choose one of the options"), "invalid_choice")
        return found

    def number(self, name: str, *, required: bool = False) -> Decimal | None:
        """A positive quantity; a decimal comma is accepted (``1,5``)."""
        value = self.raw(name).replace(" ", "").replace(",", ".")
        if not value:
            if required:
                self.errors.add(f"/{name}", N_("This field is required"), "required")
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.errors.add(f"/{name}", N_("Enter a number"), "not_a_number")
            return None
        if number <= 0:
            self.errors.add(f"/{name}", N_("Must be more than %(gt)s"), "too_small", gt=0)
            return None
        if number > MAX_QUANTITY:
            self.errors.add(f"/{name}", N_("Must be at most %(le)s"), "too_large", le=10**9)
            return None
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -3:
            self.errors.add(f"/{name}", N_("Use at most 3 decimal places"), "too_precise")
            return None
        return number

    def whole(self, name: str, *, required: bool = False, low: int = 0, high: int) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self.errors.add(f"/{name}", N_("This field is required"), "required")
            return None
        if not value.isdigit():
            self.errors.add(f"/{name}", N_("Enter a whole number"), "not_whole")
            return None
        number = int(value)
        if number < low:
            self.errors.add(f"/{name}", N_("Must be at least %(ge)s"), "too_small", ge=low)
            return None
        if number > high:
            self.errors.add(f"/{name}", N_("Must be at most %(le)s"), "too_large", le=high)
            return None
        return number

    def unit(self, name: str, *, required: bool) -> str | None:
        value = self.raw(name)
        if value in UNIT_LABELS:
            return value
        if value or required:
            self.errors.add(f"/{name}", N_("Choose a unit"), "unit")
        return None

    def amount(self, name: str, unit: str, *, required: bool) -> tuple[Decimal, str] | None:
        quantity = self.number(name, required=required)
        uom = self.unit(unit, required=required or quantity is not None)
        return (quantity, uom) if quantity is not None and uom is not None else None

    def lot_number(self, name: str, *, required: bool) -> str | None:
        value = self.text(name, required=required, max_length=MAX_LOT_LENGTH)
        if value is not None and not _LOT_RE.match(value):
            self.errors.add(
                f"/{name}",
                N_("Use only letters without accents, digits and the signs - . / _"),
                "lot_format",
            )
            return None
        return value


def _event_time(reader: _Reader, now: datetime) -> datetime | None:
    """When it happened: the moment the phone's save button was tapped, else the date and time
    typed on the form (Vietnam time)."""
    moment: datetime | None = None
    tapped = reader.raw("event_time")
    if tapped:
        try:
            moment = datetime.fromisoformat(tapped.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        offset = moment.utcoffset() if moment is not None else None
        if offset is None or abs(offset) > MAX_OFFSET or moment is None or moment.year < 2000:
            moment = None
    if moment is None:
        day, clock = reader.raw("date"), reader.raw("time")
        try:
            parsed_day = date.fromisoformat(day)
        except ValueError:
            reader.errors.add("/date", N_("Enter a date"), "date")
            return None
        try:
            parsed_clock = time.fromisoformat(clock) if clock else time(12, 0)
        except ValueError:
            reader.errors.add("/time", N_("Enter a time"), "time")
            return None
        moment = datetime.combine(parsed_day, parsed_clock.replace(tzinfo=None), DISPLAY_TZ)
        if not clock:  # a day without a time: midday, or now when that is still to come
            moment = min(moment, now.astimezone(DISPLAY_TZ))
    if moment > now + FUTURE_SLACK:
        reader.errors.add("/date", N_("This time is in the future"), "future")
        return None
    return moment


def parse_entry(
    activity: Activity,
    form: Mapping[str, str],
    options: Options,
    *,
    now: datetime,
    recorded_by: str,
) -> Entry:
    """Check a submitted form; every problem is reported at once, on its field."""
    r = _Reader(form)
    facility: Place | None = r.pick("facility", options.facilities, required=True)
    moment = _event_time(r, now)
    values: dict[str, Any] = {}
    for name in ("product", "lot", "inputs", "partner", "details"):
        values.update(_READERS[name](activity, r, options, facility))
    note = r.text("note", max_length=MAX_NOTE)
    recorded_for = r.text("recorded_for") if options.cooperative else None
    r.errors.raise_if_any()
    if facility is None or moment is None:  # pragma: no cover - an error was reported for each
        raise ValidationFailed()
    return Entry(
        activity=activity,
        event_id=event_id_from(r.raw("entry_id")),
        event_time=moment,
        facility=facility,
        recorded_by=recorded_by,
        recorded_for=recorded_for,
        note=note,
        **values,
    )


def _read_product(a: Activity, r: _Reader, o: Options, place: Place | None) -> dict[str, Any]:
    if PRODUCT not in a.fields:
        return {}
    if a.code == "receiving":
        return _read_received(a, r, o)
    product: Item | None = r.pick("product", o.products, required=PRODUCT in a.required)
    out: dict[str, Any] = {"product": product}
    if LOT_NUMBER in a.fields:
        lot = r.lot_number("lot_number", required=True)
        if product and lot and f"{product.gtin}/{lot}" in o.taken_lots:
            r.errors.add(
                "/lot_number", N_("This lot number is already used for this product"), "lot_taken"
            )
        out["lot_number"] = lot
    amount = r.amount("quantity", "unit", required=QUANTITY in a.required)
    if product and amount:
        epc_class = (
            identifiers.lgtin_dl(product.gtin, out["lot_number"])
            if out.get("lot_number")
            else identifiers.gtin_dl(product.gtin)
        )
        out["amounts"] = (Amount(epc_class, *amount),)
    elif product and QUANTITY not in a.required:
        out["amounts"] = (Amount(identifiers.gtin_dl(product.gtin)),)
    return out


def _read_received(a: Activity, r: _Reader, o: Options) -> dict[str, Any]:
    """Receiving: one of our products, or the GTIN of the supplier's product."""
    product: Item | None = r.pick("product", o.products)
    gtin = product.gtin if product else None
    typed = r.raw("gtin")
    if product is None and typed:
        try:
            gtin = normalize_gtin(typed)
        except GS1KeyError as exc:
            r.errors.add("/gtin", exc.msgid, "bad_gtin", **exc.params)
    elif product is None and not r.raw("product"):
        r.errors.add("/product", N_("Choose a product or type its GTIN"), "required")
    lot = r.lot_number("lot_number", required=False)
    amount = r.amount("quantity", "unit", required=True)
    out: dict[str, Any] = {"product": product, "lot_number": lot}
    if gtin and amount:
        epc_class = identifiers.lgtin_dl(gtin, lot) if lot else identifiers.gtin_dl(gtin)
        out["amounts"] = (Amount(epc_class, *amount),)
    return out


def _read_lot(a: Activity, r: _Reader, o: Options, place: Place | None) -> dict[str, Any]:
    if LOT not in a.fields:
        return {}
    lot: Lot | None = None
    key = r.raw("lot")
    if not key:
        r.errors.add("/lot", N_("This field is required"), "required")
    else:
        lot = o.lots.get(key)
        if lot is None:
            r.errors.add("/lot", N_("Choose one of the options"), "invalid_choice")
    amount = r.amount("quantity", "unit", required=True)
    if lot is None or amount is None:
        return {}
    return {"lot_number": lot.lot, "amounts": (Amount(lot.uri, *amount),)}


def _read_inputs(a: Activity, r: _Reader, o: Options, place: Place | None) -> dict[str, Any]:
    if INPUTS not in a.fields:
        return {}
    inputs: list[Amount] = []
    for i in range(INPUT_ROWS):
        key = r.raw(f"in_lot_{i}")
        if not key:
            continue
        lot = o.lots.get(key)
        if lot is None:
            r.errors.add(f"/in_lot_{i}", N_("Choose one of the options"), "invalid_choice")
        amount = r.amount(f"in_qty_{i}", f"in_unit_{i}", required=True)
        if lot is not None and amount is not None:
            inputs.append(Amount(lot.uri, *amount))
    if not any(r.raw(f"in_lot_{i}") for i in range(INPUT_ROWS)):
        r.errors.add("/in_lot_0", N_("Choose at least one input lot"), "required")
    return {"inputs": tuple(inputs)}


def _read_partner(a: Activity, r: _Reader, o: Options, place: Place | None) -> dict[str, Any]:
    if PARTNER not in a.fields:
        return {}
    out: dict[str, Any] = {"delivery_note": r.text("delivery_note", max_length=60)}
    choice = r.raw("partner")
    name = r.text("partner_name")
    kind, _, ident = choice.partition(":")
    if not choice:
        if not name:
            r.errors.add("/partner", N_("Choose a partner or type a name"), "required")
        out["partner_name"] = name
    elif kind == "o" and ident.isdigit() and int(ident) in o.partners:
        out["partner"] = o.partners[int(ident)]
    elif kind == "f" and ident.isdigit() and int(ident) in o.facilities:
        other = o.facilities[int(ident)]
        if place is not None and other.id == place.id:
            r.errors.add("/partner", N_("Choose another place than this facility"), "same_place")
        out["partner_place"] = other
    else:
        r.errors.add("/partner", N_("Choose one of the options"), "invalid_choice")
    return out


def _read_details(a: Activity, r: _Reader, o: Options, place: Place | None) -> dict[str, Any]:
    """The farm-work details, kept as ``txng:`` extension fields of the event."""
    details: dict[str, Any] = {}
    if INPUT in a.fields:
        details["txng:input"] = r.text("input", required=INPUT in a.required)
    if DOSE in a.fields:
        dose = r.amount("dose", "dose_unit", required=DOSE in a.required)
        if dose is not None:
            details["txng:dose"] = json_number(dose[0])
            details["txng:doseUnit"] = dose[1]
    if WITHHOLDING in a.fields:
        details["txng:withholdingDays"] = r.whole(
            "withholding_days", required=WITHHOLDING in a.required, high=365
        )
    if VARIETY in a.fields:
        details["txng:variety"] = r.text("variety")
    if HEAD_COUNT in a.fields:
        details["txng:headCount"] = r.whole("head_count", low=1, high=10**7)
    if PACKAGES in a.fields:
        details["txng:packageCount"] = r.whole("package_count", low=1, high=10**7)
        details["txng:packageType"] = r.text("package_type")
    return {"details": {k: v for k, v in details.items() if v is not None}}


_READERS: Final = {
    "product": _read_product,
    "lot": _read_lot,
    "inputs": _read_inputs,
    "partner": _read_partner,
    "details": _read_details,
}


# reading an event back ---------------------------------------------------------------------


def _amount_form(element: Mapping[str, Any]) -> tuple[str, str]:
    quantity = element.get("quantity")
    text = "" if quantity is None else f"{Decimal(str(quantity)).normalize():f}"
    return text, str(element.get("uom") or "")


def form_of(event: Mapping[str, Any], options: Options) -> dict[str, str]:
    """The form values that would record this event again: the start of a correction."""
    moment = _moment(event)
    form: dict[str, str] = {"date": moment.date().isoformat(), "time": moment.strftime("%H:%M")}
    place = (event.get("bizLocation") or {}).get("id")
    by_uri = {p.uri: p for p in options.facilities.values()}
    if place in by_uri:
        form["facility"] = str(by_uri[place].id)
    _products_form(event, options, form)
    _partner_form(event, options, by_uri, form)
    for key, name in _DETAIL_FIELDS.items():
        if event.get(key) is not None:
            value = event[key]
            form[name] = (
                f"{Decimal(str(value)).normalize():f}" if key == "txng:dose" else str(value)
            )
    return form


_DETAIL_FIELDS: Final = {
    "txng:input": "input",
    "txng:dose": "dose",
    "txng:doseUnit": "dose_unit",
    "txng:withholdingDays": "withholding_days",
    "txng:variety": "variety",
    "txng:headCount": "head_count",
    "txng:packageCount": "package_count",
    "txng:packageType": "package_type",
    "txng:partnerName": "partner_name",
    "txng:recordedFor": "recorded_for",
    "txng:note": "note",
}


def keeping_time(form: Mapping[str, str], event: Mapping[str, Any]) -> Mapping[str, str]:
    """A correction that leaves the date and time as they were keeps the original eventTime,
    to the millisecond and in its offset (the form shows minutes only)."""
    if form.get("event_time"):
        return form
    moment = _moment(event)
    if form.get("date") == moment.date().isoformat() and form.get("time") == f"{moment:%H:%M}":
        return {**form, "event_time": str(event["eventTime"])}
    return form


def _moment(event: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00"))


def _products_form(event: Mapping[str, Any], options: Options, form: dict[str, str]) -> None:
    by_gtin = {p.gtin: p for p in options.products.values()}
    outputs = event.get("outputQuantityList") or event.get("quantityList") or []
    for element in outputs[:1]:
        parts = split_class(str(element.get("epcClass", "")))
        if parts is None:
            continue
        gtin, lot = parts
        form["quantity"], form["unit"] = _amount_form(element)
        if gtin in by_gtin:
            form["product"] = str(by_gtin[gtin].id)
        elif event.get("bizStep") == "receiving":
            form["gtin"] = gtin
        if lot:
            form["lot"] = f"{gtin}/{lot}"
            form["lot_number"] = lot
    for i, element in enumerate((event.get("inputQuantityList") or [])[:INPUT_ROWS]):
        parts = split_class(str(element.get("epcClass", "")))
        if parts and parts[1]:
            form[f"in_lot_{i}"] = f"{parts[0]}/{parts[1]}"
            form[f"in_qty_{i}"], form[f"in_unit_{i}"] = _amount_form(element)


def _partner_form(
    event: Mapping[str, Any],
    options: Options,
    places: Mapping[str, Place],
    form: dict[str, str],
) -> None:
    outgoing = event.get("bizStep") == "shipping"
    ends = event.get("destinationList" if outgoing else "sourceList") or []
    key = "destination" if outgoing else "source"
    parties = {p.uri: p for p in options.partners.values()}
    for end in ends:
        value = end.get(key)
        if end.get("type") == "owning_party" and value in parties:
            form["partner"] = f"o:{parties[value].id}"
        elif end.get("type") == "location" and value in places:
            form["partner"] = f"f:{places[value].id}"
    for item in event.get("bizTransactionList") or []:
        form["delivery_note"] = unquote(str(item.get("bizTransaction", "")).rsplit(":", 1)[-1])
