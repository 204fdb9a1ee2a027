"""RFC 6962 Merkle trees: leaf and node hashes, the right-edge frontier ("compact range") that
lets a log grow one batch at a time, and inclusion and consistency proofs.

Pure functions over bytes; nothing here touches the database. Hashes are 32-byte SHA-256
digests (RFC 6962 section 2.1):

    leaf  = SHA-256(0x00 || entry)
    node  = SHA-256(0x01 || left || right)
    empty = SHA-256("")

The tree over leaves D[0:n] is MTH(D[0:n]): split at the largest power of two below n, hash
the two halves. Its perfect subtrees are addressed as (level, index): the node at `level`
covers leaves [index * 2**level, (index + 1) * 2**level). A tree of size n is fully described
by the perfect subtrees that the binary digits of n name, left to right (the frontier): adding
a leaf merges the equal-sized ones at the right edge, so sealing a batch of b leaves onto a
tree of size n costs O(b + log n) hashes, never a pass over the earlier leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The perfect subtrees covering leaves [0, size), largest (leftmost) first.

    `hashes[i]` is the root of the subtree at the level of the i-th set bit of `size`, counted
    from the most significant one. Appending returns the new perfect subtrees of level >= 1 it
    completed, as (level, index, hash), so a caller can keep them for proofs.
    """

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a frontier of size {size} has {bin(size).count('1')} hashes, not {len(hashes)}")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        made = []
        h, level, n = leaf, 0, self.size
        while n & 1:  # a subtree of this level already stands on the right edge: merge
            h = node_hash(self.hashes.pop(), h)
            level += 1
            n >>= 1
            made.append((level, self.size >> level, h))
        self.hashes.append(h)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = node_hash(left, h)
        return h

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)

    def levels(self) -> list[int]:
        """The level of each hash, left to right."""
        return [b for b in range(self.size.bit_length() - 1, -1, -1) if self.size >> b & 1]


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH over leaf hashes (for tests and small trees)."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


# --- ranges as perfect subtrees -------------------------------------------------------------


def decompose(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) that cover [start, end), left to right, each as large
    as its alignment allows. For the ranges RFC 6962's recursions use (start a multiple of a power
    of two at least end - start), MTH(D[start:end]) is their right fold with node_hash."""
    parts = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while (1 << level) > end - start:
            level -= 1
        parts.append((level, start >> level))
        start += 1 << level
    return parts


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_path(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 6962 2.1.1 PATH(index, D[0:size]) as ranges [a, b), in the order the proof lists them
    (nearest the leaf first)."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")

    def path(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
        n = hi - lo
        if n == 1:
            return []
        k = _largest_power_of_two_below(n)
        if m < k:
            return path(m, lo, lo + k) + [(lo + k, hi)]
        return path(m - k, lo + k, hi) + [(lo, lo + k)]

    return path(index, 0, size)


def consistency_path(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 6962 2.1.2 PROOF(old, D[0:new]) as ranges [a, b)."""
    if not 0 < old <= new:
        raise ValueError("sizes must satisfy 0 < old <= new")

    def subproof(m: int, lo: int, hi: int, complete: bool) -> list[tuple[int, int]]:
        n = hi - lo
        if m == n:
            return [] if complete else [(lo, hi)]
        k = _largest_power_of_two_below(n)
        if m <= k:
            return subproof(m, lo, lo + k, complete) + [(lo + k, hi)]
        return subproof(m - k, lo + k, hi, False) + [(lo, lo + k)]

    return subproof(old, 0, new, True)


def range_hash(start: int, end: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[start:end]) from the stored perfect subtrees; `node(level, index)` returns one."""
    parts = [node(level, index) for level, index in decompose(start, end)]
    h = parts[-1]
    for left in reversed(parts[:-1]):
        h = node_hash(left, h)
    return h


def needed_nodes(ranges: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Every perfect subtree a list of proof ranges is made of (to fetch them in one query)."""
    return {part for start, end in ranges for part in decompose(start, end)}


# --- checking proofs (RFC 9162 2.1.3.2 and 2.1.4.2, the same trees as RFC 6962) ---------------


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root that an inclusion proof leads to, or None if the proof has the wrong shape."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
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
    return r if sn == 0 else None


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    if old == new:
        return old_root == new_root and not proof
    if not 0 < old < new or not proof:
        return False
    proof = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node of the path
        proof.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
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
    return sn == 0 and fr == old_root and sr == new_root
