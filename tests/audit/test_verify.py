"""`audit verify` detects each kind of tampering by someone with write access to the database
(but not the keys) and names the first bad entry."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from govservice.audit import checkpoint as cp
from govservice.audit import merkle, sealer
from govservice.audit import services as audit
from govservice.audit.models import AuditCheckpoint, AuditEntry
from govservice.core.extensions import db

from ..factories import append
from .helpers import sql


@pytest.fixture
def log(ctx):
    """A sealed log: the demo's entries and 40 more, in checkpoints of 8."""
    ids = append(40, action="test.verify", note="示例")
    sealer.seal(batch=8)
    assert audit.verify(chunk=100).ok
    return ids


def _entry(entry_id) -> AuditEntry:
    db.session.expire_all()
    return db.session.get(AuditEntry, entry_id)


def _check(**kwargs):
    db.session.remove()
    return audit.verify(chunk=100, **kwargs)


def _rebuild_without_the_keys(resign_all=False):
    """What an attacker with the database but not the keys can do after editing entries: recompute
    every leaf hash, every node, and the root and frontier of every checkpoint the edit changed,
    signing new notes with a key of their own under the same name (the untouched checkpoints keep
    their genuine signatures). The leaf HMACs they cannot recompute."""
    forger = cp.Keys(cp.keys().name, Ed25519PrivateKey.generate(), b"not the leaf key, 32 bytes long!")
    rows = db.session.execute(
        select(*sealer.ENTRY_COLUMNS, AuditEntry.leaf_index)
        .where(AuditEntry.leaf_index.is_not(None))
        .order_by(AuditEntry.leaf_index)
    ).all()
    sizes = {c.tree_size: c for c in db.session.execute(select(AuditCheckpoint)).scalars()}
    frontier = merkle.Frontier()
    sql("DELETE FROM audit_tree_nodes")
    for row in rows:
        leaf = sealer.entry_leaf(row.leaf_index, row)
        sql("UPDATE audit_entries SET leaf_hash = :h WHERE id = :id", h=leaf.hex(), id=row.id)
        for level, index, h in frontier.append(leaf):
            sql("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (:l, :i, :h)", l=level, i=index, h=h.hex())
        if frontier.size in sizes and (resign_all or frontier.root().hex() != sizes[frontier.size].root_hash):
            c = sizes[frontier.size]
            root = frontier.root()
            sql(
                "UPDATE audit_checkpoints SET root_hash = :r, frontier = :f, note = :n WHERE id = :id",
                r=root.hex(),
                f=json.dumps([h.hex() for h in frontier.hashes]),
                n=cp.sign(forger, frontier.size, root, c.created_at),
                id=c.id,
            )


def test_an_intact_log_verifies_and_the_command_says_so(app, log):
    report = _check()
    assert report.ok and report.entries == report.tree_size and report.checkpoints >= 5
    result = app.test_cli_runner().invoke(args=["govservice", "audit", "verify", "--quiet"])
    assert result.exit_code == 0 and "OK: the log is intact" in result.output
    assert f"checked {report.entries} sealed entries" in result.output


def test_an_edited_entry_is_named(app, log):
    victim = log[17]
    sql("UPDATE audit_entries SET purpose = 'changed afterwards' WHERE id = :id", id=victim)
    report = _check()
    assert not report.ok and report.problem.kind == "edited"
    assert report.problem.entry_id == victim and report.problem.leaf_index == _entry(victim).leaf_index
    result = app.test_cli_runner().invoke(args=["govservice", "audit", "verify", "--quiet"])
    assert result.exit_code == 1 and f"FAILED: entry #{victim} " in result.output


def test_an_edited_detail_or_time_is_named_too(log):
    sql("UPDATE audit_entries SET detail = :d WHERE id = :id", d=json.dumps({"i": 99}), id=log[30])
    sql("UPDATE audit_entries SET actor_id = NULL WHERE id = :id", id=log[35])
    assert _check().problem.entry_id == log[30]


def test_an_edited_entry_with_its_leaf_hash_recomputed_is_named(log):
    victim = log[5]
    sql("UPDATE audit_entries SET subject = 'test:forged' WHERE id = :id", id=victim)
    entry = _entry(victim)
    row = db.session.execute(select(*sealer.ENTRY_COLUMNS).where(AuditEntry.id == victim)).one()
    sql(
        "UPDATE audit_entries SET leaf_hash = :h WHERE id = :id",
        h=sealer.entry_leaf(entry.leaf_index, row).hex(),
        id=victim,
    )
    report = _check()
    assert report.problem.kind == "rewritten" and report.problem.entry_id == victim


def test_a_tree_rewritten_without_the_keys_is_caught_at_the_first_changed_entry(log):
    first, later = log[9], log[33]
    sql("UPDATE audit_entries SET purpose = 'rewritten' WHERE id IN (:a, :b)", a=first, b=later)
    _rebuild_without_the_keys()
    report = _check()
    assert report.problem.kind == "rewritten" and report.problem.entry_id == first
    assert "without the key" in report.problem.message


def test_rewritten_checkpoints_fail_their_signature(log):
    """Even if the leaf HMACs passed (say the leaf key leaked), the notes are not signed by the platform."""
    _rebuild_without_the_keys(resign_all=True)  # nothing edited: same leaves, same roots, foreign signatures
    report = _check()
    assert report.problem.kind == "checkpoint" and "signed note fails" in report.problem.message


def test_a_deleted_entry_is_named_by_its_missing_leaf(log):
    gone = _entry(log[20]).leaf_index
    sql("DELETE FROM audit_entries WHERE id = :id", id=log[20])
    report = _check()
    assert report.problem.kind == "missing" and report.problem.leaf_index == gone
    assert f"leaf {gone} is missing" in report.problem.message and f"#{log[21]}" in report.problem.message


