"""a completed case keeps its working days to complete and whether it was on time

Supervision's on-time rate and average working days become sums over the figures index,
instead of joining the working calendar to every completed case (seconds at a million cases).
Existing completed cases are filled from the calendar table.

Revision ID: 0710
Revises: 0700
"""

import sqlalchemy as sa
from alembic import op

revision = "0710"
down_revision = "0700"
branch_labels = None
depends_on = None

OLD_FIGURES = [
    "state",
    "department_id",
    "submitted_at",
    "item_id",
    "channel",
    "accepted_at",
    "completed_at",
    "deadline",
    "paused_days",
]
FIGURES = ["state", "department_id", "submitted_at", "item_id", "channel", "working_days", "on_time"]


def _day(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS DATE)"
    return f"date({column}, '+8 hours')"


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("working_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("on_time", sa.Boolean(), nullable=True))
    done, accepted = _day("cases.completed_at"), _day("cases.accepted_at")
    op.execute(f"""
        UPDATE cases SET
          working_days = (SELECT c.ordinal FROM calendar_days c WHERE c.day = {done})
                       - (SELECT a.ordinal FROM calendar_days a WHERE a.day = {accepted}) - paused_days,
          on_time = ({done} <= deadline)
        WHERE state = 'completed' AND accepted_at IS NOT NULL AND completed_at IS NOT NULL
          AND deadline IS NOT NULL""")
    op.drop_index("ix_cases_figures", table_name="cases")
    op.create_index("ix_cases_figures", "cases", FIGURES)


def downgrade():
    op.drop_index("ix_cases_figures", table_name="cases")
    op.create_index("ix_cases_figures", "cases", OLD_FIGURES)
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("on_time")
        batch.drop_column("working_days")
