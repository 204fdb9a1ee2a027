"""workflow: review steps, opinions, supplement requests, notices, holidays, queue tickets,
evaluations and rectification tasks; the clock's pause and 出件 on cases (issue 5)

Revision ID: 0301
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0301"
down_revision = "0001"
branch_labels = ("workflow",)
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_stage", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paused_since", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("paused_days", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handed_over_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_handed_over_by_id_persons"), "persons", ["handed_over_by_id"], ["id"]
        )

    op.create_table(
        "case_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_steps_case_id_cases")),
        sa.ForeignKeyConstraint(["claimed_by_id"], ["persons.id"], name=op.f("fk_case_steps_claimed_by_id_persons")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["persons.id"], name=op.f("fk_case_steps_decided_by_id_persons")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_case_steps_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_steps")),
        sa.UniqueConstraint("case_id", "stage", "department_id", name=op.f("uq_case_steps_case_id")),
    )
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_steps_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_steps_department_id"), ["department_id"], unique=False)

    op.create_table(
        "case_opinions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["persons.id"], name=op.f("fk_case_opinions_author_id_persons")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_opinions_case_id_cases")),
        sa.ForeignKeyConstraint(["step_id"], ["case_steps.id"], name=op.f("fk_case_opinions_step_id_case_steps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_opinions")),
    )
    with op.batch_alter_table("case_opinions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_opinions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "supplement_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answer_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["persons.id"], name=op.f("fk_supplement_requests_answered_by_id_persons")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_supplement_requests_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["persons.id"], name=op.f("fk_supplement_requests_requested_by_id_persons")
        ),
        sa.ForeignKeyConstraint(["step_id"], ["case_steps.id"], name=op.f("fk_supplement_requests_step_id_case_steps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplement_requests")),
    )
    with op.batch_alter_table("supplement_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supplement_requests_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_documents_case_id_cases")),
        sa.ForeignKeyConstraint(["issued_by_id"], ["persons.id"], name=op.f("fk_case_documents_issued_by_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_documents")),
    )
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_documents_case_id"), ["case_id"], unique=False)

    op.create_table(
        "holidays",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["entered_by_id"], ["persons.id"], name=op.f("fk_holidays_entered_by_id_persons")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_holidays")),
    )

    op.create_table(
        "queue_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("called_by_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["called_by_id"], ["persons.id"], name=op.f("fk_queue_tickets_called_by_id_persons")),
        sa.ForeignKeyConstraint(["hall_id"], ["service_halls.id"], name=op.f("fk_queue_tickets_hall_id_service_halls")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_queue_tickets_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_tickets")),
        sa.UniqueConstraint("hall_id", "day", "seq", name=op.f("uq_queue_tickets_hall_id")),
    )
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_tickets_status"), ["status"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evaluations_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_evaluations_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["persons.id"], name=op.f("fk_evaluations_recorded_by_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("case_id", name=op.f("uq_evaluations_case_id")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_department_id"), ["department_id"], unique=False)

    op.create_table(
        "rectification_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["persons.id"], name=op.f("fk_rectification_tasks_answered_by_id_persons")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_rectification_tasks_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_rectification_tasks_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"], name=op.f("fk_rectification_tasks_evaluation_id_evaluations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_tasks")),
        sa.UniqueConstraint("evaluation_id", name=op.f("uq_rectification_tasks_evaluation_id")),
    )
    with op.batch_alter_table("rectification_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rectification_tasks_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rectification_tasks_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rectification_tasks_status"), ["status"], unique=False)


def downgrade():
    for table in (
        "rectification_tasks",
        "evaluations",
        "queue_tickets",
        "holidays",
        "case_documents",
        "supplement_requests",
        "case_opinions",
        "case_steps",
    ):
        op.drop_table(table)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_handed_over_by_id_persons"), type_="foreignkey")
        batch_op.drop_column("handed_over_by_id")
        batch_op.drop_column("handed_over_at")
        batch_op.drop_column("paused_days")
        batch_op.drop_column("paused_since")
        batch_op.drop_column("current_stage")
