"""电子监察 cards: yellow and red cards issued to departments, 督办 and the replies

Revision ID: 08520
Revises: 08510
"""

import sqlalchemy as sa
from alembic import op

revision = "08520"
down_revision = "08510"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "supervision_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("urge_note", sa.Text(), nullable=True),
        sa.Column("reply_due", sa.Date(), nullable=True),
        sa.Column("urged_by_id", sa.Integer(), nullable=True),
        sa.Column("urged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by_id", sa.Integer(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_supervision_cards_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_supervision_cards_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["service_items.id"], name=op.f("fk_supervision_cards_item_id_service_items")
        ),
        sa.ForeignKeyConstraint(
            ["replied_by_id"], ["persons.id"], name=op.f("fk_supervision_cards_replied_by_id_persons")
        ),
        sa.ForeignKeyConstraint(["urged_by_id"], ["persons.id"], name=op.f("fk_supervision_cards_urged_by_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_cards")),
        sa.UniqueConstraint("reason", "subject_id", name="uq_supervision_cards_reason_subject"),
    )
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_cards_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_supervision_cards_department_issued", ["department_id", "issued_on", "id"], unique=False
        )
        batch_op.create_index("ix_supervision_cards_issued", ["issued_on", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        batch_op.drop_index("ix_supervision_cards_issued")
        batch_op.drop_index("ix_supervision_cards_department_issued")
        batch_op.drop_index(batch_op.f("ix_supervision_cards_case_id"))

    op.drop_table("supervision_cards")
