"""Capture in the XML binding: GS1's XML examples are accepted, and an XML document and its
JSON-LD twin are the same events (the second capture finds every event already stored)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

import factories as f
from epcis.conformance import maybe_dir

EPCIS_DOCUMENT = "{urn:epcglobal:epcis:xsd:2}EPCISDocument"


def _xml_documents() -> list[Path]:
    base = maybe_dir()
    if base is None:
        return []
    found = []
    for path in sorted((base / "epcis" / "XML").rglob("*.xml")):
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        if root.tag == EPCIS_DOCUMENT:
            found.append(path)
    return found


def _twins() -> list[tuple[Path, Path]]:
    base = maybe_dir()
    if base is None:
        return []
    examples = base / "event-hash" / "tests" / "examples"
    return [
        (path, path.with_suffix(".xml"))
        for path in sorted(examples.glob("*.jsonld"))
        if path.with_suffix(".xml").exists()
    ]


def _count_events(path: Path) -> int:
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
    event_list = root.find("EPCISBody/EventList")
    if event_list is None:
        return 0
    return sum(1 for child in event_list if isinstance(child.tag, str))  # not comments


@pytest.mark.parametrize("path", _xml_documents(), ids=lambda p: p.stem)
def test_gs1_xml_example_is_captured(client: TestClient, db_session: Session, path: Path) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    response = client.post(
        "/epcis/capture",
        content=path.read_bytes(),
        headers={**f.bearer(ent.key), "Content-Type": "application/xml"},
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["success"] is True
    assert job["storedCount"] + job["duplicateCount"] == _count_events(path)


@pytest.mark.parametrize(("jsonld", "xml"), _twins(), ids=lambda p: p.stem)
def test_xml_and_json_twins_are_the_same_events(
    client: TestClient, db_session: Session, jsonld: Path, xml: Path
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    body = json.loads(jsonld.read_text(encoding="utf-8"))["epcisBody"]
    events = (
        body["eventList"]
        if "eventList" in body
        else body["queryResults"]["resultsBody"]["eventList"]
    )
    first = client.post(
        "/epcis/capture",
        content=jsonld.read_bytes(),
        headers={**f.bearer(ent.key), "Content-Type": "application/ld+json"},
    )
    assert first.status_code == 202, first.text
    second = client.post(
        "/epcis/capture",
        content=xml.read_bytes(),
        headers={**f.bearer(ent.key), "Content-Type": "application/xml"},
    )
    assert second.status_code == 202, second.text
    assert second.json()["storedCount"] == 0
    assert second.json()["duplicateCount"] == len(events)


def test_an_xml_bomb_is_refused_without_expanding(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" '
        b'creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList/></EPCISBody>&lol2;'
        b"</epcis:EPCISDocument>"
    )
    response = client.post(
        "/epcis/capture",
        content=bomb,
        headers={**f.bearer(ent.key), "Content-Type": "application/xml"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_xml"
