"""What can be written in the production diary, and the EPCIS 2.0 event each entry becomes.

Pure functions, no database: the activities and the facilities that offer them, a checked
:class:`Entry` (made from a form by :mod:`txng.diary.forms`) and the event it becomes, how an
event is read back, and withholding periods.

Where CBV 2.0 names the business step we use it (harvest and processing → ``commissioning``,
``packing``, ``shipping``, ``receiving``). Farm work that CBV does not name (planting, stocking,
fertilising, spraying, feeding, vaccination) is an ObjectEvent OBSERVE with a step of ours in the
``txng`` namespace and its details as ``txng:`` extension fields. (CBV's own ``stocking`` means
putting goods on a shop's shelves, not fish into a pond.)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote, unquote

from txng.epcis import identifiers
from txng.errors import N_

TXNG_NS: Final = "https://txng.vn/voc/"
EPCIS_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_DL_RE: Final = re.compile(r"https://id\.gs1\.org/01/(\d{14})(?:/10/([^/?#]+))?\Z")

# UN/ECE Recommendation 20 codes offered on the forms, with their labels.
UNIT_LABELS: Final[dict[str, str]] = {
    "KGM": N_("kg"),
    "TNE": N_("tonne"),
    "GRM": N_("gram"),
    "LTR": N_("litre"),
    "MLT": N_("millilitre"),
    "H87": N_("pieces / head"),
}

# Product groups, and the activities each kind of facility offers.
CROPS, LIVESTOCK, AQUACULTURE, PROCESSING = "crops", "livestock", "aquaculture", "processing"
GROUP_LABELS: Final[dict[str, str]] = {
    CROPS: N_("Crops"),
    LIVESTOCK: N_("Livestock"),
    AQUACULTURE: N_("Aquaculture"),
    PROCESSING: N_("Processed food"),
}
FACILITY_GROUPS: Final[dict[str, str]] = {
    "growing_area": CROPS,
    "farm": CROPS,
    "barn": LIVESTOCK,
    "pond": AQUACULTURE,
    "factory": PROCESSING,
    "packing_house": PROCESSING,
}
_GROUP_ACTIVITIES: Final[dict[str, tuple[str, ...]]] = {
    CROPS: ("planting", "fertilising", "spraying", "harvest"),
    LIVESTOCK: ("stocking", "feeding", "vaccination", "harvest"),
    AQUACULTURE: ("stocking", "feeding", "vaccination", "harvest"),
    PROCESSING: ("receiving", "processing", "packing"),
}
_EVERYWHERE: Final = ("shipping", "receiving")

# Form fields (``unit``, ``dose_unit``, ``package_type``, ``partner_name`` and the ``in_*`` rows
# come with the field they belong to).
PRODUCT, LOT, LOT_NUMBER, QUANTITY = "product", "lot", "lot_number", "quantity"
INPUT, DOSE, WITHHOLDING, VARIETY = "input", "dose", "withholding_days", "variety"
HEAD_COUNT, PACKAGES, INPUTS = "head_count", "package_count", "inputs"
# A GLN extension (AI 254): 1 to 20 characters of the GS1 AI encodable character set 82.
_GLN_EXTENSION = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
PARTNER, DELIVERY_NOTE = "partner", "delivery_note"


@dataclass(frozen=True)
class Activity:
    code: str
    label: str
    hint: str
    fields: frozenset[str]
    required: frozenset[str]
    labels: Mapping[str, str] = field(default_factory=dict)  # field → its label on this form

    def label_of(self, name: str, default: str) -> str:
        return self.labels.get(name, default)


def _activity(
    code: str,
    label: str,
    hint: str,
    fields: tuple[str, ...],
    required: tuple[str, ...],
    **labels: str,
) -> Activity:
    return Activity(code, label, hint, frozenset(fields), frozenset(required), labels)


ACTIVITIES: Final[dict[str, Activity]] = {
    a.code: a
    for a in (
        _activity(
            "planting", N_("Planting"), N_("Sowing or planting out"),
            (PRODUCT, VARIETY, QUANTITY), (PRODUCT,),
            variety=N_("Variety"), quantity=N_("Seed or seedlings used"),
        ),
        _activity(
            "stocking", N_("Stocking"), N_("Young animals or fry brought in"),
            (PRODUCT, VARIETY, QUANTITY), (PRODUCT, QUANTITY),
            variety=N_("Breed and where the young came from"), quantity=N_("How many"),
        ),
        _activity(
            "fertilising", N_("Fertilising"), N_("Fertiliser applied"),
            (PRODUCT, INPUT, DOSE), (PRODUCT, INPUT, DOSE),
            input=N_("Fertiliser"), dose=N_("Amount used"),
        ),
        _activity(
            "spraying", N_("Spraying"), N_("Plant protection product"),
            (PRODUCT, INPUT, DOSE, WITHHOLDING), (PRODUCT, INPUT, DOSE, WITHHOLDING),
            input=N_("Product sprayed (trade name)"), dose=N_("Amount used"),
        ),
        _activity(
            "feeding", N_("Feeding"), N_("Feed given"),
            (PRODUCT, INPUT, DOSE), (PRODUCT, INPUT, DOSE),
            input=N_("Feed"), dose=N_("Amount given"),
        ),
        _activity(
            "vaccination", N_("Vaccination"), N_("Vaccine or veterinary medicine"),
            (PRODUCT, INPUT, DOSE, HEAD_COUNT, WITHHOLDING), (PRODUCT, INPUT),
            input=N_("Vaccine or medicine"), dose=N_("Dose"),
        ),
        _activity(
            "harvest", N_("Harvest"), N_("Creates a new lot"),
            (PRODUCT, LOT_NUMBER, QUANTITY), (PRODUCT, LOT_NUMBER, QUANTITY),
            quantity=N_("Quantity harvested"),
        ),
        _activity(
            "packing", N_("Packing"), N_("A lot packed for sale"),
            (LOT, QUANTITY, PACKAGES), (LOT, QUANTITY),
            quantity=N_("Quantity packed"),
        ),
        _activity(
            "processing", N_("Processing"), N_("Input lots become a new product lot"),
            (INPUTS, PRODUCT, LOT_NUMBER, QUANTITY), (INPUTS, PRODUCT, LOT_NUMBER, QUANTITY),
            product=N_("Product made"), quantity=N_("Quantity made"),
        ),
        _activity(
            "shipping", N_("Shipping"), N_("Goods sent to a buyer or another place"),
            (LOT, QUANTITY, PARTNER, DELIVERY_NOTE), (LOT, QUANTITY, PARTNER),
            partner=N_("Sent to"), quantity=N_("Quantity sent"),
        ),
        _activity(
            "receiving", N_("Receiving"), N_("Goods received from a supplier"),
            (PARTNER, PRODUCT, LOT_NUMBER, QUANTITY, DELIVERY_NOTE), (PARTNER, PRODUCT, QUANTITY),
            partner=N_("Received from"), lot_number=N_("Supplier's lot number"),
            quantity=N_("Quantity received"),
        ),
    )
}  # fmt: skip
FARM_ACTIVITIES: Final = frozenset(
    {"planting", "stocking", "fertilising", "spraying", "feeding", "vaccination"}
)
WITHHOLDING_ACTIVITIES: Final = frozenset({"spraying", "vaccination"})
# The extension fields that carry an entry's details, in the order they are shown.
DETAIL_KEYS: Final = (
    "txng:input",
    "txng:dose",
    "txng:doseUnit",
    "txng:withholdingDays",
    "txng:variety",
    "txng:headCount",
    "txng:packageCount",
    "txng:packageType",
)


def group_of(facility_kind: str) -> str | None:
    return FACILITY_GROUPS.get(facility_kind)


def activities_for(facility_kind: str) -> list[Activity]:
    """The activities offered at a kind of facility: its product group's, then trade."""
    group = group_of(facility_kind)
    codes = list(_GROUP_ACTIVITIES[group]) if group else []
    codes += [code for code in _EVERYWHERE if code not in codes]
    return [ACTIVITIES[code] for code in codes]


