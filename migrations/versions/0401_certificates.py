"""certificates: lifecycle (version, supersession, suspension), events, consent grants,
partner clients and tokens, richer verification log

Revision ID: 0401
Revises: 0101
Create Date: 2026-11-23 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0401"
# Builds on the identity branch: holder_enterprise_id refers to its enterprises table.
down_revision = "0101"
branch_labels = ("certificates",)
depends_on = None


def upgrade():
    op.create_table(
        "partner_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("organisation", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("secret_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["persons.id"], name=op.f("fk_partner_clients_created_by_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_partner_clients_client_id")),
    )
    op.create_table(
        "partner_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["partner_clients.id"], name=op.f("fk_partner_tokens_client_pk_partner_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_partner_tokens_token_hash")),
    )
    with op.batch_alter_table("partner_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_tokens_client_pk"), ["client_pk"], unique=False)

    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_enterprise_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_certificates_supersedes_id"), ["supersedes_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certificates_holder_enterprise_id"), ["holder_enterprise_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_holder_enterprise_id_enterprises"),
            "enterprises",
            ["holder_enterprise_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_supersedes_id_certificates"), "certificates", ["supersedes_id"], ["id"]
        )
    # the default was only for rows issued before this revision (all first versions)
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)

    op.create_table(
        "certificate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["persons.id"], name=op.f("fk_certificate_events_actor_id_persons")),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"], name=op.f("fk_certificate_events_certificate_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_events")),
    )
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_events_certificate_id"), ["certificate_id"], unique=False)

    op.create_table(
        "consent_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=255), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"], name=op.f("fk_consent_grants_certificate_id_certificates")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["partner_clients.id"], name=op.f("fk_consent_grants_client_id_partner_clients")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"], ["persons.id"], name=op.f("fk_consent_grants_granted_by_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_grants")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_consent_grants_code_hash")),
    )
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_grants_certificate_id"), ["certificate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_grants_client_id"), ["client_id"], unique=False)

    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action", sa.String(length=16), nullable=False, server_default="verify"))
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("consent_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_verifications_client_id"), ["client_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_verifications_client_id_partner_clients"), "partner_clients", ["client_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_verifications_consent_id_consent_grants"), "consent_grants", ["consent_id"], ["id"]
        )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.alter_column("action", server_default=None)


def downgrade():
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_verifications_consent_id_consent_grants"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_verifications_client_id_partner_clients"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_verifications_client_id"))
        batch_op.drop_column("consent_id")
        batch_op.drop_column("client_id")
        batch_op.drop_column("reason")
        batch_op.drop_column("action")
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_grants_client_id"))
        batch_op.drop_index(batch_op.f("ix_consent_grants_certificate_id"))
    op.drop_table("consent_grants")
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_events_certificate_id"))
    op.drop_table("certificate_events")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_certificates_supersedes_id_certificates"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_certificates_supersedes_id"))
        batch_op.drop_column("status_reason")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("version")
        batch_op.drop_constraint(batch_op.f("fk_certificates_holder_enterprise_id_enterprises"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_certificates_holder_enterprise_id"))
        batch_op.drop_column("holder_enterprise_id")
    with op.batch_alter_table("partner_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_tokens_client_pk"))
    op.drop_table("partner_tokens")
    op.drop_table("partner_clients")
