"""Supply chains for trace tests, recorded the way enterprises record them: EPCIS documents given
to the capture service by each organisation's own principal.

Two chains of Bắc Giang products:

* **lychee** (vải thiều): a cooperative harvests lot VT-0610 (500 kg) in its growing area and ships
  it to a packing house; the packing house turns it into serialised boxes of lot DG-0612, packs
  them with the boxes of another harvest (the siblings) on one pallet (SSCC) and ships the pallet
  to a distributor, which ships it on to a supermarket;
* **Chũ noodles** (mì Chũ): the noodle maker turns a rice lot into a noodle lot and ships it to the
  same supermarket.

Every organisation is registered with a GLN and a GS1 company prefix; events name parties and
locations by EPC URN (``pgln``/``sgln``), and now and then by Digital Link, as real senders do.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.epcis import capture as capture_service
from txng.epcis import identifiers
from txng.epcis.timestamps import parse_timestamp
from txng.kit.gs1 import with_check_digit
from txng.models import Facility, Organisation
from txng.registry import service as registry_service
from txng.registry.schemas import FacilityIn, OrganisationIn, ProductIn

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def at(day: int, hour: int, minute: int = 0, month: int = 6) -> str:
    """A local time in Bắc Giang (UTC+7), as EPCIS writes it."""
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00.000+07:00"


def moment(text: str) -> datetime:
    return parse_timestamp(text)


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-06-30T08:00:00.000+07:00",
        "epcisBody": {"eventList": list(events)},
    }


# identifiers --------------------------------------------------------------------------------


def gtin14(prefix: str, item_ref: str) -> str:
    return with_check_digit("0" + prefix + item_ref)


def sgtin_urn(prefix: str, item_ref: str, serial: str) -> str:
    return f"urn:epc:id:sgtin:{prefix}.0{item_ref}.{serial}"


def lgtin_urn(prefix: str, item_ref: str, lot: str) -> str:
    return f"urn:epc:class:lgtin:{prefix}.0{item_ref}.{lot}"


def sscc_urn(prefix: str, serial_ref: str) -> str:
    return f"urn:epc:id:sscc:{prefix}.0{serial_ref}"


def dl(urn: str) -> str:
    return identifiers.canonical_id(urn)


@dataclass
class Actor:
    """A registered organisation with one site, and the principal its users record events as."""

    org: Organisation
    site: Facility
    prefix: str
    key: str  # an API key of the organisation

    @property
    def principal(self) -> Principal:
        return Principal(
            role=Role.ENTERPRISE_ADMIN, label=self.org.name, organisation_id=self.org.id
        )

    @property
    def gln(self) -> str:
        assert self.org.gln is not None
        return self.org.gln

    @property
    def site_gln(self) -> str:
        assert self.site.gln is not None
        return self.site.gln

    @property
    def party(self) -> str:
        return f"urn:epc:id:pgln:{self.prefix}.{self.gln[len(self.prefix) : 12]}"

    @property
    def location(self) -> str:
        return f"urn:epc:id:sgln:{self.prefix}.{self.site_gln[len(self.prefix) : 12]}.0"

    @property
    def location_dl(self) -> str:
        return dl(self.location)

    def record(self, session: Session, *events: dict[str, Any]) -> list[str]:
        """Capture the events as this organisation; returns their event IDs."""
        outcome = capture_service.capture(session, self.principal, document(*events))
        assert not outcome.errors, outcome.errors
        return outcome.event_ids

    def product(self, session: Session, item_ref: str, name: str) -> str:
        gtin = gtin14(self.prefix, item_ref)
        registry_service.create_product(
            session,
            actor=f.ADMIN,
            organisation_id=self.org.id,
            data=ProductIn.model_validate(
                {"gtin": gtin, "name_vi": name, "sector": Sector.AGRICULTURE}
            ),
        )
        return gtin


def actor(
    session: Session,
    *,
    prefix: str,
    name: str,
    site: str,
    site_kind: str,
    commune: str = f.LUC_NGAN,
    growing_area_code: str | None = None,
    gln: str | None = None,
    site_gln: str | None = None,
) -> Actor:
    org = registry_service.register_organisation(
        session,
        actor=f.ADMIN,
        data=OrganisationIn.model_validate(
            {
                "kind": "enterprise",
                "name": name,
                "tax_code": f.tax_code(),
                "sector": Sector.AGRICULTURE,
                "province_code": "24",
                "commune_code": commune,
                "gs1_company_prefix": prefix,
                "gln": gln or with_check_digit(prefix + "00001"),
            }
        ),
    )
    facility = registry_service.create_facility(
        session,
        actor=f.ADMIN,
        organisation_id=org.id,
        data=FacilityIn.model_validate(
            {
                "kind": site_kind,
                "name": site,
                "gln": site_gln or with_check_digit(prefix + "00002"),
                "growing_area_code": growing_area_code,
                "province_code": "24",
                "commune_code": commune,
                "street_address": "Thôn Đồng Mới",
            }
        ),
    )
    f.user(session, role=Role.ENTERPRISE_ADMIN, organisation_id=org.id)
    return Actor(org, facility, prefix, f.api_key(session, org.id))


def place(kind: str, actor: Actor) -> list[dict[str, str]]:
    """A source or destination list: the organisation as owner and its site as location."""
    key = "source" if kind == "source" else "destination"
    return [
        {"type": "owning_party", key: actor.party},
        {"type": "location", key: actor.location},
    ]


def shipping(
    when: str, sender: Actor, receiver: Actor, document_no: str, **what: Any
) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": when,
        "eventTimeZoneOffset": "+07:00",
        **what,
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": sender.location},
        "bizTransactionList": [
            {"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{sender.gln}:{document_no}"}
        ],
        "sourceList": place("source", sender),
        "destinationList": place("destination", receiver),
    }


def receiving(
    when: str, sender: Actor, receiver: Actor, document_no: str, **what: Any
) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": when,
        "eventTimeZoneOffset": "+07:00",
        **what,
        "bizStep": "receiving",
        "disposition": "in_progress",
        "readPoint": {"id": receiver.location},
        "bizLocation": {"id": receiver.location},
        "bizTransactionList": [
            {"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{sender.gln}:{document_no}"}
        ],
        "sourceList": place("source", sender),
        "destinationList": place("destination", receiver),
    }


def kilos(epc_class: str, quantity: float) -> dict[str, Any]:
    return {"epcClass": epc_class, "quantity": quantity, "uom": "KGM"}


# the world ---------------------------------------------------------------------------------


@dataclass
class World:
    farm: Actor
    packer: Actor
    distributor: Actor
    supermarket: Actor
    noodle_maker: Actor
    outsider: Actor  # an enterprise that traded with none of them


def world(session: Session) -> World:
    return World(
        farm=actor(
            session,
            prefix="8930001",
            name="HTX Vải thiều Lục Ngạn",
            site="Vùng trồng vải Đồng Mới",
            site_kind="growing_area",
            growing_area_code="VN-BGLN-0042",
        ),
        packer=actor(
            session,
            prefix="8930002",
            name="Công ty CP Đóng gói Lục Ngạn",
            site="Nhà sơ chế đóng gói Lục Ngạn",
            site_kind="packing_house",
        ),
        distributor=actor(
            session,
            prefix="8930003",
            name="Công ty Phân phối Kinh Bắc",
            site="Kho lạnh Kinh Bắc",
            site_kind="warehouse",
            commune=f.KINH_BAC,
        ),
        supermarket=actor(
            session,
            prefix="8930004",
            name="Siêu thị Bắc Giang",
            site="Siêu thị Bắc Giang - cơ sở 1",
            site_kind="shop",
            commune=f.KINH_BAC,
        ),
        noodle_maker=actor(
            session,
            prefix="8930005",
            name="HTX Mì Chũ",
            site="Xưởng sản xuất mì Chũ",
            site_kind="factory",
        ),
        outsider=actor(
            session,
            prefix="8930006",
            name="Công ty Chè Yên Thế",
            site="Xưởng chè Yên Thế",
            site_kind="factory",
        ),
    )


# chain 1: lychee --------------------------------------------------------------------------


@dataclass
class Lychee:
    harvest_lot: str  # canonical Digital Link
    harvest_lot_urn: str
    other_harvest_lot: str  # the siblings' harvest
    box_gtin: str
    box_lot: str
    boxes: list[str]  # URNs of the boxes made from harvest_lot
    sibling_boxes: list[str]  # boxes of the other harvest, on the same pallet
    pallet_urn: str
    pallet: str
    times: dict[str, datetime] = field(default_factory=dict)
    event_ids: dict[str, str] = field(default_factory=dict)


def lychee(session: Session, w: World, *, boxes: int = 4, siblings: int = 2) -> Lychee:
    farm, packer, dist, shop = w.farm, w.packer, w.distributor, w.supermarket
    farm.product(session, "00001", "Vải thiều Lục Ngạn tươi (hàng rời)")
    box_gtin = packer.product(session, "00010", "Vải thiều Lục Ngạn hộp 2 kg")
    harvest = lgtin_urn(farm.prefix, "00001", "VT-0610")
    other = lgtin_urn(farm.prefix, "00001", "VT-0611")
    box_urns = [sgtin_urn(packer.prefix, "00010", str(n)) for n in range(1, boxes + 1)]
    sibling_urns = [sgtin_urn(packer.prefix, "00010", str(n)) for n in range(101, 101 + siblings)]
    pallet = sscc_urn(packer.prefix, "000000017")
    times = {
        "harvest": at(10, 6),
        "ship_farm": at(10, 10),
        "receive_packer": at(10, 14),
        "pack_boxes": at(12, 8),
        "pack_pallet": at(12, 10),
        "ship_packer": at(12, 15),
        "receive_distributor": at(13, 7),
        "ship_distributor": at(14, 9),
        "receive_supermarket": at(14, 16),
    }
    ids: dict[str, str] = {}

    def harvesting(when: str, lot: str, number: str, kg: float) -> dict[str, Any]:
        return {
            "type": "ObjectEvent",
            "action": "ADD",
            "eventTime": when,
            "eventTimeZoneOffset": "+07:00",
            "quantityList": [kilos(lot, kg)],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": farm.location},
            "bizLocation": {"id": farm.location},
            "ilmd": {"cbvmda:lotNumber": number},
        }

    ids["harvest"], ids["harvest_other"], ids["ship_farm"], ids["ship_farm_other"] = farm.record(
        session,
        harvesting(times["harvest"], harvest, "VT-0610", 500),
        harvesting(at(11, 6), other, "VT-0611", 300),
        shipping(times["ship_farm"], farm, packer, "XK-0610", quantityList=[kilos(harvest, 500)]),
        shipping(at(11, 10), farm, packer, "XK-0611", quantityList=[kilos(other, 300)]),
    )

    def packing_boxes(when: str, lot: str, kg: float, made: list[str], number: str) -> Any:
        return {
            "type": "TransformationEvent",
            "eventTime": when,
            "eventTimeZoneOffset": "+07:00",
            "inputQuantityList": [kilos(lot, kg)],
            "outputEPCList": made,
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": packer.location},
            "bizLocation": {"id": packer.location},
            "ilmd": {"cbvmda:lotNumber": number},
        }

    (
        ids["receive_packer"],
        ids["receive_packer_other"],
        ids["pack_boxes"],
        ids["pack_boxes_other"],
        ids["pack_pallet"],
        ids["ship_packer"],
    ) = packer.record(
        session,
        receiving(
            times["receive_packer"], farm, packer, "XK-0610", quantityList=[kilos(harvest, 500)]
        ),
        receiving(at(11, 14), farm, packer, "XK-0611", quantityList=[kilos(other, 300)]),
        packing_boxes(times["pack_boxes"], harvest, 500, box_urns, "DG-0612"),
        packing_boxes(at(12, 8, 30), other, 300, sibling_urns, "DG-0612B"),
        {
            "type": "AggregationEvent",
            "action": "ADD",
            "eventTime": times["pack_pallet"],
            "eventTimeZoneOffset": "+07:00",
            "parentID": pallet,
            "childEPCs": box_urns + sibling_urns,
            "bizStep": "packing",
            "disposition": "in_progress",
            "readPoint": {"id": packer.location},
            "bizLocation": {"id": packer.location},
        },
        shipping(times["ship_packer"], packer, dist, "PX-0612", epcList=[pallet]),
    )
    ids["receive_distributor"], ids["ship_distributor"] = dist.record(
        session,
        receiving(times["receive_distributor"], packer, dist, "PX-0612", epcList=[pallet]),
        shipping(times["ship_distributor"], dist, shop, "KB-0614", epcList=[pallet]),
    )
    # The supermarket's scanner writes Digital Links on its own domain.
    pallet_dl_elsewhere = "https://scan.sieuthibacgiang.vn/00/" + dl(pallet).rsplit("/", 1)[-1]
    [ids["receive_supermarket"]] = shop.record(
        session,
        receiving(
            times["receive_supermarket"], dist, shop, "KB-0614", epcList=[pallet_dl_elsewhere]
        ),
    )
    return Lychee(
        harvest_lot=dl(harvest),
        harvest_lot_urn=harvest,
        other_harvest_lot=dl(other),
        box_gtin=box_gtin,
        box_lot=identifiers.lgtin_dl(box_gtin, "DG-0612"),
        boxes=box_urns,
        sibling_boxes=sibling_urns,
        pallet_urn=pallet,
        pallet=dl(pallet),
        times={name: moment(text) for name, text in times.items()},
        event_ids=ids,
    )


# chain 2: Chũ noodles ----------------------------------------------------------------------


@dataclass
class Noodles:
    rice_lot: str
    noodle_lot: str
    noodle_gtin: str
    noodle_lot_urn: str
    event_ids: dict[str, str] = field(default_factory=dict)


def noodles(session: Session, w: World) -> Noodles:
    maker, shop = w.noodle_maker, w.supermarket
    maker.product(session, "00020", "Gạo Bao Thai Lục Ngạn")
    noodle_gtin = maker.product(session, "00021", "Mì Chũ Lục Ngạn gói 500 g")
    rice = lgtin_urn(maker.prefix, "00020", "GAO-0620")
    noodle = lgtin_urn(maker.prefix, "00021", "MC-0621")
    ids = maker.record(
        session,
        {
            "type": "ObjectEvent",
            "action": "ADD",
            "eventTime": at(20, 7),
            "eventTimeZoneOffset": "+07:00",
            "quantityList": [kilos(rice, 1000)],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": maker.location},
            "bizLocation": {"id": maker.location},
            "ilmd": {"cbvmda:lotNumber": "GAO-0620"},
        },
        {
            "type": "TransformationEvent",
            "eventTime": at(21, 8),
            "eventTimeZoneOffset": "+07:00",
            "inputQuantityList": [kilos(rice, 1000)],
            "outputQuantityList": [kilos(noodle, 800)],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": maker.location},
            "bizLocation": {"id": maker.location},
            "ilmd": {"cbvmda:lotNumber": "MC-0621"},
        },
        shipping(at(21, 14), maker, shop, "MC-HD-0621", quantityList=[kilos(noodle, 800)]),
    )
    [received] = shop.record(
        session,
        receiving(at(22, 9), maker, shop, "MC-HD-0621", quantityList=[kilos(noodle, 800)]),
    )
    return Noodles(
        rice_lot=dl(rice),
        noodle_lot=dl(noodle),
        noodle_gtin=noodle_gtin,
        noodle_lot_urn=noodle,
        event_ids={
            "commission_rice": ids[0],
            "make_noodles": ids[1],
            "ship_noodles": ids[2],
            "receive_noodles": received,
        },
    )


# shapes for edge cases ---------------------------------------------------------------------


def transformation(when: str, by: Actor, source: str, made: str) -> dict[str, Any]:
    return {
        "type": "TransformationEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+07:00",
        "inputQuantityList": [kilos(source, 100)],
        "outputQuantityList": [kilos(made, 100)],
        "bizStep": "commissioning",
        "readPoint": {"id": by.location},
        "bizLocation": {"id": by.location},
    }


def linear(session: Session, by: Actor, length: int) -> list[str]:
    """Lots K0 → K1 → … → K{length}, one transformation each: canonical lot identifiers."""
    lots = [lgtin_urn(by.prefix, "00030", f"K{n}") for n in range(length + 1)]
    by.record(
        session,
        *(transformation(at(1, 6, n, month=7), by, lots[n], lots[n + 1]) for n in range(length)),
    )
    return [dl(lot) for lot in lots]


def cycle(session: Session, by: Actor) -> tuple[str, str]:
    """Lot A is reworked into B, and B back into A (a rework loop): canonical identifiers."""
    a, b = lgtin_urn(by.prefix, "00040", "RW-A"), lgtin_urn(by.prefix, "00040", "RW-B")
    by.record(
        session,
        transformation(at(2, 6, month=7), by, a, b),
        transformation(at(2, 9, month=7), by, b, a),
    )
    return dl(a), dl(b)


# the benchmark's generator -----------------------------------------------------------------


def bench_chains() -> ModuleType:
    """``bench/chains.py``, loaded from its file (it imports nothing of the project)."""
    name = "txng_bench_chains"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[2] / "bench" / "chains.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
