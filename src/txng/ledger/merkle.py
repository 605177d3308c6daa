"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs: pure functions.

A tree of ``n`` leaves is split at ``k``, the largest power of two smaller than ``n``; the left part
``[0, k)`` is always a *complete* subtree (its size a power of two, its start a multiple of it).
Every range a proof needs is therefore made of complete subtrees, addressed here as
``(level, index)``: the subtree covering leaves ``[index·2^level, (index+1)·2^level)``. The log
stores the hash of every complete subtree, so a proof costs O(log n) look-ups, never a rehash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index) of a complete subtree
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the RFC's recursive definition (reference implementation, O(n))."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees, largest first, that make up the aligned range ``[start, end)``."""
    nodes: list[Node] = []
    pos = start
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        nodes.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees, largest first: a right fold."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _inclusion_ranges(m: int, start: int, end: int, out: list[tuple[int, int]]) -> None:
    # PATH(m, D[start:end]) of RFC 9162 §2.1.3.1, as ranges, deepest first.
    n = end - start
    if n <= 1:
        return
    k = _split(n)
    if m < k:
        _inclusion_ranges(m, start, start + k, out)
        out.append((start + k, end))
    else:
        _inclusion_ranges(m - k, start + k, end, out)
        out.append((start, start + k))


def _consistency_ranges(
    m: int, start: int, end: int, complete: bool, out: list[tuple[int, int]]
) -> None:
    # SUBPROOF(m, D[start:end], b) of RFC 9162 §2.1.4.1, as ranges.
    n = end - start
    if m == n:
        if not complete:
            out.append((start, end))
        return
    k = _split(n)
    if m <= k:
        _consistency_ranges(m, start, start + k, complete, out)
        out.append((start + k, end))
    else:
        _consistency_ranges(m - k, start + k, end, False, out)
        out.append((start, start + k))


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    if not 0 <= index < size:
        raise ProofError("leaf index outside the tree")
    out: list[tuple[int, int]] = []
    _inclusion_ranges(index, 0, size, out)
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    if not 0 <= first <= second:
        raise ProofError("the first size must not exceed the second")
    out: list[tuple[int, int]] = []
    if 0 < first < second:
        _consistency_ranges(first, 0, second, True, out)
    return out


def needed_nodes(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


def resolve(ranges: Sequence[tuple[int, int]], nodes: Mapping[Node, bytes]) -> list[bytes]:
    """The proof's hashes from the stored complete-subtree hashes."""
    return [fold([nodes[n] for n in range_nodes(s, e)]) for s, e in ranges]


def build_proof(
    ranges: Sequence[tuple[int, int]], fetch: Callable[[set[Node]], Mapping[Node, bytes]]
) -> list[bytes]:
    return resolve(ranges, fetch(needed_nodes(ranges)))


def complete_nodes(leaf_hashes: Sequence[bytes]) -> dict[Node, bytes]:
    """Every complete subtree of a list of leaves (for tests and in-memory logs)."""
    nodes: dict[Node, bytes] = {(0, i): h for i, h in enumerate(leaf_hashes)}
    level, width = 0, len(leaf_hashes)
    while width > 1:
        for i in range(width // 2):
            nodes[(level + 1, i)] = node_hash(nodes[(level, 2 * i)], nodes[(level, 2 * i + 1)])
        level, width = level + 1, width // 2
    return nodes


class CompactRange:
    """The right edge of a growing tree: one complete subtree per set bit of its size.

    Appending a leaf returns the complete subtrees it closes, so that the log can store them.
    """

    def __init__(self, size: int, peaks: Sequence[bytes]) -> None:
        if len(peaks) != size.bit_count():
            raise ProofError("a compact range needs one hash per set bit of its size")
        self.size = size
        self.peaks = list(peaks)  # largest subtree first

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        index = self.size
        closed: list[tuple[Node, bytes]] = [((0, index), leaf)]
        acc = leaf
        level = 0
        while (index >> level) & 1:
            acc = node_hash(self.peaks.pop(), acc)
            level += 1
            closed.append(((level, index >> level), acc))
        self.peaks.append(acc)
        self.size += 1
        return closed

    def root(self) -> bytes:
        return fold(self.peaks)


def peak_nodes(size: int) -> list[Node]:
    return range_nodes(0, size)


# verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if index >= size:
        raise ProofError("leaf index outside the tree")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless the tree of ``second`` leaves extends the one of ``first``."""
    if first > second:
        raise ProofError("the log shrank")
    if first == second:
        if proof or first_root != second_root:
            raise ProofError("same size, different roots: the log forked")
        return
    if first == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        return
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is a node of the new tree
        path.insert(0, first_root)
    if not path:
        raise ProofError("empty consistency proof")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if fr != first_root:
        raise ProofError("consistency proof does not match the older root: the log forked")
    if sr != second_root:
        raise ProofError("consistency proof does not lead to the newer root")
