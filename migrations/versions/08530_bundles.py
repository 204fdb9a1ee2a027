"""一件事一次办: bundle applications, their members (one case each) and the files given once

Revision ID: 08530
Revises: 08520
"""

import sqlalchemy as sa
from alembic import op

revision = "08530"
down_revision = "08520"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bundle_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("form_data_enc", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"], ["persons.id"], name=op.f("fk_bundle_applications_accepted_by_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["persons.id"], name=op.f("fk_bundle_applications_applicant_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_applications")),
        sa.UniqueConstraint("applicant_id", "idempotency_key", name=op.f("uq_bundle_applications_applicant_id")),
    )
    with op.batch_alter_table("bundle_applications", schema=None) as batch_op:
        batch_op.create_index("ix_bundle_applications_applicant_id", ["applicant_id", "id"], unique=False)

    op.create_table(
        "bundle_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("material_code", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("blob_key", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundle_applications.id"], name=op.f("fk_bundle_files_bundle_id_bundle_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_files")),
    )
    with op.batch_alter_table("bundle_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bundle_files_bundle_id"), ["bundle_id"], unique=False)

    op.create_table(
        "bundle_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("waits_for", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundle_applications.id"], name=op.f("fk_bundle_members_bundle_id_bundle_applications")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_bundle_members_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_members")),
        sa.UniqueConstraint("bundle_id", "item_code", name=op.f("uq_bundle_members_bundle_id")),
        sa.UniqueConstraint("case_id", name=op.f("uq_bundle_members_case_id")),
    )


def downgrade():
    op.drop_table("bundle_members")
    with op.batch_alter_table("bundle_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bundle_files_bundle_id"))

    op.drop_table("bundle_files")
    with op.batch_alter_table("bundle_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_bundle_applications_applicant_id")

    op.drop_table("bundle_applications")
