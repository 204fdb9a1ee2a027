"""the credit checks made at acceptance (失信联合惩戒) and the rule applied to each

Revision ID: 08510
Revises: 0710
"""

import sqlalchemy as sa
from alembic import op

revision = "08510"
down_revision = "0710"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "credit_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["applied_by_id"], ["persons.id"], name=op.f("fk_credit_checks_applied_by_id_persons")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_credit_checks_case_id_cases")),
        sa.ForeignKeyConstraint(["checked_by_id"], ["persons.id"], name=op.f("fk_credit_checks_checked_by_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_checks")),
    )
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.create_index("ix_credit_checks_case", ["case_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_checks_case")

    op.drop_table("credit_checks")
