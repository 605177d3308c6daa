"""The ledger on both databases: sealing publications, proofs, checkpoints, seals, audit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

import factories as f
from conftest import Backend
from ledger.ledger_helpers import keyring, publish_events, publish_product, witness_signer
from txng.ledger import merkle, notes, outbox, service, verify
from txng.ledger.canonical import canonicalize
from txng.ledger.exceptions import BadCosignature, BadProofRequest
from txng.models import LedgerLeaf, LedgerOutbox, ReviewItem
from txng.review import service as review_service
from txng.review.state import Action


def _leaf_hashes(db: Session) -> list[bytes]:
    rows = db.scalars(select(LedgerLeaf.leaf_hash).order_by(LedgerLeaf.leaf_index))
    return [bytes(h) for h in rows]


def test_publication_is_sealed_after_commit_exactly_once(
    db_session: Session, backend: Backend
) -> None:
    product, _item = publish_product(db_session)
    db_session.flush()
    queued = db_session.scalars(select(LedgerOutbox).order_by(LedgerOutbox.id)).all()
    assert [q.kind for q in queued] == ["product", "decision"]
    assert queued[0].ref == str(product.id)
    assert queued[0].payload["snapshot"]["name_vi"] == "Vải thiều Lục Ngạn"
    db_session.commit()

    assert service.drain(backend.sessionmaker) == 2
    assert service.drain(backend.sessionmaker) == 0
    db_session.expire_all()
    size, root = service.tree_head(db_session)
    assert size == 2
    assert root == merkle.root_of(_leaf_hashes(db_session))
    leaf = db_session.get(LedgerLeaf, 0)
    assert leaf is not None
    assert leaf.kind == "product"
    assert bytes(leaf.record) == canonicalize(queued[0].payload)
    assert bytes(leaf.leaf_hash) == merkle.leaf_hash(bytes(leaf.record))


def test_a_rolled_back_publication_leaves_nothing_to_seal(
    db_session: Session, backend: Backend
) -> None:
    publish_product(db_session)
    db_session.rollback()
    assert service.drain(backend.sessionmaker) == 0
    assert db_session.scalar(select(func.count()).select_from(LedgerOutbox)) == 0


def test_each_event_of_a_published_batch_and_the_decisions_are_sealed(
    db_session: Session, backend: Backend
) -> None:
    org = f.organisation(db_session)
    item = publish_events(db_session, org, ["1", "2", "3"])
    review_service.decide(
        db_session, actor=f.ADMIN, item_id=item.id, action=Action.SUSPEND, reason="Kiểm tra lại"
    )
    db_session.commit()
    service.drain(backend.sessionmaker)
    kinds = db_session.scalars(select(LedgerLeaf.kind).order_by(LedgerLeaf.leaf_index)).all()
    assert kinds.count("event") == 3
    assert kinds.count("event_batch") == 1
    decisions = db_session.scalars(
        select(LedgerLeaf.record).where(LedgerLeaf.kind == "decision")
    ).all()
    actions = sorted(json.loads(bytes(r))["action"] for r in decisions)
    assert actions == ["review.publish", "review.suspend"]
    assert service.audit(db_session) == []


def test_the_same_record_is_queued_only_once(db_session: Session, backend: Backend) -> None:
    assert outbox.enqueue(db_session, kind="test", ref="1", payload={"a": 1}) is not None
    assert outbox.enqueue(db_session, kind="test", ref="1", payload={"a": 1}) is None
    assert outbox.enqueue(db_session, kind="test", ref="1", payload={"a": 2}) is not None


def test_proofs_from_the_node_cache_match_the_reference(
    db_session: Session, backend: Backend
) -> None:
    for i in range(37):
        outbox.enqueue(db_session, kind="test", ref=str(i), payload={"n": i, "tên": "thử"})
    db_session.commit()
    assert service.drain(backend.sessionmaker, batch=5) == 37
    leaves = _leaf_hashes(db_session)
    for size in (1, 2, 5, 16, 17, 37):
        root = merkle.root_of(leaves[:size])
        assert service.root_at(db_session, size) == root
        for index in range(size):
            proof = service.inclusion_proof(db_session, leaf_index=index, tree_size=size)
            merkle.verify_inclusion(index, size, leaves[index], proof, root)
        for first in range(size + 1):
            proof = service.consistency_proof(db_session, first=first, second=size)
            merkle.verify_consistency(first, size, merkle.root_of(leaves[:first]), root, proof)
    with pytest.raises(BadProofRequest):
        service.inclusion_proof(db_session, leaf_index=0, tree_size=38)
    with pytest.raises(BadProofRequest):
        service.consistency_proof(db_session, first=5, second=4)


def test_checkpoints_count_as_final_with_the_quorum_of_cosignatures(
    db_session: Session, backend: Backend
) -> None:
    health, agri = witness_signer("yte.test/w"), witness_signer("nn.test/w")
    ring = keyring(witnesses=(health, agri), quorum=2)
    publish_product(db_session)
    db_session.commit()
    service.drain(backend.sessionmaker)
    cp = service.sign_checkpoint(db_session, keyring=ring)
    assert service.sign_checkpoint(db_session, keyring=ring).id == cp.id  # nothing new
    body, good, _ = notes.verify_note(cp.note, list(ring.log_verifiers))
    assert body == notes.checkpoint_body(ring.origin, 2, bytes(cp.root_hash))
    assert len(good) == 1

    service.add_cosignature(
        db_session, keyring=ring, body=body, line=notes.cosignature_line(health, body, 1000)
    )
    assert not service.latest_view(db_session, keyring=ring).final
    service.add_cosignature(
        db_session, keyring=ring, body=body, line=notes.cosignature_line(agri, body, 1001)
    )
    view = service.latest_view(db_session, keyring=ring)
    assert view.final
    assert len(view.cosignatures) == 2
    _, good, _ = notes.verify_note(view.note, [*ring.log_verifiers, *ring.witness_verifiers])
    assert len(good) == 3

    stranger = witness_signer("la.test/w")
    with pytest.raises(BadCosignature):
        service.add_cosignature(
            db_session, keyring=ring, body=body, line=notes.cosignature_line(stranger, body, 1)
        )
    other = notes.checkpoint_body(ring.origin, 2, bytes(32))
    forged = notes.cosignature_line(health, other, 5)
    with pytest.raises(BadCosignature):
        service.add_cosignature(db_session, keyring=ring, body=body, line=forged)


def _sealed_product(db: Session, backend: Backend, ring):  # type: ignore[no-untyped-def]
    product, item = publish_product(db)
    db.commit()
    service.drain(backend.sessionmaker)
    cp = service.sign_checkpoint(db, keyring=ring)
    body = cp.note.split("\n\n")[0] + "\n"
    for w in ring_witnesses:
        service.add_cosignature(
            db, keyring=ring, body=body, line=notes.cosignature_line(w, body, 7)
        )
    db.commit()
    return product, item


ring_witnesses = (witness_signer("yte.test/w"), witness_signer("nn.test/w"))


def test_tampering_with_a_published_name_is_reported_and_unseals_the_page(
    db_session: Session, backend: Backend
) -> None:
    ring = keyring(witnesses=ring_witnesses)
    product, item = _sealed_product(db_session, backend, ring)
    seal = service.seal_context(db_session, kind="product", ref=str(product.id), keyring=ring)
    assert seal is not None
    assert seal["verified"] is True
    assert seal["cosignatures"] == 2
    assert seal["final"] is True
    assert service.audit(db_session) == []

    # An operator with database access renames the published product behind everyone's back.
    snapshot = {**item.snapshot, "name_vi": "Vải thiều giả mạo"}
    db_session.execute(update(ReviewItem).where(ReviewItem.id == item.id).values(snapshot=snapshot))
    db_session.commit()
    db_session.expire_all()

    problems = service.audit(db_session)
    assert [(p.kind, p.ref, p.problem) for p in problems] == [
        ("product", str(product.id), "changed")
    ]
    seal = service.seal_context(db_session, kind="product", ref=str(product.id), keyring=ring)
    assert seal is not None
    assert seal["verified"] is False
    assert seal["record_matches"] is False


def test_deleting_a_published_record_or_rewriting_a_leaf_is_reported(
    db_session: Session, backend: Backend
) -> None:
    ring = keyring(witnesses=ring_witnesses)
    _product, item = _sealed_product(db_session, backend, ring)
    db_session.execute(
        update(LedgerLeaf).where(LedgerLeaf.leaf_index == 1).values(record=b'{"forged":1}')
    )
    db_session.execute(text("DELETE FROM ledger_outbox"))  # no trace left in the outbox either
    db_session.commit()
    problems = {(p.leaf_index, p.problem) for p in service.audit(db_session)}
    assert (1, "leaf_hash") in problems
    with db_session.begin_nested():
        db_session.execute(
            update(ReviewItem)
            .where(ReviewItem.id == item.id)
            .values(entity_id=item.entity_id + 999)
        )
    problems = {(p.leaf_index, p.problem) for p in service.audit(db_session)}
    assert (0, "missing") in problems


def test_an_exported_bundle_verifies_offline_and_a_forged_one_does_not(
    db_session: Session, backend: Backend
) -> None:
    ring = keyring(witnesses=ring_witnesses)
    product, _item = _sealed_product(db_session, backend, ring)
    leaf = service.find_leaf(db_session, kind="product", ref=str(product.id), leaf_index=None)
    data = json.loads(json.dumps(service.bundle(db_session, leaf=leaf, keyring=ring)))
    report = verify.verify_bundle(data)
    assert report.ok
    assert report.final
    assert report.cosignatures == 2

    forged = {**data, "record": data["record"].replace("Vải thiều", "Vải giả")}
    assert not verify.verify_bundle(forged).ok
    impostor = notes.generate("txng.test/log")
    pinned = verify.verify_bundle(data, trusted_log_keys=[impostor.verifier.vkey])
    assert not pinned.ok


def test_after_a_key_rotation_old_checkpoints_still_verify(
    db_session: Session, backend: Backend
) -> None:
    old_ring = keyring(witnesses=ring_witnesses)
    product, _ = _sealed_product(db_session, backend, old_ring)
    leaf = service.find_leaf(db_session, kind="product", ref=str(product.id), leaf_index=None)
    old_bundle = service.bundle(db_session, leaf=leaf, keyring=old_ring)

    new_log = notes.generate("txng.test/log")
    new_ring = keyring(log=new_log, witnesses=ring_witnesses)
    new_ring = type(new_ring)(
        new_ring.origin,
        new_log,
        (new_log.verifier, old_ring.signer.verifier),
        new_ring.witness_verifiers,
        new_ring.quorum,
    )
    cp = service.sign_checkpoint(db_session, keyring=new_ring)
    assert cp.key_name == new_log.name
    assert cp.note != old_bundle["checkpoint"]
    assert verify.verify_bundle({**old_bundle, "log_keys": new_ring.log_vkeys}).ok
    assert not verify.verify_bundle({**old_bundle, "log_keys": [new_log.verifier.vkey]}).ok
