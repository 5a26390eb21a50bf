"""The export's parts on their own: RFC 6962 hashing and proofs, periods, the sample draw."""

from __future__ import annotations

import pytest

from affidavit.errors import UsageError
from affidavit.export.merkle import EMPTY_ROOT, MerkleLevels, leaf_hash, root_of, verify_inclusion
from affidavit.export.period import parse_period
from affidavit.export.sample import draw, frequency_of, plan

#: RFC 6962's reference leaves and tree heads (the Certificate Transparency test vectors, as in
#: google/certificate-transparency merkle_tree_test.cc and every port of it): roots of sizes 1..8.
CT_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
#: Reference audit paths: leaf 0 and leaf 5 of the 8-leaf tree.
CT_PATHS = {
    0: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    5: [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


def _tree(leaves: list[bytes]) -> tuple[MerkleLevels, bytes]:
    tree = MerkleLevels()
    for leaf in leaves:
        tree.add(leaf)
    return tree, tree.build()


def test_the_tree_gives_rfc_6962s_reference_roots_and_audit_paths() -> None:
    """RFC 6962 section 2.1 hashing, checked against the published CT vectors."""
    leaves = [leaf_hash(bytes.fromhex(x)) for x in CT_LEAVES]
    assert _tree([])[1] == EMPTY_ROOT
    for n in range(1, 9):
        tree, root = _tree(leaves[:n])
        assert root.hex() == CT_ROOTS[n - 1] == root_of(leaves[:n]).hex()
        tree.close()
    tree, root = _tree(leaves)
    for index, path in CT_PATHS.items():
        assert [h.hex() for h in tree.proof(index)] == path
        assert verify_inclusion(leaves[index], index, 8, [bytes.fromhex(h) for h in path], root)
    tree.close()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 9, 16, 17, 33, 100, 1025])
def test_every_proof_holds_and_no_forged_one_does(size: int) -> None:
    """Hostile: another leaf, another index, a shorter path, another root all fail. (The tree size
    is not bound by the path alone, as in RFC 9162: it is bound with the root in period.json.)"""
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree, root = _tree(leaves)
    try:
        for i in range(0, size, max(1, size // 13)):
            path = tree.proof(i)
            assert verify_inclusion(leaves[i], i, size, path, root)
            assert not verify_inclusion(leaf_hash(b"forged"), i, size, path, root)
            assert not verify_inclusion(leaves[i], i, size, path, leaf_hash(root))
            if size > 1:
                assert not verify_inclusion(leaves[i], (i + 1) % size, size, path, root)
                assert not verify_inclusion(leaves[i], i, size, path[:-1], root)
    finally:
        tree.close()


def test_periods() -> None:
    """Quarters and day ranges, inclusive; anything else is a usage error."""
    q = parse_period("2026-Q3")
    assert (q.since, q.until, q.days) == ("2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", 92)
    r = parse_period("2026-07-01..2026-07-31")
    assert (r.since, r.until, r.days) == ("2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z", 31)
    for bad in (
        "2026-Q5",
        "2026-02-30..2026-03-01",
        "2026-08-01..2026-07-01",
        "last quarter",
        "2020-01-01..2026-01-01",
    ):
        with pytest.raises(UsageError):
            parse_period(bad)


def test_the_sample_size_follows_the_frequency_table_and_the_draw_is_reproducible() -> None:
    """Upper end of each range by frequency; same seed and population, same runs; another seed or
    another population (its hash), another draw."""
    assert [frequency_of(n, 92) for n in (0, 1, 3, 10, 70, 92, 500)] == [
        "annual",
        "quarterly",
        "monthly",
        "weekly",
        "daily",
        "multiple-times-a-day",
        "multiple-times-a-day",
    ]
    ids = [(i, f"run-{i:05d}") for i in range(5000)]
    p = plan(42, "a" * 64, 5000, 92, None)
    assert (p.frequency, p.size) == ("multiple-times-a-day", 60)
    first = draw(p, iter(ids))
    assert first == draw(p, iter(ids)) and len(first) == 60 and first == sorted(first)
    assert first != draw(plan(43, "a" * 64, 5000, 92, None), iter(ids))
    assert first != draw(plan(42, "b" * 64, 5000, 92, None), iter(ids))
    assert plan(1, "a" * 64, 3, 92, 10).size == 3  # never more than the population


def test_the_sample_is_the_runs_with_the_smallest_documented_keys() -> None:
    """The draw as the module documents it, by brute force: sort every run by
    ``sha256("<seed>:<population sha256>:<run id>")`` in hex and keep the first ``size``, listed in
    population order. ``draw`` keeps only ``size`` candidates and compares digests; same runs."""
    import hashlib

    from affidavit.export.sample import draw_key

    ids = [(i, f"2026{i:07d}T000000Z-{i * 7919 % 10**6:06x}") for i in range(3000)]
    for seed, size in ((1, 1), (20261001, 40), (7, 2999), (99, 3000)):
        p = plan(seed, "c" * 64, 3000, 92, size)
        expected = sorted(sorted(ids, key=lambda item: draw_key(seed, "c" * 64, item[1]))[:size])
        assert draw(p, iter(ids)) == expected
        assert draw_key(seed, "c" * 64, "r") == hashlib.sha256(f"{seed}:{'c' * 64}:r".encode()).hexdigest()
