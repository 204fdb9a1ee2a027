"""front office: catalogue search terms and consultations, application drafts, certificates
offered as materials (免提交), pre-fill sources on cases, notices (issue 4)

Revision ID: 0201
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0201"
down_revision = "0001"
branch_labels = ("frontoffice",)
depends_on = None


def upgrade():
    op.create_table(
        "catalog_search_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["service_items.id"], name=op.f("fk_catalog_search_terms_item_id_service_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_search_terms")),
        sa.UniqueConstraint("item_id", "term", name=op.f("uq_catalog_search_terms_item_id")),
    )
    with op.batch_alter_table("catalog_search_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_search_terms_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_search_terms_term"), ["term"], unique=False)

    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("question_enc", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("public_question", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["persons.id"], name=op.f("fk_consultations_answered_by_id_persons")
        ),
        sa.ForeignKeyConstraint(["asker_id"], ["persons.id"], name=op.f("fk_consultations_asker_id_persons")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_consultations_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultations_asker_id"), ["asker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consultations_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consultations_item_code"), ["item_code"], unique=False)

    op.create_table(
        "application_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("enterprise_uscc", sa.String(length=18), nullable=True),
        sa.Column("data_enc", sa.Text(), nullable=False),
        sa.Column("certificates", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["persons.id"], name=op.f("fk_application_drafts_applicant_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["service_items.id"], name=op.f("fk_application_drafts_item_id_service_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_drafts")),
    )
    with op.batch_alter_table("application_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_drafts_applicant_id"), ["applicant_id"], unique=False)

    op.create_table(
        "case_certificate_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("material_code", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("certificate_identifier", sa.String(length=128), nullable=False),
        sa.Column("type_code", sa.String(length=64), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_certificate_materials_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_case_certificate_materials_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_certificate_materials")),
        sa.UniqueConstraint("case_id", "material_code", name=op.f("uq_case_certificate_materials_case_id")),
    )
    with op.batch_alter_table("case_certificate_materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_certificate_materials_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_certificate_materials_certificate_id"), ["certificate_id"], unique=False
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("field_sources", sa.JSON(), nullable=True))

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_status", sa.String(length=16), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_notices_case_id_cases")),
        sa.ForeignKeyConstraint(["recipient_id"], ["persons.id"], name=op.f("fk_notices_recipient_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_recipient_id"), ["recipient_id"], unique=False)

    op.create_table(
        "notice_settings",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=True),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_notice_settings_person_id_persons")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notice_settings")),
    )


def downgrade():
    op.drop_table("notice_settings")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_notices_case_id"))
    op.drop_table("notices")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("field_sources")
    with op.batch_alter_table("case_certificate_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_certificate_materials_certificate_id"))
        batch_op.drop_index(batch_op.f("ix_case_certificate_materials_case_id"))
    op.drop_table("case_certificate_materials")
    with op.batch_alter_table("application_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_drafts_applicant_id"))
    op.drop_table("application_drafts")
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultations_item_code"))
        batch_op.drop_index(batch_op.f("ix_consultations_department_id"))
        batch_op.drop_index(batch_op.f("ix_consultations_asker_id"))
    op.drop_table("consultations")
    with op.batch_alter_table("catalog_search_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_search_terms_term"))
        batch_op.drop_index(batch_op.f("ix_catalog_search_terms_item_id"))
    op.drop_table("catalog_search_terms")
