"""audit log without a global lock: entries are plain inserts; a sealer puts them into an
RFC 6962 Merkle tree with signed checkpoints (issue 9)

The hash chain (seq, prev_hash, hash) and the audit_head row every append locked are gone.
Existing entries keep their ids (which followed seq: both were taken under the head lock) and
are sealed, in that order, by the first sealer run after the upgrade.

Revision ID: 0610
Revises: 0500
"""

from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = "0610"
down_revision = "0500"
branch_labels = None
depends_on = None

UNSEALED = sa.text("leaf_index IS NULL")


def upgrade():
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_action")
        batch_op.drop_index("ix_audit_entries_case_id")
        batch_op.drop_constraint("uq_audit_entries_seq", type_="unique")
        batch_op.drop_column("seq")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("hash")
        batch_op.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("leaf_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("leaf_mac", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_audit_entries_leaf_index", ["leaf_index"])
    op.create_index("ix_audit_entries_action_id", "audit_entries", ["action", "id"])
    op.create_index("ix_audit_entries_actor_id_id", "audit_entries", ["actor_id", "id"])
    op.create_index("ix_audit_entries_case_id_id", "audit_entries", ["case_id", "id"])
    op.create_index("ix_audit_entries_subject_id", "audit_entries", ["subject", "id"])
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_index(
        "ix_audit_entries_unsealed", "audit_entries", ["id"], postgresql_where=UNSEALED, sqlite_where=UNSEALED
    )

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_audit_checkpoints_tree_size")),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree_nodes")),
    )


def downgrade():
    """Back to the hash chain: seq in id order, each entry's chain hash recomputed as 0001 did."""
    import hashlib
    import json

    op.drop_table("audit_tree_nodes")
    op.drop_table("audit_checkpoints")
    for name in (
        "ix_audit_entries_unsealed",
        "ix_audit_entries_at",
        "ix_audit_entries_subject_id",
        "ix_audit_entries_case_id_id",
        "ix_audit_entries_actor_id_id",
        "ix_audit_entries_action_id",
    ):
        op.drop_index(name, table_name="audit_entries")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_entries_leaf_index", type_="unique")
        batch_op.drop_column("leaf_mac")
        batch_op.drop_column("leaf_hash")
        batch_op.drop_column("leaf_index")
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    table = sa.table(
        "audit_entries",
        sa.column("id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("subject", sa.String),
        sa.column("case_id", sa.Integer),
        sa.column("purpose", sa.String),
        sa.column("detail", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    bind = op.get_bind()
    prev, seq = "0" * 64, 0
    for row in bind.execute(sa.select(table).order_by(table.c.id)).all():
        seq += 1
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        body = json.dumps(
            {
                "seq": seq,
                "at": at.isoformat(),
                "actor": row.actor_id,
                "action": row.action,
                "subject": row.subject,
                "case": row.case_id,
                "purpose": row.purpose,
                "detail": row.detail,
            },
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        )
        digest = hashlib.sha256((prev + body).encode()).hexdigest()
        bind.execute(table.update().where(table.c.id == row.id).values(seq=seq, prev_hash=prev, hash=digest))
        prev = digest

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_audit_entries_seq", ["seq"])
        batch_op.create_index("ix_audit_entries_action", ["action"], unique=False)
        batch_op.create_index("ix_audit_entries_case_id", ["case_id"], unique=False)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(
        sa.table(
            "audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("last_hash", sa.String)
        ),
        [{"id": 1, "seq": seq, "last_hash": prev}],
    )
