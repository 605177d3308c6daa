"""Synthetic supply chains for trace benchmarks, as EPCIS 2.0 documents (no project imports).

``documents(plan)`` yields, lazily, batches of at most ``BATCH`` events, each batch belonging to
one organisation (capture it with that organisation's principal or API key). ``parties(plan)``
lists the organisations to register first (GS1 company prefix, GLN, one site with a GLN).

Per farm and round, 13 events along farms → packing houses → processors → distributors →
retailers:

* farm: commissioning of a harvest lot (kg, ILMD lot), shipping it to its packing house;
* packing house: receiving; TransformationEvent lot → serialised boxes (ILMD box lot);
  AggregationEvent ADD boxes → pallet (SSCC); shipping the pallet to a processor;
* processor: receiving the pallet; AggregationEvent DELETE (unpacking); TransformationEvent
  boxes → processed lot (kg); shipping it to a distributor;
* distributor: receiving; shipping to a retailer;
* retailer: receiving.

So a forward trace from one harvest lot crosses 2 transformations, 1 aggregation, 4 shipments,
5 organisations and ``boxes + 8`` identifiers. ``Plan(farms=770_000 // rounds, rounds=…)``
gives about 10 million events.

Identifiers: company prefix ``893{role}{index:05d}`` (9 digits), GLN = prefix + 3-digit reference
+ check digit, GTIN-14 = ``0`` + prefix + 3-digit item reference + check digit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

BATCH = 500
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
ICT = timezone(timedelta(hours=7))
EVENTS_PER_FARM_ROUND = 13
ROLES = {"farm": 1, "packer": 2, "processor": 3, "distributor": 4, "retailer": 5}
_SITES = {
    "farm": ("growing_area", "Vùng trồng"),
    "packer": ("packing_house", "Nhà sơ chế"),
    "processor": ("factory", "Xưởng chế biến"),
    "distributor": ("warehouse", "Kho"),
    "retailer": ("shop", "Cửa hàng"),
}
_NAMES = {
    "farm": "HTX nông nghiệp",
    "packer": "Cơ sở đóng gói",
    "processor": "Công ty chế biến",
    "distributor": "Nhà phân phối",
    "retailer": "Cửa hàng bán lẻ",
}


def check_digit(payload: str) -> str:
    """GS1 mod-10 check digit."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Plan:
    farms: int = 10
    packers: int = 2
    processors: int = 2
    distributors: int = 2
    retailers: int = 5
    rounds: int = 1  # harvests per farm, one day apart
    boxes: int = 10  # boxes per harvest lot
    start: datetime = field(default_factory=lambda: datetime(2026, 6, 1, 5, 0, tzinfo=ICT))

    def count(self, role: str) -> int:
        return {
            "farm": self.farms,
            "packer": self.packers,
            "processor": self.processors,
            "distributor": self.distributors,
            "retailer": self.retailers,
        }[role]

    @property
    def events(self) -> int:
        return EVENTS_PER_FARM_ROUND * self.farms * self.rounds


@dataclass(frozen=True)
class Party:
    role: str
    index: int

    @property
    def prefix(self) -> str:
        return f"893{ROLES[self.role]}{self.index:05d}"

    @property
    def name(self) -> str:
        return f"{_NAMES[self.role]} số {self.index + 1}"

    @property
    def site_name(self) -> str:
        return f"{_SITES[self.role][1]} số {self.index + 1}"

    @property
    def site_kind(self) -> str:
        return _SITES[self.role][0]

    @property
    def gln(self) -> str:
        payload = self.prefix + "001"
        return payload + check_digit(payload)

    @property
    def site_gln(self) -> str:
        payload = self.prefix + "002"
        return payload + check_digit(payload)

    @property
    def party_urn(self) -> str:
        return f"urn:epc:id:pgln:{self.prefix}.001"

    @property
    def location_urn(self) -> str:
        return f"urn:epc:id:sgln:{self.prefix}.002.0"

    def gtin(self, item_ref: str) -> str:
        payload = "0" + self.prefix + item_ref
        return payload + check_digit(payload)

    def lgtin(self, item_ref: str, lot: str) -> str:
        return f"urn:epc:class:lgtin:{self.prefix}.0{item_ref}.{lot}"

    def sgtin(self, item_ref: str, serial: str) -> str:
        return f"urn:epc:id:sgtin:{self.prefix}.0{item_ref}.{serial}"

    def sscc(self, serial_ref: int) -> str:
        return f"urn:epc:id:sscc:{self.prefix}.0{serial_ref:07d}"


@dataclass(frozen=True)
class Batch:
    owner: Party
    document: dict[str, Any]


