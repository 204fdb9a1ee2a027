"""The Merkle tree of RFC 6962: the published test vectors, and every size, proof and frontier
of small trees against a plain recursive definition."""

from __future__ import annotations

import hashlib

import pytest

from govservice.audit import merkle

# The inputs and expected values of the RFC 6962 test vectors used by Certificate Transparency
# implementations (the 8 leaves below; roots of the first n; paths and proofs for some indexes).
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 2.1, literally."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


class Tree:
    """Leaf hashes and every stored node, as the sealer keeps them."""

    def __init__(self, n: int):
        self.leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
        self.nodes = {(0, i): h for i, h in enumerate(self.leaves)}
        self.frontier = merkle.Frontier()
        for leaf in self.leaves:
            for level, index, h in self.frontier.append(leaf):
                self.nodes[(level, index)] = h

    def hashes(self, ranges):
        return [merkle.range_hash(a, b, lambda level, index: self.nodes[(level, index)]) for a, b in ranges]


def _vector_tree():
    tree = Tree(0)
    for data in LEAVES:
        leaf = merkle.leaf_hash(data)
        tree.nodes[(0, tree.frontier.size)] = leaf
        for level, index, h in tree.frontier.append(leaf):
            tree.nodes[(level, index)] = h
    return tree


def test_the_rfc_6962_test_vectors():
    assert merkle.root_of([]) == hashlib.sha256(b"").digest()
    for n in range(1, 9):
        assert merkle.root_of(merkle.leaf_hash(d) for d in LEAVES[:n]).hex() == ROOTS[n - 1]
    tree = _vector_tree()
    for (index, size), expected in INCLUSION.items():
        path = tree.hashes(merkle.inclusion_path(index, size))
        assert [h.hex() for h in path] == expected
        assert merkle.root_from_inclusion(index, size, merkle.leaf_hash(LEAVES[index]), path).hex() == ROOTS[size - 1]
    for (old, new), expected in CONSISTENCY.items():
        proof = [] if old == new else tree.hashes(merkle.consistency_path(old, new))
        assert [h.hex() for h in proof] == expected
        assert merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), proof)


def test_the_frontier_gives_the_root_of_every_size_and_keeps_only_log_n_hashes():
    tree = Tree(70)
    frontier = merkle.Frontier()
    for n, leaf in enumerate(tree.leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == mth(tree.leaves[:n])
        assert len(frontier.hashes) == bin(n).count("1")
        # a frontier stored with a checkpoint and read back continues the same tree
        frontier = merkle.Frontier(frontier.size, list(frontier.hashes))
    # every stored node is the root of its perfect subtree
    for (level, index), h in tree.nodes.items():
        assert h == mth(tree.leaves[index << level : (index + 1) << level])


def test_every_inclusion_and_consistency_proof_of_small_trees_verifies_and_a_changed_one_does_not():
    tree = Tree(33)
    roots = [mth(tree.leaves[:n]) for n in range(34)]
    for size in range(1, 34):
        for index in range(size):
            path = tree.hashes(merkle.inclusion_path(index, size))
            assert merkle.root_from_inclusion(index, size, tree.leaves[index], path) == roots[size]
            assert merkle.root_from_inclusion(index, size, tree.leaves[(index + 1) % 33], path) != roots[size]
            if path:
                bent = [bytes(32)] + path[1:]
                assert merkle.root_from_inclusion(index, size, tree.leaves[index], bent) != roots[size]
        for old in range(1, size + 1):
            proof = [] if old == size else tree.hashes(merkle.consistency_path(old, size))
            assert merkle.verify_consistency(old, size, roots[old], roots[size], proof), (old, size)
            if proof:
                assert not merkle.verify_consistency(old, size, roots[old], roots[size], proof[:-1])
                assert not merkle.verify_consistency(
                    old, size, roots[old - 1] if old > 1 else bytes(32), roots[size], proof
                )


def test_ranges_decompose_into_aligned_perfect_subtrees():
    assert merkle.decompose(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert merkle.decompose(8, 13) == [(2, 2), (0, 12)]
    assert merkle.decompose(6, 8) == [(1, 3)]
    with pytest.raises(ValueError):
        merkle.Frontier(3, [bytes(32)])
