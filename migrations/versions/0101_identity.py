"""identity: enterprises and agent grants, server-side sessions, staff assignment sources,
the enterprise a case was filed for

Revision ID: 0101
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0001"
branch_labels = ("identity",)
depends_on = None


def upgrade():
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("legal_representative_id", sa.Integer(), nullable=True),
        sa.Column("registry_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_representative_id"], ["persons.id"], name=op.f("fk_enterprises_legal_representative_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprises_uscc")),
    )
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprises_legal_representative_id"), ["legal_representative_id"], unique=False
        )

    op.create_table(
        "agent_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=False),
        sa.Column("all_items", sa.Boolean(), nullable=False),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["persons.id"], name=op.f("fk_agent_grants_agent_id_persons")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_agent_grants_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(["granted_by_id"], ["persons.id"], name=op.f("fk_agent_grants_granted_by_id_persons")),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["persons.id"], name=op.f("fk_agent_grants_revoked_by_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_grants")),
    )
    with op.batch_alter_table("agent_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_grants_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_grants_enterprise_id"), ["enterprise_id"], unique=False)

    op.create_table(
        "web_sessions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_sessions_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("staff_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=64), server_default="admin", nullable=False))
        batch_op.add_column(sa.Column("granted_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("granted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_staff_assignments_granted_by_id_persons"), "persons", ["granted_by_id"], ["id"]
        )

    # The enterprise a case was filed for (a person acting for it: 法定代表人 or 经办人).
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enterprise_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_enterprise_id_enterprises"), "enterprises", ["enterprise_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_enterprise_id_enterprises"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cases_enterprise_id"))
        batch_op.drop_column("enterprise_id")

    with op.batch_alter_table("staff_assignments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_staff_assignments_granted_by_id_persons"), type_="foreignkey")
        batch_op.drop_column("granted_at")
        batch_op.drop_column("granted_by_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_person_id"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))
    op.drop_table("web_sessions")

    with op.batch_alter_table("agent_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_grants_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_agent_grants_agent_id"))
    op.drop_table("agent_grants")

    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprises_legal_representative_id"))
    op.drop_table("enterprises")
