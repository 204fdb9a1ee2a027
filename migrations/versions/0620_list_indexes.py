"""lists that stay fast at a million cases: each list's index for its filter and order, and the
working calendar as a table so deadlines are counted in SQL (issue 9)

Single-column indexes that a composite one now begins with are replaced by it.

Revision ID: 0620
Revises: 0500
"""

import sqlalchemy as sa
from alembic import op

revision = "0620"
down_revision = "0500"
branch_labels = None
depends_on = None

OPEN = "state IN ('submitted', 'supplement_requested', 'accepted', 'in_review', 'approved')"
TO_HAND_OVER = "state = 'completed' AND channel = 'window' AND handed_over_at IS NULL"


def upgrade():
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_index(op.f("ix_calendar_days_ordinal"), "calendar_days", ["ordinal"], unique=False)

    op.drop_index("ix_cases_applicant_id", table_name="cases")
    op.drop_index("ix_cases_state", table_name="cases")
    op.create_index("ix_cases_applicant_id_id", "cases", ["applicant_id", "id"])
    op.create_index("ix_cases_state_submitted_at", "cases", ["state", "submitted_at", "id"])
    op.create_index(
        "ix_cases_open_deadline",
        "cases",
        ["deadline", "id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_cases_to_hand_over",
        "cases",
        ["completed_at", "id"],
        postgresql_where=sa.text(TO_HAND_OVER),
        sqlite_where=sa.text(TO_HAND_OVER),
    )
    op.create_index(
        "ix_cases_figures",
        "cases",
        [
            "state",
            "department_id",
            "submitted_at",
            "item_id",
            "channel",
            "accepted_at",
            "completed_at",
            "deadline",
            "paused_days",
        ],
    )

    op.drop_index("ix_case_steps_department_id", table_name="case_steps")
    op.create_index("ix_case_steps_inbox", "case_steps", ["department_id", "status", "case_id"])

    op.drop_index("ix_application_drafts_applicant_id", table_name="application_drafts")
    op.create_index(
        "ix_application_drafts_applicant_updated", "application_drafts", ["applicant_id", "updated_at", "id"]
    )

    op.drop_index("ix_verifications_certificate_id", table_name="verifications")
    op.create_index("ix_verifications_certificate_id_id", "verifications", ["certificate_id", "id"])

    op.drop_index("ix_rectification_tasks_status", table_name="rectification_tasks")
    op.create_index("ix_rectification_tasks_status_due", "rectification_tasks", ["status", "due", "id"])

    op.drop_index("ix_evaluations_department_id", table_name="evaluations")
    op.create_index("ix_evaluations_department_rating", "evaluations", ["department_id", "rating"])


def downgrade():
    op.drop_index("ix_evaluations_department_rating", table_name="evaluations")
    op.create_index("ix_evaluations_department_id", "evaluations", ["department_id"])
    op.drop_index("ix_rectification_tasks_status_due", table_name="rectification_tasks")
    op.create_index("ix_rectification_tasks_status", "rectification_tasks", ["status"])
    op.drop_index("ix_verifications_certificate_id_id", table_name="verifications")
    op.create_index("ix_verifications_certificate_id", "verifications", ["certificate_id"])
    op.drop_index("ix_application_drafts_applicant_updated", table_name="application_drafts")
    op.create_index("ix_application_drafts_applicant_id", "application_drafts", ["applicant_id"])
    op.drop_index("ix_case_steps_inbox", table_name="case_steps")
    op.create_index("ix_case_steps_department_id", "case_steps", ["department_id"])
    for name in (
        "ix_cases_figures",
        "ix_cases_to_hand_over",
        "ix_cases_open_deadline",
        "ix_cases_state_submitted_at",
        "ix_cases_applicant_id_id",
    ):
        op.drop_index(name, table_name="cases")
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_index("ix_cases_applicant_id", "cases", ["applicant_id"])
    op.drop_index(op.f("ix_calendar_days_ordinal"), table_name="calendar_days")
    op.drop_table("calendar_days")
