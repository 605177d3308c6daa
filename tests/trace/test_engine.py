"""The trace engine on two Bắc Giang chains: lychee (farm → packing house → distributor →
supermarket) and Chũ noodles (rice → noodles → supermarket), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from tests.trace import chains

import factories as f
from txng.accounts.roles import Principal, Role
from txng.models import EpcisEvent
from txng.models.base import utcnow
from txng.trace import engine, onestep, recall


@dataclass
class Built:
    world: chains.World
    lychee: chains.Lychee
    noodles: chains.Noodles


@pytest.fixture
def built(db_session: Session) -> Built:
    w = chains.world(db_session)
    built = Built(w, chains.lychee(db_session, w), chains.noodles(db_session, w))
    db_session.commit()
    return built


def _publish(session: Session, *event_ids: str) -> None:
    session.execute(
        update(EpcisEvent).where(EpcisEvent.event_id.in_(event_ids)).values(published_at=utcnow())
    )
    session.commit()


def _edges(result: engine.Trace) -> set[tuple[str, str, str, str]]:
    return {(e.source, e.target, e.type, e.event.event_id) for e in result.edges}


# backward, forward, both -------------------------------------------------------------------


def test_backward_from_a_box_reaches_the_harvest_lot_and_the_growing_area(
    db_session: Session, built: Built
) -> None:
    w, ly = built.world, built.lychee
    box = chains.dl(ly.boxes[0])

    result = engine.trace(db_session, f.ADMIN, box, direction=engine.BACKWARD)

    assert result.found
    assert not result.truncated
    harvest = result.nodes[ly.harvest_lot]
    assert harvest.kind == "lot"
    assert harvest.event is not None
    assert harvest.event.event_id == ly.event_ids["harvest"]
    assert harvest.event.organisation_id == w.farm.org.id
    assert harvest.event.location == w.farm.location_dl
    assert harvest.event.time == ly.times["harvest"]
    assert (harvest.quantity, harvest.uom) == (500, "KGM")
    growing_area = result.nodes[w.farm.location_dl]
    assert growing_area.kind == "location"
    assert growing_area.place is not None
    assert growing_area.place.facility_kind == "growing_area"
    assert growing_area.place.organisation_name == "HTX Vải thiều Lục Ngạn"
    edges = _edges(result)
    assert (ly.harvest_lot, box, "transformation", ly.event_ids["pack_boxes"]) in edges
    assert (box, ly.pallet, "aggregation", ly.event_ids["pack_pallet"]) in edges
    assert (ly.box_lot, box, "lot", ly.event_ids["pack_boxes"]) in edges
    # The container it travelled in, and where that went: the box's own journey.
    assert (
        ly.pallet,
        w.supermarket.location_dl,
        "receiving",
        ly.event_ids["receive_supermarket"],
    ) in edges
    # The other boxes on the pallet came from another harvest: not this box's past.
    assert not {chains.dl(b) for b in ly.sibling_boxes} & result.nodes.keys()
    assert ly.other_harvest_lot not in result.nodes
    assert built.noodles.rice_lot not in result.nodes


def test_forward_from_the_harvest_lot_reaches_boxes_pallet_distributor_and_supermarket(
    db_session: Session, built: Built
) -> None:
    w, ly = built.world, built.lychee

    result = engine.trace(db_session, f.ADMIN, ly.harvest_lot, direction=engine.FORWARD)

    assert result.found
    assert not result.truncated
    boxes = {chains.dl(b) for b in ly.boxes}
    assert boxes <= result.nodes.keys()
    for ident in boxes:
        box = result.nodes[ident]
        assert box.kind == "item"
        assert box.event is not None
        assert box.event.organisation_id == w.packer.org.id
        assert box.event.location == w.packer.location_dl
        assert box.event.time == ly.times["pack_boxes"]
        assert box.lots == {ly.box_lot}
    pallet = result.nodes[ly.pallet]
    assert pallet.kind == "logistic_unit"
    assert pallet.lots == {ly.box_lot}  # it carries the boxes' lot, not the siblings' one
    distributor = result.nodes[w.distributor.location_dl]
    supermarket = result.nodes[w.supermarket.location_dl]
    assert distributor.place is not None
    assert supermarket.place is not None
    assert distributor.place.organisation_id == w.distributor.org.id
    assert supermarket.place.organisation_id == w.supermarket.org.id
    assert distributor.received
    assert supermarket.received
    edges = _edges(result)
    assert (ly.pallet, distributor.ident, "shipping", ly.event_ids["ship_packer"]) in edges
    assert (distributor.ident, ly.pallet, "shipping", ly.event_ids["ship_distributor"]) in edges
    assert (ly.pallet, supermarket.ident, "shipping", ly.event_ids["ship_distributor"]) in edges
    ship = next(e for e in result.edges if e.event.event_id == ly.event_ids["ship_distributor"])
    assert ship.event.time == ly.times["ship_distributor"]
    # Shipped with it is not made from it: the siblings and their harvest stay out.
    assert not {chains.dl(b) for b in ly.sibling_boxes} & result.nodes.keys()
    assert ly.other_harvest_lot not in result.nodes
    assert built.noodles.noodle_lot not in result.nodes


def test_both_directions_from_the_pallet_is_the_union_of_each(
    db_session: Session, built: Built
) -> None:
    w, ly = built.world, built.lychee

    back = engine.trace(db_session, f.ADMIN, ly.pallet, direction=engine.BACKWARD)
    forward = engine.trace(db_session, f.ADMIN, ly.pallet, direction=engine.FORWARD)
    both = engine.trace(db_session, f.ADMIN, ly.pallet)

    # Starting from the pallet, its contents are its past: both harvests.
    assert {ly.harvest_lot, ly.other_harvest_lot} <= back.nodes.keys()
    assert w.supermarket.location_dl in forward.nodes
    assert both.nodes.keys() == back.nodes.keys() | forward.nodes.keys()
    assert _edges(both) == _edges(back) | _edges(forward)
    assert both.nodes[ly.pallet].lots == {
        ly.box_lot,
        chains.identifiers.lgtin_dl(ly.box_gtin, "DG-0612B"),
    }


def test_noodles_trace_from_rice_to_the_supermarket_and_back(
    db_session: Session, built: Built
) -> None:
    w, nd = built.world, built.noodles

    forward = engine.trace(db_session, f.ADMIN, nd.rice_lot, direction=engine.FORWARD)
    back = engine.trace(db_session, f.ADMIN, nd.noodle_lot, direction=engine.BACKWARD)

    assert nd.noodle_lot in forward.nodes
    noodle = forward.nodes[nd.noodle_lot]
    assert noodle.event is not None
    assert noodle.event.event_id == nd.event_ids["make_noodles"]
    assert (noodle.quantity, noodle.uom) == (800, "KGM")
    assert w.supermarket.location_dl in forward.nodes
    rice = back.nodes[nd.rice_lot]
    assert rice.event is not None
    assert rice.event.event_id == nd.event_ids["commission_rice"]
    assert rice.event.organisation_id == w.noodle_maker.org.id
    assert (rice.quantity, rice.uom) == (1000, "KGM")
    assert not {built.lychee.harvest_lot, built.lychee.pallet} & (
        forward.nodes.keys() | back.nodes.keys()
    )


def test_a_shipment_is_traced_from_its_despatch_advice(db_session: Session, built: Built) -> None:
    w, ly = built.world, built.lychee
    despatch = f"urn:epcglobal:cbv:bt:{w.packer.gln}:PX-0612"

    result = engine.trace(db_session, f.ADMIN, despatch, direction=engine.BOTH)

    assert result.found
    assert result.nodes[despatch].kind == "shipment"
    assert (ly.pallet, despatch, "shipment", ly.event_ids["ship_packer"]) in _edges(result)
    assert {ly.harvest_lot, ly.other_harvest_lot, w.supermarket.location_dl} <= (
        result.nodes.keys()
    )


def test_the_box_lot_made_by_a_transformation_is_traceable(
    db_session: Session, built: Built
) -> None:
    ly = built.lychee

    forward = engine.trace(db_session, f.ADMIN, ly.box_lot, direction=engine.FORWARD)
    back = engine.trace(db_session, f.ADMIN, ly.box_lot, direction=engine.BACKWARD)

    assert forward.found
    assert {chains.dl(b) for b in ly.boxes} | {ly.pallet} <= forward.nodes.keys()
    assert ly.harvest_lot in back.nodes
    assert ly.other_harvest_lot not in back.nodes


def test_a_container_carries_the_lots_of_the_pallet_loaded_in_it(
    db_session: Session, built: Built
) -> None:
    w, ly = built.world, built.lychee
    container = chains.sscc_urn(w.distributor.prefix, "000000099")
    w.distributor.record(
        db_session,
        {
            "type": "AggregationEvent",
            "action": "ADD",
            "eventTime": chains.at(13, 9),
            "eventTimeZoneOffset": "+07:00",
            "parentID": container,
            "childEPCs": [ly.pallet_urn],
            "bizStep": "loading",
            "disposition": "in_transit",
            "readPoint": {"id": w.distributor.location},
            "bizLocation": {"id": w.distributor.location},
        },
    )
    db_session.commit()

    result = engine.trace(db_session, f.ADMIN, ly.harvest_lot, direction=engine.FORWARD)

    # Boxes in the pallet, the pallet in the container: the container carries the boxes' lot.
    assert result.nodes[ly.pallet].lots == {ly.box_lot}
    assert result.nodes[chains.dl(container)].lots == {ly.box_lot}
    assert result.nodes[chains.dl(container)].kind == "logistic_unit"


# limits ------------------------------------------------------------------------------------


def test_a_rework_cycle_ends(db_session: Session, built: Built) -> None:
    a, b = chains.cycle(db_session, built.world.noodle_maker)
    db_session.commit()

    started = time.monotonic()
    result = engine.trace(db_session, f.ADMIN, a)

    assert time.monotonic() - started < 10
    assert result.nodes.keys() == {a, b}
    assert {(s, t) for s, t, _, _ in _edges(result)} == {(a, b), (b, a)}
    assert not result.truncated


def test_the_depth_cap_stops_the_trace_and_says_so(db_session: Session, built: Built) -> None:
    lots = chains.linear(db_session, built.world.noodle_maker, 6)
    db_session.commit()

    capped = engine.trace(db_session, f.ADMIN, lots[0], direction=engine.FORWARD, max_depth=3)
    whole = engine.trace(db_session, f.ADMIN, lots[0], direction=engine.FORWARD, max_depth=6)
    back = engine.trace(db_session, f.ADMIN, lots[6], direction=engine.BACKWARD, max_depth=2)

    assert capped.truncated
    assert capped.nodes.keys() == set(lots[:4])
    assert [capped.nodes[lot].depth for lot in lots[:4]] == [0, 1, 2, 3]
    assert not whole.truncated
    assert whole.nodes.keys() == set(lots)
    assert back.truncated
    assert back.nodes.keys() == set(lots[4:])


def test_the_node_cap_stops_the_trace_and_says_so(db_session: Session, built: Built) -> None:
    result = engine.trace(
        db_session, f.ADMIN, built.lychee.harvest_lot, direction=engine.FORWARD, max_nodes=3
    )

    assert result.truncated
    assert len(result.nodes) == 3
    assert built.lychee.harvest_lot in result.nodes


# who sees what -----------------------------------------------------------------------------


def _enterprise(actor: chains.Actor) -> Principal:
    return Principal(role=Role.ENTERPRISE_STAFF, label="staff", organisation_id=actor.org.id)


def test_an_enterprise_that_traded_with_none_of_them_sees_nothing_unpublished(
    db_session: Session, built: Built
) -> None:
    ly = built.lychee
    outsider = _enterprise(built.world.outsider)

    for start in (ly.harvest_lot, chains.dl(ly.boxes[0]), ly.pallet):
        result = engine.trace(db_session, outsider, start)
        assert not result.found
        assert result.nodes.keys() == {start}
        assert result.edges == []


def test_an_enterprise_sees_its_direct_partners_but_not_beyond(
    db_session: Session, built: Built
) -> None:
    w, ly = built.world, built.lychee
    distributor = _enterprise(w.distributor)
    box = chains.dl(ly.boxes[0])

    result = engine.trace(db_session, distributor, box, direction=engine.BACKWARD)

    # The packing house shipped to the distributor, the distributor shipped to the supermarket:
    # their events count. The farm only dealt with the packing house: its events do not, so the
    # harvest lot is first seen when the packing house received it (from the growing area).
    owners = {e.organisation_id for e in result.events.values()}
    assert owners == {w.packer.org.id, w.distributor.org.id, w.supermarket.org.id}
    harvest = result.nodes[ly.harvest_lot]
    assert harvest.event is not None
    assert harvest.event.event_id == ly.event_ids["receive_packer"]
    assert harvest.event.location == w.packer.location_dl
    assert (w.farm.location_dl, ly.harvest_lot, "receiving", ly.event_ids["receive_packer"]) in (
        _edges(result)
    )
    assert w.supermarket.location_dl in result.nodes

    _publish(db_session, ly.event_ids["harvest"])
    result = engine.trace(db_session, distributor, box, direction=engine.BACKWARD)

    harvest = result.nodes[ly.harvest_lot]
    assert harvest.event is not None
    assert harvest.event.event_id == ly.event_ids["harvest"]
    assert harvest.event.location == w.farm.location_dl


def test_the_public_sees_published_events_only(db_session: Session, built: Built) -> None:
    w, ly = built.world, built.lychee

    assert not engine.trace(db_session, None, ly.pallet).found

    _publish(db_session, ly.event_ids["ship_distributor"], ly.event_ids["receive_supermarket"])
    public = engine.trace(db_session, None, ly.pallet)
    admin = engine.trace(db_session, f.ADMIN, ly.pallet)

    assert public.found
    assert {e.event_id for e in public.events.values()} == {
        ly.event_ids["ship_distributor"],
        ly.event_ids["receive_supermarket"],
    }
    assert public.nodes.keys() == {
        ly.pallet,
        w.distributor.location_dl,
        w.supermarket.location_dl,
    }
    assert ly.harvest_lot in admin.nodes
    assert len(admin.events) > len(public.events)


# one step back, one step forward -----------------------------------------------------------


def test_one_step_back_and_forward_of_the_distributor(db_session: Session, built: Built) -> None:
    w, ly = built.world, built.lychee

    view = onestep.one_step(db_session, f.ADMIN, w.distributor.org.id)

    assert view is not None
    assert view.organisation.name == "Công ty Phân phối Kinh Bắc"
    suppliers = {(m.event.event_id, m.partners[0].organisation_id) for m in view.suppliers}
    assert suppliers == {
        (ly.event_ids["ship_packer"], w.packer.org.id),
        (ly.event_ids["receive_distributor"], w.packer.org.id),
    }
    [customer_ship, customer_receipt] = sorted(view.customers, key=lambda m: m.event.time)
    assert customer_ship.event.event_id == ly.event_ids["ship_distributor"]
    assert customer_ship.partners[0].organisation_id == w.supermarket.org.id
    assert customer_ship.event.time == ly.times["ship_distributor"]
    assert [g.ident for g in customer_ship.goods] == [ly.pallet]
    assert customer_ship.documents == [f"urn:epcglobal:cbv:bt:{w.distributor.gln}:KB-0614"]
    assert customer_receipt.recorded_by is not None
    assert customer_receipt.recorded_by.id == w.supermarket.org.id


def test_one_step_of_the_supermarket_lists_both_suppliers(
    db_session: Session, built: Built
) -> None:
    w = built.world

    view = onestep.one_step(db_session, f.ADMIN, w.supermarket.org.id)
    hidden = onestep.one_step(db_session, _enterprise(w.outsider), w.supermarket.org.id)

    assert view is not None
    assert hidden is not None
    assert {m.partners[0].organisation_id for m in view.suppliers} == {
        w.distributor.org.id,
        w.noodle_maker.org.id,
    }
    assert view.customers == []
    noodles = [m for m in view.suppliers if m.partners[0].organisation_id == w.noodle_maker.org.id]
    assert {(g.ident, g.quantity, g.uom) for m in noodles for g in m.goods} == {
        (built.noodles.noodle_lot, 800, "KGM")
    }
    assert hidden.suppliers == []
    assert hidden.customers == []
    assert onestep.one_step(db_session, f.ADMIN, 10**9) is None


# recall ------------------------------------------------------------------------------------

FSMA_HEADER = [
    "Traceability lot code",
    "GTIN",
    "Product description",
    "Quantity",
    "Unit of measure",
    "Critical tracking event",
    "Event date",
    "Event time",
    "Location description",
    "Location identifier",
    "Ship-from location",
    "Ship-to location",
    "Reference document type",
    "Reference document number",
    "Input traceability lot codes",
    "Recorded by",
    "EPCIS event ID",
]


def test_the_recall_scope_of_the_harvest_lot(db_session: Session, built: Built) -> None:
    w, ly = built.world, built.lychee

    scope = recall.recall_lot(db_session, principal=f.ADMIN, lot=ly.harvest_lot)

    assert scope.found
    assert not scope.truncated
    assert set(scope.lots) == {ly.harvest_lot, ly.box_lot}
    assert scope.items == sorted(chains.dl(b) for b in ly.boxes)
    assert scope.logistic_units == [ly.pallet]
    assert {o.id for o in scope.receivers} == {
        w.packer.org.id,
        w.distributor.org.id,
        w.supermarket.org.id,
    }
    assert scope.stamps == []


def test_the_recall_rows_are_the_same_from_what_the_trace_already_read(
    db_session: Session, built: Built
) -> None:
    ly = built.lychee
    read_again = recall.recall_lot(db_session, principal=f.ADMIN, lot=ly.harvest_lot)
    kept = recall.recall_lot(db_session, principal=f.ADMIN, lot=ly.harvest_lot, keep_idents=True)

    assert kept.trace.idents  # the boxes of the packing transformation, read on the way
    assert not read_again.trace.idents
    rows = list(recall.cte_rows(db_session, kept))
    assert len(rows) == 8
    assert rows == list(recall.cte_rows(db_session, read_again))


def test_the_recall_csv_has_one_row_per_critical_tracking_event(
    db_session: Session, built: Built
) -> None:
    w, ly = built.world, built.lychee
    scope = recall.recall_lot(db_session, principal=f.ADMIN, lot=ly.harvest_lot)
    out = io.StringIO()

    count = recall.write_csv(db_session, scope, out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0].keys()) == FSMA_HEADER
    assert count == len(rows)
    assert [(r["Critical tracking event"], r["Traceability lot code"]) for r in rows] == [
        ("Harvesting", "VT-0610"),
        ("Shipping", "VT-0610"),
        ("Receiving", "VT-0610"),
        ("Initial packing", "DG-0612"),
        ("Shipping", "DG-0612"),
        ("Receiving", "DG-0612"),
        ("Shipping", "DG-0612"),
        ("Receiving", "DG-0612"),
    ]
    harvest, _, _, packing, ship, *_ = rows
    assert (harvest["Quantity"], harvest["Unit of measure"]) == ("500", "KGM")
    assert harvest["Product description"] == "Vải thiều Lục Ngạn tươi (hàng rời)"
    assert harvest["Event date"] == "2026-06-10"
    assert harvest["Event time"] == "2026-06-10T06:00:00+07:00"
    assert "Vùng trồng vải Đồng Mới" in harvest["Location description"]
    assert harvest["Location identifier"] == w.farm.location_dl
    assert (packing["Quantity"], packing["Unit of measure"]) == ("4", "EA")
    assert packing["Input traceability lot codes"] == "VT-0610"
    assert packing["Product description"] == "Vải thiều Lục Ngạn hộp 2 kg"
    assert packing["GTIN"] == ly.box_gtin
    assert ship["Quantity"] == "1"
    assert ship["Unit of measure"] == "logistic units"
    assert "Nhà sơ chế đóng gói Lục Ngạn" in ship["Ship-from location"]
    assert "Kho lạnh Kinh Bắc" in ship["Ship-to location"]
    assert (ship["Reference document type"], ship["Reference document number"]) == (
        "desadv",
        "PX-0612",
    )
    assert ship["Recorded by"] == "Công ty CP Đóng gói Lục Ngạn"
    assert ship["EPCIS event ID"] == ly.event_ids["ship_packer"]


def test_the_recall_of_a_lot_seen_by_nobody_is_empty(db_session: Session, built: Built) -> None:
    outsider = _enterprise(built.world.outsider)

    scope = recall.recall_lot(db_session, principal=outsider, lot=built.lychee.harvest_lot)

    assert not scope.found
    assert scope.items == []
    assert scope.receivers == []


# the benchmark's generator -----------------------------------------------------------------


def test_the_benchmark_generator_builds_traceable_chains(db_session: Session) -> None:
    gen = chains.bench_chains()
    plan = gen.Plan(farms=3, packers=2, processors=1, distributors=2, retailers=2, boxes=5)
    actors: dict[str, chains.Actor] = {}
    for party in gen.parties(plan):
        actors[party.gln] = chains.actor(
            db_session,
            prefix=party.prefix,
            name=party.name,
            site=party.site_name,
            site_kind=party.site_kind,
            growing_area_code="VN-BG-0001" if party.site_kind == "growing_area" else None,
            gln=party.gln,
            site_gln=party.site_gln,
        )
        assert actors[party.gln].site_gln == party.site_gln
    batches = list(gen.documents(plan))
    assert sum(len(b.document["epcisBody"]["eventList"]) for b in batches) == plan.events
    for batch in batches:
        assert len(batch.document["epcisBody"]["eventList"]) <= gen.BATCH
        actors[batch.owner.gln].record(db_session, *batch.document["epcisBody"]["eventList"])
    db_session.commit()
    farm_lot = chains.dl(gen.harvest_lot(plan, 0))

    result = engine.trace(db_session, f.ADMIN, farm_lot, direction=engine.FORWARD)

    retailers = {p.site_gln for p in gen.parties(plan) if p.role == "retailer"}
    reached = {
        n.place.facility_name for n in result.nodes.values() if n.place and n.place.facility_name
    }
    assert any(n.kind == "item" for n in result.nodes.values())
    assert {chains.identifiers.sgln_dl(g) for g in retailers} & result.nodes.keys()
    assert reached