# what the organisation has -------------------------------------------------------------------


def party_uri(organisation_id: int, gln: str | None) -> str:
    """A party: its GLN as a GS1 Digital Link (AI 417) when it has one, else a URN of ours."""
    return f"https://id.gs1.org/417/{gln}" if gln else f"urn:txng:org:{organisation_id}"


@dataclass(frozen=True)
class Place:
    """A facility of the registry as the diary sees it."""

    id: int
    name: str
    kind: str
    gln: str | None
    location_code: str
    organisation_gln: str | None = None

    @property
    def uri(self) -> str:
        """The facility's own GLN; else its location code as a GLN extension (AI 254) of the
        organisation's GLN, which the trace resolves to the facility; else a URN of ours."""
        if self.gln:
            return identifiers.sgln_dl(self.gln)
        if self.organisation_gln and _GLN_EXTENSION.fullmatch(self.location_code):
            return identifiers.sgln_dl(self.organisation_gln, self.location_code)
        return f"urn:txng:loc:{quote(self.location_code, safe='')}"


@dataclass(frozen=True)
class Item:
    """A product of the organisation (``gtin`` is the GTIN-14)."""

    id: int
    name: str
    gtin: str


@dataclass(frozen=True)
class Party:
    """An organisation of the registry: the owner, a buyer or a supplier."""

    id: int
    name: str
    gln: str | None = None
    tax_code: str = ""

    @property
    def uri(self) -> str:
        return party_uri(self.id, self.gln)


