"""自助终端: registered self-service terminals

Revision ID: 0950
Revises: 0900
"""

import sqlalchemy as sa
from alembic import op

revision = "0950"
down_revision = "0900"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kiosk_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("enrollment_hash", sa.String(length=64), nullable=True),
        sa.Column("enrollment_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("reader_key_pem", sa.Text(), nullable=True),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["service_halls.id"]),
        sa.ForeignKeyConstraint(["registered_by_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enrollment_hash"),
    )


def downgrade():
    op.drop_table("kiosk_devices")
