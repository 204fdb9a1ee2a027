"""网上信访 / 12345 requests under the 信访工作条例"s time limits

Revision ID: 08540
Revises: 08530
"""

import sqlalchemy as sa
from alembic import op

revision = "08540"
down_revision = "08530"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "petitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("content_enc", sa.Text(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("extended_days", sa.Integer(), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_on_time", sa.Boolean(), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("publish_consent", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_petitions_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["handled_by_id"], ["persons.id"], name=op.f("fk_petitions_handled_by_id_persons")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["persons.id"], name=op.f("fk_petitions_recorded_by_id_persons")),
        sa.ForeignKeyConstraint(["requester_id"], ["persons.id"], name=op.f("fk_petitions_requester_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petitions")),
        sa.UniqueConstraint("number", name=op.f("uq_petitions_number")),
    )
    with op.batch_alter_table("petitions", schema=None) as batch_op:
        batch_op.create_index("ix_petitions_figures", ["state", "department_id", "kind", "submitted_on"], unique=False)
        batch_op.create_index(
            "ix_petitions_open_department",
            ["department_id", "state", "due", "id"],
            unique=False,
            postgresql_where=sa.text("state IN ('submitted', 'accepted')"),
            sqlite_where=sa.text("state IN ('submitted', 'accepted')"),
        )
        batch_op.create_index("ix_petitions_published", ["published_at", "id"], unique=False)
        batch_op.create_index("ix_petitions_requester_id", ["requester_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("petitions", schema=None) as batch_op:
        batch_op.drop_index("ix_petitions_requester_id")
        batch_op.drop_index("ix_petitions_published")
        batch_op.drop_index(
            "ix_petitions_open_department",
            postgresql_where=sa.text("state IN ('submitted', 'accepted')"),
            sqlite_where=sa.text("state IN ('submitted', 'accepted')"),
        )
        batch_op.drop_index("ix_petitions_figures")

    op.drop_table("petitions")