def parties(plan: Plan) -> Iterator[Party]:
    for role in ROLES:
        for index in range(plan.count(role)):
            yield Party(role, index)


# who deals with whom: fixed by the farm index, so that every farm's goods reach a retailer


def _packer(plan: Plan, farm: int) -> Party:
    return Party("packer", farm % plan.packers)


def _processor(plan: Plan, farm: int) -> Party:
    return Party("processor", farm % plan.processors)


def _distributor(plan: Plan, farm: int) -> Party:
    return Party("distributor", farm % plan.distributors)


def _retailer(plan: Plan, farm: int, round_: int) -> Party:
    return Party("retailer", (farm + round_) % plan.retailers)


def harvest_lot(plan: Plan, farm: int, round_: int = 0) -> str:
    """EPC URN of a farm's harvest lot (for starting a trace)."""
    return Party("farm", farm).lgtin("001", f"H{round_:04d}")


def box_lot(plan: Plan, farm: int, round_: int = 0) -> str:
    return _packer(plan, farm).lgtin("010", f"P{farm}R{round_}")


def processed_lot(plan: Plan, farm: int, round_: int = 0) -> str:
    return _processor(plan, farm).lgtin("020", f"Q{farm}R{round_}")


def _boxes(plan: Plan, farm: int, round_: int) -> list[str]:
    packer = _packer(plan, farm)
    return [packer.sgtin("010", f"{farm}-{round_}-{b}") for b in range(plan.boxes)]