@dataclass(frozen=True)
class Lot:
    """A lot the organisation has recorded (harvested, made or received)."""

    gtin: str
    lot: str
    product_name: str = ""

    @property
    def key(self) -> str:
        return f"{self.gtin}/{self.lot}"

    @property
    def uri(self) -> str:
        return identifiers.lgtin_dl(self.gtin, self.lot)


@dataclass(frozen=True)
class Options:
    """Everything a form may refer to; ids and keys are what the form's choices send."""

    organisation: Party
    facilities: Mapping[int, Place]
    products: Mapping[int, Item]
    lots: Mapping[str, Lot] = field(default_factory=dict)
    partners: Mapping[int, Party] = field(default_factory=dict)
    taken_lots: frozenset[str] = frozenset()  # "gtin/lot" already used by an entry
    cooperative: bool = False


# a checked entry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Amount:
    """One line of a quantity list: a class (product or lot), how much and in which unit."""

    epc_class: str
    quantity: Decimal | None = None
    uom: str | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"epcClass": self.epc_class}
        if self.quantity is not None:
            out["quantity"] = json_number(self.quantity)
            if self.uom:
                out["uom"] = self.uom
        return out


@dataclass(frozen=True)
class Entry:
    activity: Activity
    event_id: str
    event_time: datetime  # aware, in the offset it was recorded in
    facility: Place
    recorded_by: str
    product: Item | None = None
    lot_number: str | None = None
    amounts: tuple[Amount, ...] = ()
    inputs: tuple[Amount, ...] = ()
    partner: Party | None = None
    partner_place: Place | None = None
    partner_name: str | None = None
    delivery_note: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # txng: extension fields
    recorded_for: str | None = None
    note: str | None = None
    photo_url: str | None = None
    corrects: str | None = None  # the eventID this entry corrects


def json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def new_event_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def event_id_from(raw: str | None) -> str:
    """The form's entry id (a UUID made when the form was shown or by the phone) as an eventID:
    sending the same entry twice names the same event, so it is stored once."""
    try:
        return f"urn:uuid:{uuid.UUID((raw or '').strip())}"
    except ValueError:
        return new_event_id()


# the event -----------------------------------------------------------------------------------


def context() -> list[Any]:
    return [EPCIS_CONTEXT, {"txng": TXNG_NS}]