def test_an_entry_unsealed_by_hand_is_a_missing_leaf(log):
    gone = _entry(log[3]).leaf_index
    sql("UPDATE audit_entries SET leaf_index = NULL, leaf_hash = NULL, leaf_mac = NULL WHERE id = :id", id=log[3])
    assert _check().problem.leaf_index == gone


def test_reordered_entries_are_named_at_the_first_place_changed(log):
    a, b = _entry(log[11]), _entry(log[26])
    ia, ib = a.leaf_index, b.leaf_index
    sql("UPDATE audit_entries SET leaf_index = -1 WHERE id = :id", id=a.id)
    sql("UPDATE audit_entries SET leaf_index = :i WHERE id = :id", i=ia, id=b.id)
    sql("UPDATE audit_entries SET leaf_index = :i WHERE id = :id", i=ib, id=a.id)
    report = _check()
    assert report.problem.entry_id == b.id and report.problem.leaf_index == ia


def test_swapped_contents_are_named_too(log):
    a, b = _entry(log[12]), _entry(log[13])
    sql("UPDATE audit_entries SET subject = :s WHERE id = :id", s=b.subject, id=a.id)
    sql("UPDATE audit_entries SET subject = :s WHERE id = :id", s=a.subject, id=b.id)
    assert _check().problem.entry_id == a.id


def test_a_truncated_log_is_detected(log):
    last = _entry(log[-1]).leaf_index
    cut = _entry(log[-4]).leaf_index
    sql("DELETE FROM audit_entries WHERE leaf_index >= :i", i=cut)
    report = _check()
    assert report.problem.kind == "truncated" and report.problem.leaf_index == cut
    assert f"leaves {cut}..{last}" in report.problem.message


def test_a_log_cut_back_to_an_earlier_checkpoint_is_caught_by_a_checkpoint_kept_outside(app, log, tmp_path):
    kept = audit.latest_checkpoint().note
    earlier = db.session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).offset(2).limit(1)
    ).scalar_one()
    sql("DELETE FROM audit_tree_nodes WHERE ((idx + 1) << level) > :n", n=earlier.tree_size)
    sql("DELETE FROM audit_entries WHERE leaf_index >= :n", n=earlier.tree_size)
    sql("DELETE FROM audit_checkpoints WHERE tree_size > :n", n=earlier.tree_size)
    assert _check().ok  # consistent in itself: only a copy kept elsewhere can tell
    report = _check(external=[("kept", kept)])
    assert report.problem.kind == "external" and "rolled back" in report.problem.message
    path = tmp_path / "kept.txt"
    path.write_text(kept, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["govservice", "audit", "verify", "--quiet", "--checkpoint", str(path)])
    assert result.exit_code == 1 and "rolled back" in result.output


def test_checkpoints_kept_outside_that_match_are_counted(log):
    notes = [(f"#{c.tree_size}", c.note) for c in audit.checkpoints()][:3]
    report = _check(external=notes)
    assert report.ok and report.external == 3
    forged = notes[0][1].replace("\n\n", "\nextra\n\n")
    assert _check(external=[("forged", forged)]).problem.kind == "external"


def test_a_deleted_checkpoint_is_detected(log):
    latest = audit.latest_checkpoint()
    sql("DELETE FROM audit_checkpoints WHERE id = :id", id=latest.id)
    report = _check()
    assert report.problem.kind == "orphan"


def test_an_edited_checkpoint_is_detected(log):
    c = audit.checkpoints()[2]
    sql("UPDATE audit_checkpoints SET root_hash = :r WHERE id = :id", r="00" * 32, id=c.id)
    assert "differs from its signed note" in _check().problem.message
    sql(
        "UPDATE audit_checkpoints SET root_hash = :r, note = :n WHERE id = :id",
        r=c.root_hash,
        n=c.note.replace("time ", "time 1", 1),
        id=c.id,
    )
    report = _check()
    assert report.problem.kind == "checkpoint" and report.problem.tree_size == c.tree_size
    assert "signature does not verify" in report.problem.message


def test_an_edited_frontier_is_detected_and_the_sealer_will_not_build_on_it(log):
    latest = audit.latest_checkpoint()
    sql(
        "UPDATE audit_checkpoints SET frontier = :f WHERE id = :id",
        f=json.dumps(["00" * 32] * len(latest.frontier)),
        id=latest.id,
    )
    assert "frontier" in _check().problem.message


def test_an_edited_tree_node_is_detected(log):
    sql("UPDATE audit_tree_nodes SET hash = :h WHERE level = 2 AND idx = 1", h="ab" * 32)
    report = _check()
    assert report.problem.kind == "node" and report.problem.leaf_index == 4


def test_verify_streams_in_chunks(log, monkeypatch):
    """Chunks smaller than the log, and checkpoint boundaries inside chunks, give the same answer."""
    total = audit.latest_checkpoint().tree_size
    for chunk in (1, 3, 8, total, total + 1):
        report = audit.verify(chunk=chunk)
        assert report.ok and report.entries == total, chunk


def test_without_the_keys_verify_says_so(app, log, tmp_path):
    app.extensions.pop("audit_keys", None)
    app.config["INSTANCE_DIR"] = str(tmp_path)
    result = app.test_cli_runner().invoke(args=["govservice", "audit", "verify"])
    assert result.exit_code == 1 and "AUDIT_CHECKPOINT_KEY" in result.output
    assert not (tmp_path / "keys").exists()  # nothing generated by a check
