"""Diary entries as the pages show them: names instead of identifiers, quantities with Vietnamese
digit grouping, warnings and the links between an entry and its correction. Pure: the names
come in as :class:`Names`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from txng.diary import activities as act
from txng.kit.i18n import format_number

LATE_AFTER = timedelta(minutes=15)  # recorded this long after it happened: shown as "sent"


@dataclass
class Line:
    """One quantity of an entry, ready to show."""

    product: str
    lot: str | None
    quantity: Decimal | None
    uom: str | None

    @property
    def quantity_text(self) -> str:
        """Vietnamese digit grouping, as many decimals as were recorded."""
        if self.quantity is None:
            return ""
        exponent = self.quantity.normalize().as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return format_number(self.quantity, decimals)


@dataclass
class EntryView:
    pk: int
    event_id: str
    activity: act.Activity | None
    event_time: datetime
    record_time: datetime
    facility: str
    lines: list[Line]
    inputs: list[Line]
    partner: str | None
    recorded_by: str
    recorded_for: str | None
    details: dict[str, Any]
    photo: str | None
    note: str | None
    warnings: list[act.Withholding] = field(default_factory=list)
    corrected: bool = False
    corrected_by: int | None = None  # the entry that corrects this one
    corrects: int | None = None  # the entry this one corrects

    @property
    def dose(self) -> Line | None:
        """The amount of fertiliser, pesticide, feed or medicine used, as a line to show."""
        amount = self.details.get("txng:dose")
        if not isinstance(amount, int | float):
            return None
        unit = self.details.get("txng:doseUnit")
        return Line("", None, Decimal(str(amount)), unit if isinstance(unit, str) else None)

    @property
    def sent_late(self) -> bool:
        """Kept on a phone or typed in afterwards: the time it reached us is worth showing."""
        return self.record_time - self.event_time > LATE_AFTER


def gtins_of(bodies: list[dict[str, Any]]) -> set[str]:
    """Every GTIN the events' quantities name."""
    return {
        parts[0]
        for body in bodies
        for name in ("quantityList", "inputQuantityList", "outputQuantityList")
        for element in body.get(name) or []
        if (parts := act.split_class(str(element.get("epcClass", ""))))
    }


def linked_ids(bodies: list[dict[str, Any]]) -> set[str]:
    """The eventIDs of the corrections of these events and of the events they correct."""
    ids: set[str] = set()
    for body in bodies:
        declaration = body.get("errorDeclaration") or {}
        ids.update(str(i) for i in declaration.get("correctiveEventIDs") or [])
        if isinstance(body.get("txng:corrects"), str):
            ids.add(body["txng:corrects"])
    return ids


@dataclass
class Names:
    """Display names of the places, products and parties events refer to, by identifier."""

    places: dict[str, str]
    products: dict[str, str]
    parties: dict[str, str]

    @classmethod
    def of(cls, options: act.Options, more_products: Mapping[str, str]) -> Names:
        products = {**more_products, **{p.gtin: p.name for p in options.products.values()}}
        parties = {p.uri: p.name for p in options.partners.values()}
        parties[options.organisation.uri] = options.organisation.name
        places = {p.uri: p.name for p in options.facilities.values()}
        return cls(places, products, parties)

    def line(self, element: Mapping[str, Any]) -> Line:
        epc_class = str(element.get("epcClass", ""))
        parts = act.split_class(epc_class)
        quantity = element.get("quantity")
        return Line(
            product=self.products.get(parts[0], parts[0]) if parts else epc_class,
            lot=parts[1] if parts else None,
            quantity=Decimal(str(quantity)) if quantity is not None else None,
            uom=element.get("uom"),
        )

    def partner(self, body: Mapping[str, Any]) -> str | None:
        outgoing = body.get("bizStep") == "shipping"
        ends = body.get("destinationList" if outgoing else "sourceList") or []
        key = "destination" if outgoing else "source"
        for end in ends:
            value = str(end.get(key, ""))
            if end.get("type") == "location" and value in self.places:
                return self.places[value]
            if end.get("type") == "owning_party" and value in self.parties:
                return self.parties[value]
        name = body.get("txng:partnerName")
        return str(name) if name else None


def view(
    pk: int,
    body: Mapping[str, Any],
    *,
    record_time: datetime,
    event_time: datetime,
    corrected: bool,
    names: Names,
    links: Mapping[str, int],
) -> EntryView:
    declaration = body.get("errorDeclaration") or {}
    corrective = [str(i) for i in declaration.get("correctiveEventIDs") or []]
    place = str((body.get("bizLocation") or {}).get("id", ""))
    outputs = body.get("outputQuantityList") or body.get("quantityList") or []
    return EntryView(
        pk=pk,
        event_id=str(body.get("eventID", "")),
        activity=act.activity_of(body),
        event_time=event_time,
        record_time=record_time,
        facility=names.places.get(place, place),
        lines=[names.line(e) for e in outputs],
        inputs=[names.line(e) for e in body.get("inputQuantityList") or []],
        partner=names.partner(body),
        recorded_by=str(body.get("txng:recordedBy", "")),
        recorded_for=body.get("txng:recordedFor"),
        details={k: v for k, v in body.items() if k in act.DETAIL_KEYS},
        photo=body.get("txng:photo"),
        note=body.get("txng:note"),
        corrected=corrected,
        corrected_by=next((links[i] for i in corrective if i in links), None),
        corrects=links.get(str(body.get("txng:corrects", ""))),
    )