def offset_text(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def timestamp_text(moment: datetime) -> str:
    """xsd:dateTime in the offset it was recorded in, with milliseconds."""
    return moment.isoformat(timespec="milliseconds")


def build_event(entry: Entry, *, organisation: Party) -> dict[str, Any]:
    """The EPCIS 2.0 event (JSON-LD, ``txng`` prefix declared by the document) of an entry."""
    code = entry.activity.code
    where = {"id": entry.facility.uri}
    event: dict[str, Any] = {
        "type": "TransformationEvent" if code == "processing" else "ObjectEvent",
        "eventTime": timestamp_text(entry.event_time),
        "eventTimeZoneOffset": offset_text(entry.event_time),
        "eventID": entry.event_id,
    }
    if code != "processing":
        event["action"] = "ADD" if code == "harvest" else "OBSERVE"
    event.update(_WHAT_WHY[code](entry, organisation))
    event["readPoint"] = where
    event["bizLocation"] = where
    event.update(entry.details)
    extras = {
        "txng:partnerName": entry.partner_name,
        "txng:note": entry.note,
        "txng:photo": entry.photo_url,
        "txng:recordedBy": entry.recorded_by,
        "txng:recordedFor": entry.recorded_for,
        "txng:corrects": entry.corrects,
    }
    event.update({k: v for k, v in extras.items() if v})
    return event


def _farm(entry: Entry, org: Party) -> dict[str, Any]:
    return {
        "bizStep": f"txng:{entry.activity.code}",
        "quantityList": [a.json() for a in entry.amounts],
    }


def _harvest(entry: Entry, org: Party) -> dict[str, Any]:
    day = entry.event_time.date().isoformat()
    return {
        "bizStep": "commissioning",
        "disposition": "active",
        "quantityList": [a.json() for a in entry.amounts],
        "ilmd": {
            "cbvmda:lotNumber": entry.lot_number,
            "cbvmda:harvestStartDate": day,
            "cbvmda:harvestEndDate": day,
        },
    }


def _packing(entry: Entry, org: Party) -> dict[str, Any]:
    return {
        "bizStep": "packing",
        "disposition": "in_progress",
        "quantityList": [a.json() for a in entry.amounts],
    }


def _processing(entry: Entry, org: Party) -> dict[str, Any]:
    # CBV 2.0 has no "transforming" step: a new lot is given its identity, i.e. commissioning.
    return {
        "inputQuantityList": [a.json() for a in entry.inputs],
        "outputQuantityList": [a.json() for a in entry.amounts],
        "bizStep": "commissioning",
        "disposition": "active",
        "ilmd": {"cbvmda:lotNumber": entry.lot_number},
    }


def _ends(entry: Entry, org: Party, *, outgoing: bool) -> tuple[list[dict[str, str]], ...]:
    """(source list, destination list): owners when goods change hands, places when known."""
    here = [{"type": "owning_party", "id": org.uri}, {"type": "location", "id": entry.facility.uri}]
    there: list[dict[str, str]] = []
    if entry.partner is not None:
        there.append({"type": "owning_party", "id": entry.partner.uri})
    if entry.partner_place is not None:
        here = here[1:]  # a move between our own places: no change of owner
        there.append({"type": "location", "id": entry.partner_place.uri})
    source, destination = (here, there) if outgoing else (there, here)
    return (
        [{"type": s["type"], "source": s["id"]} for s in source],
        [{"type": d["type"], "destination": d["id"]} for d in destination],
    )


def _transaction(entry: Entry, org: Party, issuer: Party | None) -> list[dict[str, str]]:
    if not entry.delivery_note:
        return []
    issuer = issuer or org
    number = quote(entry.delivery_note, safe="")
    value = (
        f"urn:epcglobal:cbv:bt:{issuer.gln}:{number}"
        if issuer.gln
        else f"urn:txng:bt:{issuer.id}:{number}"
    )
    return [{"type": "desadv", "bizTransaction": value}]


def _trade(entry: Entry, org: Party, *, outgoing: bool) -> dict[str, Any]:
    source, destination = _ends(entry, org, outgoing=outgoing)
    out: dict[str, Any] = {
        "quantityList": [a.json() for a in entry.amounts],
        "bizStep": "shipping" if outgoing else "receiving",
        "disposition": "in_transit" if outgoing else "in_progress",
    }
    transactions = _transaction(entry, org, None if outgoing else entry.partner)
    if transactions:
        out["bizTransactionList"] = transactions
    if source:
        out["sourceList"] = source
    if destination:
        out["destinationList"] = destination
    return out


def _shipping(entry: Entry, org: Party) -> dict[str, Any]:
    return _trade(entry, org, outgoing=True)


def _receiving(entry: Entry, org: Party) -> dict[str, Any]:
    return _trade(entry, org, outgoing=False)


_WHAT_WHY: Final = {
    **dict.fromkeys(FARM_ACTIVITIES, _farm),
    "harvest": _harvest,
    "packing": _packing,
    "processing": _processing,
    "shipping": _shipping,
    "receiving": _receiving,
}


def document(*events: dict[str, Any], created: datetime) -> dict[str, Any]:
    return {
        "@context": context(),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": timestamp_text(created),
        "epcisBody": {"eventList": list(events)},
    }


def error_declaration(
    original: Mapping[str, Any], *, corrective_id: str, declared: datetime, reason: str | None
) -> dict[str, Any]:
    """A copy of the original event declared wrong (EPCIS 2.0 §7.4.1.4), pointing to its fix."""
    copy = {k: v for k, v in original.items() if k not in ("recordTime", "errorDeclaration")}
    declaration: dict[str, Any] = {
        "declarationTime": timestamp_text(declared),
        "reason": "incorrect_data",
        "correctiveEventIDs": [corrective_id],
    }
    if reason:
        declaration["txng:reason"] = reason
    copy["errorDeclaration"] = declaration
    return copy


# reading an event back -----------------------------------------------------------------------


def activity_of(event: Mapping[str, Any]) -> Activity | None:
    """Which diary activity an event records (None for events the diary did not write)."""
    step = event.get("bizStep")
    if not isinstance(step, str):
        return None
    if step.startswith("txng:") and step[5:] in FARM_ACTIVITIES:
        return ACTIVITIES[step[5:]]
    if step == "commissioning":
        kind = "processing" if event.get("type") == "TransformationEvent" else "harvest"
        return ACTIVITIES[kind]
    return ACTIVITIES.get(step) if step in ("packing", "shipping", "receiving") else None


def split_class(epc_class: str) -> tuple[str, str | None] | None:
    """``https://id.gs1.org/01/{gtin}/10/{lot}`` → (gtin, lot); None for other identifiers."""
    match = _DL_RE.match(epc_class)
    if match is None:
        return None
    gtin, lot = match.groups()
    return gtin, unquote(lot) if lot else None


# withholding periods -------------------------------------------------------------------------


@dataclass(frozen=True)
class Withholding:
    """A spraying or treatment whose product must not be harvested for ``days`` days."""

    event_id: str
    location: str
    gtin: str | None
    start: datetime
    days: int
    input: str

    @property
    def until(self) -> datetime:
        return self.start + timedelta(days=self.days)


def withholding_of(event: Mapping[str, Any]) -> Withholding | None:
    activity = activity_of(event)
    days = event.get("txng:withholdingDays")
    if activity is None or activity.code not in WITHHOLDING_ACTIVITIES:
        return None
    if not isinstance(days, int) or days <= 0:
        return None
    return Withholding(
        event_id=str(event.get("eventID", "")),
        location=str((event.get("bizLocation") or {}).get("id", "")),
        gtin=_first_gtin(event),
        start=datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00")),
        days=days,
        input=str(event.get("txng:input", "")),
    )


def lots_of(event: Mapping[str, Any]) -> frozenset[str]:
    """The lots (``gtin/lot``) an event counts or makes."""
    keys: set[str] = set()
    for name in ("quantityList", "outputQuantityList"):
        for element in event.get(name) or []:
            parts = split_class(str(element.get("epcClass", "")))
            if parts and parts[1]:
                keys.add(f"{parts[0]}/{parts[1]}")
    return frozenset(keys)


def _first_gtin(event: Mapping[str, Any]) -> str | None:
    for element in event.get("quantityList") or []:
        parts = split_class(str(element.get("epcClass", "")))
        if parts:
            return parts[0]
    return None


def harvest_conflicts(harvest: Mapping[str, Any], periods: list[Withholding]) -> list[Withholding]:
    """The withholding periods a harvest falls inside: same place, same product (when both say
    which), harvested before the period ended. A warning, never a refusal."""
    activity = activity_of(harvest)
    if activity is None or activity.code != "harvest":
        return []
    location = (harvest.get("bizLocation") or {}).get("id")
    gtin = _first_gtin(harvest)
    moment = datetime.fromisoformat(str(harvest["eventTime"]).replace("Z", "+00:00"))
    return [
        p
        for p in periods
        if p.location == location
        and (p.gtin is None or gtin is None or p.gtin == gtin)
        and p.start <= moment < p.until
    ]


def active_periods(periods: list[Withholding], *, now: datetime) -> list[Withholding]:
    """Periods still running: shown on the harvest form before anything is picked."""
    return sorted((p for p in periods if p.start <= now < p.until), key=lambda p: p.until)


def with_photo(entry: Entry, url: str | None) -> Entry:
    return replace(entry, photo_url=url) if url else entry


def correcting(entry: Entry, original_event_id: str) -> Entry:
    """The corrected entry names the event it corrects (its own eventID is a fresh one)."""
    return replace(entry, corrects=original_event_id)
