"""The ledger API and the witness protocol, in process: cosigning, catching up, alarms."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

import factories as f
from conftest import Backend
from ledger.ledger_helpers import AGRI, HEALTH, InProcessLog, publish_product
from txng.db import session_scope
from txng.ledger import keys, merkle, notes, service, verify
from txng.ledger import witness as w
from txng.models import LedgerLeaf, LedgerNode, LedgerState


def _ring(app: FastAPI) -> keys.Keyring:
    return keys.load(app.state.settings)


def _publish_and_sign(db: Session, backend: Backend, app: FastAPI, name: str = "Gạo") -> int:
    product, _ = publish_product(db, name=name)
    db.commit()
    service.drain(backend.sessionmaker)
    with session_scope(backend.sessionmaker) as s:
        service.sign_checkpoint(s, keyring=_ring(app))
    return product.id


def _witness(app: FastAPI, client: TestClient, signer: notes.Signer, state: Path) -> w.Outcome:
    return w.witness_once(
        client=InProcessLog(client),
        signer=signer,
        log_verifiers=list(_ring(app).log_verifiers),
        state_path=state,
        origin=app.state.settings.ledger_origin,
    )


def test_no_checkpoint_yet_is_a_404_problem(api: TestClient) -> None:
    response = api.get("/api/ledger/checkpoint")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_proofs_and_bundle_over_the_api(
    api: TestClient, ledger_app: FastAPI, db_session: Session, backend: Backend
) -> None:
    product_id = _publish_and_sign(db_session, backend, ledger_app)
    cp = api.get("/api/ledger/checkpoint").json()
    assert cp["tree_size"] == 2
    assert cp["final"] is False
    assert cp["quorum"] == 2
    root = base64.b64decode(cp["root_hash"])

    inc = api.get("/api/ledger/proof/inclusion", params={"kind": "product", "ref": product_id})
    assert inc.status_code == 200
    body = inc.json()
    leaf = merkle.leaf_hash(body["record"].encode())
    proof = [base64.b64decode(p) for p in body["inclusion_proof"]]
    merkle.verify_inclusion(body["leaf_index"], body["tree_size"], leaf, proof, root)

    cons = api.get("/api/ledger/proof/consistency", params={"first": 1, "second": 2}).json()
    assert len(cons["consistency_proof"]) == 1
    bad = api.get("/api/ledger/proof/consistency", params={"first": 3, "second": 2})
    assert bad.status_code == 422
    missing = api.get("/api/ledger/proof/inclusion", params={"kind": "product", "ref": "999"})
    assert missing.status_code == 404

    bundle = api.get("/api/ledger/bundle", params={"kind": "product", "ref": product_id})
    assert "attachment" in bundle.headers["content-disposition"]
    assert verify.verify_bundle(bundle.json()).ok


def test_two_witnesses_reach_the_quorum_and_a_late_one_catches_up(
    api: TestClient, ledger_app: FastAPI, db_session: Session, backend: Backend, tmp_path: Path
) -> None:
    _publish_and_sign(db_session, backend, ledger_app, "Gạo")
    first = _witness(ledger_app, api, HEALTH, tmp_path / "health.json")
    assert (first.size, first.cosignatures, first.final) == (2, 1, False)

    # The agriculture witness is down while the log grows twice: nothing is lost.
    _publish_and_sign(db_session, backend, ledger_app, "Mật ong")
    _publish_and_sign(db_session, backend, ledger_app, "Chè")
    assert _witness(ledger_app, api, HEALTH, tmp_path / "health.json").size == 6
    assert api.get("/api/ledger/checkpoint").json()["final"] is False

    late = _witness(ledger_app, api, AGRI, tmp_path / "agri.json")
    assert (late.size, late.cosignatures, late.final) == (6, 2, True)
    note = api.get("/api/ledger/checkpoint").json()["note"]
    assert note.count("\u2014 ") == 3  # the log's signature and two cosignatures
    # Asked again, it does not sign the same checkpoint twice.
    again = _witness(ledger_app, api, AGRI, tmp_path / "agri.json")
    assert (again.cosigned, again.cosignatures) == (False, 2)


def test_a_witness_refuses_a_rewritten_history(
    api: TestClient, ledger_app: FastAPI, db_session: Session, backend: Backend, tmp_path: Path
) -> None:
    state = tmp_path / "health.json"
    _publish_and_sign(db_session, backend, ledger_app, "Gạo")
    _witness(ledger_app, api, HEALTH, state)

    # The operator rewrites leaf 0, rebuilds the stored tree consistently, adds a record, signs.
    db_session.execute(
        update(LedgerLeaf)
        .where(LedgerLeaf.leaf_index == 0)
        .values(leaf_hash=merkle.leaf_hash(b'{"rewritten":true}'), record=b'{"rewritten":true}')
    )
    leaves = [bytes(x.leaf_hash) for x in db_session.query(LedgerLeaf).order_by("leaf_index")]
    db_session.execute(delete(LedgerNode))
    for (level, idx), digest in merkle.complete_nodes(leaves).items():
        if level:
            db_session.add(LedgerNode(level=level, idx=idx, hash=digest))
    db_session.execute(update(LedgerState).values(root_hash=merkle.root_of(leaves)))
    db_session.commit()
    _publish_and_sign(db_session, backend, ledger_app, "Mật ong")

    with pytest.raises(w.WitnessAlarm, match="does not extend"):
        _witness(ledger_app, api, HEALTH, state)
    assert w.load_state(state).alarm  # kept: it refuses from now on
    assert api.get("/api/ledger/checkpoint").json()["cosignatures"] == []
    with pytest.raises(w.WitnessAlarm):
        _witness(ledger_app, api, HEALTH, state)


def test_a_witness_refuses_a_log_that_shrank(
    api: TestClient, ledger_app: FastAPI, db_session: Session, backend: Backend, tmp_path: Path
) -> None:
    state = tmp_path / "agri.json"
    _publish_and_sign(db_session, backend, ledger_app, "Gạo")
    _witness(ledger_app, api, AGRI, state)
    # Delete the last leaf and roll the state back, then sign the smaller tree.
    db_session.execute(delete(LedgerLeaf).where(LedgerLeaf.leaf_index == 1))
    db_session.execute(delete(LedgerNode))
    db_session.execute(
        update(LedgerState).values(
            tree_size=1,
            root_hash=db_session.query(LedgerLeaf.leaf_hash).filter_by(leaf_index=0).scalar(),
        )
    )
    db_session.execute(delete(service.LedgerCheckpoint))
    db_session.commit()
    with session_scope(backend.sessionmaker) as s:
        service.sign_checkpoint(s, keyring=_ring(ledger_app))
    with pytest.raises(w.WitnessAlarm, match="shrank"):
        _witness(ledger_app, api, AGRI, state)


def test_a_checkpoint_signed_by_an_unknown_key_is_refused(
    api: TestClient, ledger_app: FastAPI, db_session: Session, backend: Backend, tmp_path: Path
) -> None:
    _publish_and_sign(db_session, backend, ledger_app)
    with pytest.raises(w.WitnessAlarm, match="bad checkpoint"):
        w.witness_once(
            client=InProcessLog(api),
            signer=HEALTH,
            log_verifiers=[notes.generate("txng.test/log").verifier],
            state_path=tmp_path / "s.json",
        )


def test_only_an_administrator_signs_on_demand(
    api: TestClient, ledger_app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    assert api.post("/api/ledger/checkpoint", headers=f.bearer(ent.key)).status_code == 403
    assert api.post("/api/ledger/checkpoint").status_code == 401


def test_malformed_requests_are_problems_not_crashes(
    api: TestClient, ledger_app: FastAPI, db_session: Session, backend: Backend
) -> None:
    _publish_and_sign(db_session, backend, ledger_app)
    huge = "txng.bacninh.gov.vn/ledger\n99999999999999999999999\n" + "A" * 43 + "=\n"
    for body in (
        {"checkpoint": "nonsense", "cosignature": "nonsense"},
        {"checkpoint": huge, "cosignature": notes.cosignature_line(HEALTH, huge, 1)},
    ):
        response = api.post("/api/ledger/cosign", json=body)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
    nul = api.get("/api/ledger/proof/inclusion", params={"kind": "product", "ref": "1\x00"})
    assert nul.status_code == 404
    too_big = api.get("/api/ledger/proof/inclusion", params={"leaf_index": 0, "tree_size": 99})
    assert too_big.status_code == 422
