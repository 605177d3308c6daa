"""RFC 9162 hashing and proofs, checked against the RFC's fixed values and pymerkle."""

from __future__ import annotations

import hashlib
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from txng.ledger import merkle


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]


def _proof(ranges: list[tuple[int, int]], leaves: list[bytes]) -> list[bytes]:
    nodes = merkle.complete_nodes(leaves)
    return merkle.build_proof(ranges, lambda wanted: {n: nodes[n] for n in wanted})


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert merkle.root_of([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.CompactRange(0, []).root() == merkle.EMPTY_ROOT


def test_single_leaf_root_is_its_leaf_hash_with_the_zero_prefix() -> None:
    data = b"hello"
    assert merkle.root_of([merkle.leaf_hash(data)]) == hashlib.sha256(b"\x00hello").digest()


def test_two_leaves_use_the_one_prefix() -> None:
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.root_of([a, b]) == hashlib.sha256(b"\x01" + a + b).digest()


def test_roots_and_inclusion_proofs_agree_with_pymerkle() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymerkle import InmemoryTree

        tree = InmemoryTree(algorithm="sha256")
        leaves: list[bytes] = []
        for n in range(1, 70):
            data = f"record {n}".encode()
            tree.append_entry(data)
            leaves.append(merkle.leaf_hash(data))
            assert tree.get_leaf(n) == leaves[-1]
            assert tree.get_root(n) == merkle.root_of(leaves)
            for i in range(0, n, 3):
                theirs = tree.prove_inclusion(i + 1, n).serialize()["path"][1:]
                ours = _proof(merkle.inclusion_ranges(i, n), leaves)
                assert [bytes.fromhex(h) for h in theirs] == ours


def test_compact_range_matches_the_recursive_definition_and_closes_subtrees() -> None:
    leaves = _leaves(100)
    tree = merkle.CompactRange(0, [])
    closed: dict[merkle.Node, bytes] = {}
    for i, leaf in enumerate(leaves):
        closed.update(tree.append(leaf))
        assert tree.root() == merkle.root_of(leaves[: i + 1])
    assert closed == merkle.complete_nodes(leaves)


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_inclusion_proofs_verify_and_detect_tampering(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    root = merkle.root_of(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = _proof(merkle.inclusion_ranges(index, size), leaves)
    merkle.verify_inclusion(index, size, leaves[index], proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, root)
    if proof:
        bad = [*proof[:-1], bytes(32)]
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], bad, root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], proof[:-1], root)


@settings(max_examples=200, deadline=None)
@given(second=st.integers(1, 300), data=st.data())
def test_consistency_proofs_verify_and_detect_a_rewritten_history(
    second: int, data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, second))
    leaves = _leaves(second)
    old_root, new_root = merkle.root_of(leaves[:first]), merkle.root_of(leaves)
    proof = _proof(merkle.consistency_ranges(first, second), leaves)
    merkle.verify_consistency(first, second, old_root, new_root, proof)
    if 0 < first < second:
        rewritten = [*leaves[: first - 1], merkle.leaf_hash(b"rewritten"), *leaves[first:]]
        forged_proof = _proof(merkle.consistency_ranges(first, second), rewritten)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(
                first, second, old_root, merkle.root_of(rewritten), forged_proof
            )


def test_a_shrunk_or_forked_log_is_refused() -> None:
    leaves = _leaves(8)
    with pytest.raises(merkle.ProofError, match="shrank"):
        merkle.verify_consistency(8, 7, merkle.root_of(leaves), merkle.root_of(leaves[:7]), [])
    with pytest.raises(merkle.ProofError, match="forked"):
        merkle.verify_consistency(8, 8, merkle.root_of(leaves), merkle.EMPTY_ROOT, [])


def test_proof_sizes_grow_with_log_n() -> None:
    assert len(merkle.inclusion_ranges(0, 1)) == 0
    assert len(merkle.inclusion_ranges(123_456, 1_000_000)) <= 20
    assert len(merkle.consistency_ranges(999_999, 10_000_000)) <= 2 * 24
    nodes = merkle.needed_nodes(merkle.inclusion_ranges(5, 10_000_000))
    assert len(nodes) <= 2 * 24