def _pallet(plan: Plan, farm: int, round_: int) -> str:
    return _packer(plan, farm).sscc((farm // plan.packers) * plan.rounds + round_)


# events ------------------------------------------------------------------------------------


def _time(plan: Plan, round_: int, hours: float) -> str:
    moment = plan.start + timedelta(days=round_, hours=hours)
    return moment.isoformat(timespec="milliseconds")


def _base(kind: str, when: str, by: Party, step: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "eventTime": when,
        "eventTimeZoneOffset": "+07:00",
        "bizStep": step,
        "readPoint": {"id": by.location_urn},
        "bizLocation": {"id": by.location_urn},
    }
    event.update(extra)
    return event


def _move(step: str, when: str, sender: Party, receiver: Party, doc: str, **what: Any) -> Any:
    at = sender if step == "shipping" else receiver
    return _base(
        "ObjectEvent",
        when,
        at,
        step,
        action="OBSERVE",
        disposition="in_transit" if step == "shipping" else "in_progress",
        bizTransactionList=[
            {"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{sender.gln}:{doc}"}
        ],
        sourceList=[
            {"type": "owning_party", "source": sender.party_urn},
            {"type": "location", "source": sender.location_urn},
        ],
        destinationList=[
            {"type": "owning_party", "destination": receiver.party_urn},
            {"type": "location", "destination": receiver.location_urn},
        ],
        **what,
    )


def _kg(epc_class: str, quantity: float) -> dict[str, Any]:
    return {"epcClass": epc_class, "quantity": quantity, "uom": "KGM"}


def _farm_events(plan: Plan, farm: int, round_: int) -> list[dict[str, Any]]:
    me, lot = Party("farm", farm), harvest_lot(plan, farm, round_)
    kg = 2.0 * plan.boxes
    return [
        _base(
            "ObjectEvent",
            _time(plan, round_, 1),
            me,
            "commissioning",
            action="ADD",
            disposition="active",
            quantityList=[_kg(lot, kg)],
            ilmd={"cbvmda:lotNumber": f"H{round_:04d}"},
        ),
        _move(
            "shipping",
            _time(plan, round_, 3),
            me,
            _packer(plan, farm),
            f"F{farm}R{round_}",
            quantityList=[_kg(lot, kg)],
        ),
    ]


def _packer_events(plan: Plan, farm: int, round_: int) -> list[dict[str, Any]]:
    me, source = _packer(plan, farm), Party("farm", farm)
    lot, boxes = harvest_lot(plan, farm, round_), _boxes(plan, farm, round_)
    pallet = _pallet(plan, farm, round_)
    kg = 2.0 * plan.boxes
    return [
        _move(
            "receiving",
            _time(plan, round_, 5),
            source,
            me,
            f"F{farm}R{round_}",
            quantityList=[_kg(lot, kg)],
        ),
        _base(
            "TransformationEvent",
            _time(plan, round_, 6),
            me,
            "commissioning",
            disposition="active",
            inputQuantityList=[_kg(lot, kg)],
            outputEPCList=boxes,
            ilmd={"cbvmda:lotNumber": f"P{farm}R{round_}"},
        ),
        _base(
            "AggregationEvent",
            _time(plan, round_, 7),
            me,
            "packing",
            action="ADD",
            disposition="in_progress",
            parentID=pallet,
            childEPCs=boxes,
        ),
        _move(
            "shipping",
            _time(plan, round_, 8),
            me,
            _processor(plan, farm),
            f"P{farm}R{round_}",
            epcList=[pallet],
        ),
    ]


def _processor_events(plan: Plan, farm: int, round_: int) -> list[dict[str, Any]]:
    me, source = _processor(plan, farm), _packer(plan, farm)
    boxes, pallet = _boxes(plan, farm, round_), _pallet(plan, farm, round_)
    made = processed_lot(plan, farm, round_)
    kg = 1.5 * plan.boxes
    return [
        _move(
            "receiving", _time(plan, round_, 10), source, me, f"P{farm}R{round_}", epcList=[pallet]
        ),
        _base(
            "AggregationEvent",
            _time(plan, round_, 11),
            me,
            "unpacking",
            action="DELETE",
            parentID=pallet,
            childEPCs=boxes,
        ),
        _base(
            "TransformationEvent",
            _time(plan, round_, 12),
            me,
            "commissioning",
            disposition="active",
            inputEPCList=boxes,
            outputQuantityList=[_kg(made, kg)],
            ilmd={"cbvmda:lotNumber": f"Q{farm}R{round_}"},
        ),
        _move(
            "shipping",
            _time(plan, round_, 14),
            me,
            _distributor(plan, farm),
            f"Q{farm}R{round_}",
            quantityList=[_kg(made, kg)],
        ),
    ]


def _distributor_events(plan: Plan, farm: int, round_: int) -> list[dict[str, Any]]:
    me, source = _distributor(plan, farm), _processor(plan, farm)
    made, kg = processed_lot(plan, farm, round_), 1.5 * plan.boxes
    return [
        _move(
            "receiving",
            _time(plan, round_, 16),
            source,
            me,
            f"Q{farm}R{round_}",
            quantityList=[_kg(made, kg)],
        ),
        _move(
            "shipping",
            _time(plan, round_, 18),
            me,
            _retailer(plan, farm, round_),
            f"D{farm}R{round_}",
            quantityList=[_kg(made, kg)],
        ),
    ]


def _retailer_events(plan: Plan, farm: int, round_: int) -> list[dict[str, Any]]:
    me, source = _retailer(plan, farm, round_), _distributor(plan, farm)
    made, kg = processed_lot(plan, farm, round_), 1.5 * plan.boxes
    return [
        _move(
            "receiving",
            _time(plan, round_, 20),
            source,
            me,
            f"D{farm}R{round_}",
            quantityList=[_kg(made, kg)],
        )
    ]


_STAGES = (
    ("farm", _farm_events),
    ("packer", _packer_events),
    ("processor", _processor_events),
    ("distributor", _distributor_events),
    ("retailer", _retailer_events),
)


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-06-30T08:00:00.000+07:00",
        "epcisBody": {"eventList": events},
    }


def _owner(plan: Plan, role: str, farm: int, round_: int) -> Party:
    if role == "farm":
        return Party("farm", farm)
    if role == "packer":
        return _packer(plan, farm)
    if role == "processor":
        return _processor(plan, farm)
    if role == "distributor":
        return _distributor(plan, farm)
    return _retailer(plan, farm, round_)


def documents(plan: Plan, *, max_pending: int = 20 * BATCH) -> Iterator[Batch]:
    """Batches of at most BATCH events of one owner, stage by stage (farms first).

    At most ``max_pending`` events wait in memory: past that, every owner's pending events are
    sent as they are (smaller batches). A farm's batch holds its own ``2 * rounds`` events.
    """
    for role, make in _STAGES:
        pending: dict[Party, list[dict[str, Any]]] = {}
        waiting = 0
        for farm in range(plan.farms):
            for round_ in range(plan.rounds):
                owner = _owner(plan, role, farm, round_)
                events = pending.setdefault(owner, [])
                made = make(plan, farm, round_)
                events.extend(made)
                waiting += len(made)
                while len(events) >= BATCH:
                    yield Batch(owner, document(events[:BATCH]))
                    del events[:BATCH]
                    waiting -= BATCH
            if role == "farm" or waiting > max_pending:
                yield from _flush(pending)
                waiting = 0
        yield from _flush(pending)


def _flush(pending: dict[Party, list[dict[str, Any]]]) -> Iterator[Batch]:
    for owner, events in pending.items():
        if events:
            yield Batch(owner, document(list(events)))
    pending.clear()
